"""Showing the method's bilingual ``Text`` through Django's translation machinery."""

from django.utils.functional import lazy
from django.utils.translation import get_language

from kam.method.types import Text


def in_language(text: Text) -> str:
    """The text in the language of the current request (English outside one)."""
    return text.get(get_language() or "en")


text_lazy = lazy(in_language, str)
"""A lazy string for a ``Text``: model choices and labels resolve it per request."""


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


def person_name(user) -> str:
    """How a person is called on a page: 王伟 for Chinese names, Wei Wang otherwise.

    Chinese names put the family name first with no space, whatever the page's
    language; a user without a name is shown by their user name.
    """
    first = (user.first_name or "").strip()
    last = (user.last_name or "").strip()
    if not (first or last):
        return user.get_username()
    if _has_cjk(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()
