"""The daily mix, page by page: every page and API call of an ordinary day, timed
in-process for a rep, a manager of three teams and the admin.

For each (user, URL): the response must be 200; the figure is the median of 5
requests (after one untimed) through ``django.test.Client``, the note the
number of SQL queries one request makes. A page passes when it answers within
100 ms and its query count is constant: the same URL on a second record (page 2
of a list, the next opportunity or account, the previous quarter of the funnel,
a second user of the same role for My day) must make exactly as many queries
(not counting the bearer token's ``last_used`` update, made once a minute). A
page that takes over 2 s once is not repeated; one that takes over 60 s is stopped.

Runs on a copy of the data (signing in and the API token write to the database),
with the static files collected as ``kam serve`` does (the hashed manifest).

    .venv/bin/python bench/pages.py --preset small
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ADMIN, MANAGER, REP, Result, best_of, copy_of, data_dir, setup_django

LIMIT = 0.100
TARGET = "<= 100 ms, constant queries"
REPEAT = 5
# A page slower than this once is timed once only.
SLOW = 2.0
# ... and stopped (SIGALRM) when it takes longer than this.
GIVE_UP = 60.0
# A second user of the same role, whose My day must cost as many queries.
TWINS = {REP: "rep002", MANAGER: "mgr02"}


@dataclass
class Page:
    name: str
    url: str
    # The same URL on a second record or page; None when there is none to compare.
    twin_url: str | None
    api: bool = False
    # Ask as another user (of the same role) for the twin, instead of another URL.
    twin_user: str | None = None
    why_no_twin: str = ""


def _previous_quarter(today) -> str:
    """The label of the fiscal quarter before ``today``'s (e.g. ``2026-Q3``)."""
    import datetime as dt

    from kam.org.models import CompanySettings
    from kam.sales import insights
    from kam.web.sections.funnel import quarter_label

    fiscal = CompanySettings.load().fiscal_year_start_month
    this = insights.current_quarter(today, fiscal_start_month=fiscal)
    return quarter_label(this.start - dt.timedelta(days=1), fiscal_start_month=fiscal)


