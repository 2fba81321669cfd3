"""Showing the method's bilingual ``Text`` through Django's translation machinery."""

from django.utils.functional import lazy
from django.utils.translation import get_language

from kam.method.types import Text


def in_language(text: Text) -> str:
    """The text in the language of the current request (English outside one)."""
    return text.get(get_language() or "en")


text_lazy = lazy(in_language, str)
"""A lazy string for a ``Text``: model choices and labels resolve it per request."""
