"""Pages of a list: no list page loads more rows than it shows.

``paginate(request, queryset)`` cuts a queryset into pages of ``settings.PAGE_SIZE``
(``KAM_PAGE_SIZE``, 50 by default) with Django's ``Paginator``: one ``COUNT`` and one
query for the page's rows, whatever the number of records. Prefetches given here run
on the page's rows only (``prefetch_related_objects`` after slicing), so an ``IN``
list or an ``OR`` chain never grows beyond one page, which SQLite's expression-depth
limit (1,000) would otherwise refuse once a list is large.

The template ``kam/includes/_pagination.html`` shows the links (previous, next,
page N of M, the total count); they keep the list's filters in the query string.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import prefetch_related_objects

PAGE_PARAM = "page"


def page_size() -> int:
    return max(1, int(getattr(settings, "PAGE_SIZE", 50)))


@dataclass(frozen=True)
class Pagination:
    """One page of a list, and the links to its neighbours with the same filters."""

    page: Page
    param: str
    query: object  # the request's QueryDict

    @property
    def rows(self) -> list:
        return self.page.object_list

    @property
    def count(self) -> int:
        return self.page.paginator.count

    @property
    def number(self) -> int:
        return self.page.number

    @property
    def pages(self) -> int:
        return self.page.paginator.num_pages

    @property
    def several(self) -> bool:
        return self.pages > 1

    def url(self, number: int) -> str:
        query = self.query.copy()
        query[self.param] = str(number)
        return "?" + query.urlencode()

    @property
    def first_url(self) -> str:
        return self.url(1)

    @property
    def last_url(self) -> str:
        return self.url(self.pages)

    @property
    def previous_url(self) -> str | None:
        return self.url(self.page.previous_page_number()) if self.page.has_previous() else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.page.next_page_number()) if self.page.has_next() else None


def paginate(
    request, queryset, *, prefetch=(), param: str = PAGE_PARAM, per_page: int | None = None
) -> Pagination:
    """The page of ``queryset`` that ``request`` asks for (``?page=N``; a page number
    out of range or not a number gives the nearest page), its rows loaded as a list
    with ``prefetch`` done on them only."""
    paginator = Paginator(queryset, per_page or page_size(), allow_empty_first_page=True)
    page = paginator.get_page(request.GET.get(param))
    rows = list(page.object_list)
    if prefetch:
        prefetch_related_objects(rows, *prefetch)
    page.object_list = rows
    return Pagination(page, param, request.GET)
