from django import template
from django.utils.translation import get_language

from kam.method.types import Text

register = template.Library()


@register.filter
def in_language(text: Text) -> str:
    """Show a bilingual ``Text`` from the method in the language of the request."""
    return text.get(get_language() or "en")
