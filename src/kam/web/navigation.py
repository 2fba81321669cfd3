"""The main sections of KAM, as the layout's navigation shows them."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    """A main section: the URL name of its first page, its label, who may open it."""

    url_name: str
    label: str | Promise
    admin_only: bool = False


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str | Promise
    current: bool


# The order a sales rep's week follows. A section whose URL name is not routed yet
# is left out, so the layout never links to a page that does not exist: adding a
# section's urls under this name is all it takes to show it.
SECTIONS = (
    Section("web:home", _("My day")),
    Section("leads:list", _("Leads")),
    Section("accounts:list", _("Accounts")),
    Section("opportunities:list", _("Opportunities")),
    Section("activities:list", _("Activities")),
    Section("funnel:index", _("Funnel")),
    Section("imports:index", _("Import")),
    Section("settings:index", _("Settings"), admin_only=True),
)


def sections_for(request, sections=SECTIONS) -> list[NavItem]:
    """The sections the request's user may open and that exist, the current one marked.

    A section is current when the request's path is its URL or lies below it
    (the home page only for itself).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = []
    for section in sections:
        if section.admin_only and not user.is_superuser:
            continue
        try:
            url = reverse(section.url_name)
        except NoReverseMatch:
            continue
        current = request.path == url or (url != "/" and request.path.startswith(url))
        items.append(NavItem(url=url, label=section.label, current=current))
    return items