def _contacts_list_url() -> str | None:
    """The contacts list, under whichever name it is routed (None when it is not)."""
    from django.urls import NoReverseMatch, reverse

    for name in ("contacts:list", "accounts:contacts", "accounts:contact_list"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def pages_for(user) -> list[Page]:
    """The daily mix for ``user``, on the first (and second) records they see."""
    from django.urls import reverse
    from django.utils import timezone

    from kam.org.scoping import visible
    from kam.sales.models import Account, Opportunity, Outcome

    deals = list(
        visible(user, Opportunity.objects.filter(outcome=Outcome.OPEN))
        .order_by("pk")
        .values_list("pk", flat=True)[:2]
    )
    accounts = list(
        visible(user, Account.objects.all()).order_by("pk").values_list("pk", flat=True)[:2]
    )
    assert len(deals) == 2 and len(accounts) == 2, f"{user}: too few records to compare"
    first, second = deals
    quarter = _previous_quarter(timezone.localdate())
    twin = TWINS.get(user.username)

    def detail(name, pk):
        return reverse(name, args=[pk])

    pages = [
        Page(
            "My day",
            "/",
            None,
            twin_user=twin,
            why_no_twin="" if twin else "no second user of this role to compare",
        ),
        Page("opportunities", "/opportunities/", "/opportunities/?page=2"),
        Page(
            "opportunities filtered",
            "/opportunities/?outcome=open&grade=A",
            "/opportunities/?outcome=open&grade=A&page=2",
        ),
        Page(
            "opportunity",
            detail("opportunities:detail", first),
            detail("opportunities:detail", second),
        ),
        Page(
            "buying center",
            detail("opportunities:buying_center", first),
            detail("opportunities:buying_center", second),
        ),
        Page("accounts", reverse("accounts:list"), reverse("accounts:list") + "?page=2"),
        Page(
            "account",
            detail("accounts:detail", accounts[0]),
            detail("accounts:detail", accounts[1]),
        ),
    ]
    contacts = _contacts_list_url()
    if contacts:
        pages.append(Page("contacts", contacts, contacts + "?page=2"))
    else:
        pages.append(Page("contacts", "", None, why_no_twin="no contacts list is routed"))
    pages += [
        Page("leads", reverse("leads:list"), reverse("leads:list") + "?page=2"),
        Page("activities", reverse("activities:list"), reverse("activities:list") + "?page=2"),
        Page("funnel", reverse("funnel:index"), reverse("funnel:index") + f"?period={quarter}"),
        Page(
            "funnel xlsx",
            reverse("funnel:export"),
            reverse("funnel:export") + f"?period={quarter}",
        ),
        Page(
            "api opportunities",
            "/api/v1/opportunities",
            "/api/v1/opportunities?offset=50",
            api=True,
        ),
        Page("api accounts", "/api/v1/accounts", "/api/v1/accounts?offset=50", api=True),
        Page(
            "api funnel",
            "/api/v1/funnel",
            None,
            api=True,
            twin_user=twin,
            why_no_twin="" if twin else "no second user of this role to compare",
        ),
        Page("api forecast", "/api/v1/forecast", f"/api/v1/forecast?period={quarter}", api=True),
        Page(
            "api coach",
            f"/api/v1/opportunities/{first}/coach",
            f"/api/v1/opportunities/{second}/coach",
            api=True,
        ),
    ]
    return pages


class Caller:
    """A signed-in test client and a bearer token for one user."""

    def __init__(self, user):
        from django.test import Client

        from kam.api.models import Token

        self.client = Client(raise_request_exception=True)
        self.client.force_login(user)
        _token, secret = Token.issue(user, f"bench-pages-{os.getpid()}")
        self.bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def get(self, page: Page, url: str):
        return self.client.get(url, **(self.bearer if page.api else {}))


_TOKEN_TOUCH = re.compile(r'UPDATE "api_token" SET "last_used"')


class TooSlow(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float):
    """Stops the request in hand (in this, the main thread) after ``seconds``."""

    def give_up(signum, frame):
        raise TooSlow()

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _queries(caller: Caller, page: Page, url: str) -> tuple[int, int]:
    """(status, number of queries) of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with _deadline(GIVE_UP), CaptureQueriesContext(connection) as captured:
        response = caller.get(page, url)
    # A token's ``last_used`` is written at most once a minute: not part of the page.
    queries = [q for q in captured.captured_queries if not _TOKEN_TOUCH.match(q["sql"])]
    return response.status_code, len(queries)


def measure(caller: Caller, twins: dict, page: Page, who: str) -> Result:
    name = f"page {page.name}"
    if not page.url:
        return Result(name, who, None, TARGET, False, note=page.why_no_twin)
    started = time.perf_counter()
    try:
        status, queries = _queries(caller, page, page.url)
    except TooSlow:
        return Result(name, who, None, TARGET, False, note=f"stopped after {GIVE_UP:.0f} s")
    first = time.perf_counter() - started
    if status != 200:
        return Result(name, who, None, TARGET, False, note=f"HTTP {status} for {page.url}")
    note = f"{queries} queries"
    if first > SLOW:
        # Far beyond the target: one request says enough, repeating it would take long.
        seconds = first
        note += " (one request: too slow to repeat)"
    else:
        seconds = best_of(lambda: caller.get(page, page.url), repeat=REPEAT)
    constant = True
    try:
        if page.twin_user:
            other = f"{page.twin_user}'s"
            twin_status, twin_queries = _queries(twins[page.twin_user], page, page.url)
        elif page.twin_url:
            other = page.twin_url
            twin_status, twin_queries = _queries(caller, page, page.twin_url)
    except TooSlow:
        twin_status, twin_queries = None, None
        constant = False
        note += f"; {other} stopped after {GIVE_UP:.0f} s"
    if not (page.twin_user or page.twin_url):
        twin_status, twin_queries, other = None, None, ""
        note += f" ({page.why_no_twin})"
    if twin_status is not None:
        if twin_status != 200:
            constant = False
            note += f"; HTTP {twin_status} for {other}"
        elif twin_queries != queries:
            constant = False
            note += f"; {twin_queries} on {other}"
    return Result(name, who, seconds, TARGET, seconds <= LIMIT and constant, note=note)


def run(data: Path) -> list[Result]:
    workdir = tempfile.TemporaryDirectory(prefix="kam-bench-pages-")
    copy = copy_of(data, Path(workdir.name) / "data")
    # The test client's host; the settings read it from the environment.
    os.environ["KAM_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["KAM_DEBUG"] = "0"
    os.environ.pop("DATABASE_URL", None)
    setup_django(copy)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    # A cached data set may predate a migration that adds no data (an index).
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    users = get_user_model().objects
    results = []
    try:
        for username in (REP, MANAGER, ADMIN):
            user = users.get(username=username)
            caller = Caller(user)
            twins = {
                name: Caller(users.get(username=name))
                for name in {TWINS.get(username)} - {None}
                if users.filter(username=name).exists()
            }
            for page in pages_for(user):
                if page.twin_user and page.twin_user not in twins:
                    page.twin_user, page.why_no_twin = None, f"no {page.twin_user} to compare"
                results.append(measure(caller, twins, page, username))
    finally:
        from django.db import connections

        connections.close_all()
        workdir.cleanup()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--data", type=Path, help="this data directory instead of the preset's")
    args = parser.parse_args()
    results = run(args.data or data_dir(args.preset))
    from run import print_table

    print_table(results)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
