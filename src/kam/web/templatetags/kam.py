from django import template

from kam.web.i18n import in_language, person_name
from kam.web.navigation import sections_for

register = template.Library()
register.filter("in_language", in_language)
register.filter("person_name", person_name)


@register.simple_tag(takes_context=True)
def kam_sections(context):
    """``{% kam_sections as sections %}``: the navigation items for this request."""
    request = context.get("request")
    return sections_for(request) if request is not None else []
