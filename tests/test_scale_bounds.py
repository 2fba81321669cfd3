"""At scale, no list loads more than it shows and nothing builds an ``IN`` list or an
``OR`` chain that grows with the data.

One team's buying centers hold 2,100 contacts (one account, 300 deals of seven people
each, a friendship row per contact, 600 activities with the people met). SQLite refuses
an expression deeper than 1,000 terms (``OperationalError: Expression tree is too
large``), which is what a prefetch over every deal's people builds in Django 5.2: every
list page, every API list, every export (download and ``kam export``), the funnel, the
forecast and ``kam forecast`` must answer as a rep, a manager and the admin.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from kam.exports.rows import KINDS
from kam.org.models import Membership
from kam.sales.models import (
    Account,
    Activity,
    BuyingCenterEntry,
    Contact,
    Familiarity,
    Lead,
    OffFunnelOrder,
    Opportunity,
    Target,
)

pytestmark = pytest.mark.django_db

CONTACTS = 2100
DEALS = 300
PEOPLE_PER_DEAL = CONTACTS // DEALS
ACTIVITIES = 600
TODAY = dt.date.today()

PAGES = (
    "accounts:list",
    "accounts:pareto",
    "leads:list",
    "opportunities:list",
    "activities:list",
    "history:bin",
)
API_LISTS = (
    "leads",
    "accounts",
    "contacts",
    "opportunities",
    "activities",
    "off-funnel-orders",
    "targets",
)


@pytest.fixture
def world(rep, manager, admin, teams):
    north = teams["north"]
    account = Account.objects.create(name="大型化工集团", owner=rep, team=north)
    contacts = Contact.objects.bulk_create(
        Contact(account=account, name=f"联系人{i:04d}", title="工程师") for i in range(CONTACTS)
    )
    deals = Opportunity.objects.bulk_create(
        Opportunity(
            account=account,
            name=f"项目{i:03d}",
            amount=Decimal(100000 + i),
            stage=1 + i % 5,
            expected_close=TODAY + dt.timedelta(days=30 + i % 90),
            owner=rep,
            team=north,
        )
        for i in range(DEALS)
    )
    BuyingCenterEntry.objects.bulk_create(
        BuyingCenterEntry(
            opportunity=deals[i // PEOPLE_PER_DEAL],
            contact=contact,
            decision_maker=i % PEOPLE_PER_DEAL == 0,
            technical=i % PEOPLE_PER_DEAL == 1,
            insider=i % PEOPLE_PER_DEAL == 2,
        )
        for i, contact in enumerate(contacts)
    )
    Familiarity.objects.bulk_create(
        Familiarity(contact=c, user=rep, strength=1 + i % 3) for i, c in enumerate(contacts)
    )
    activities = Activity.objects.bulk_create(
        Activity(
            kind="visit",
            on=TODAY - dt.timedelta(days=i % 300),
            account=account,
            opportunity=deals[i % DEALS],
            owner=rep,
            team=north,
            next_on=TODAY + dt.timedelta(days=i % 20),
            next_pretext="送样品",
        )
        for i in range(ACTIVITIES)
    )
    Activity.contacts.through.objects.bulk_create(
        Activity.contacts.through(activity=a, contact=contacts[(i * 7) % CONTACTS])
        for i, a in enumerate(activities)
    )
    Lead.objects.bulk_create(
        Lead(name=f"线索{i}", company=f"公司{i}", source="trade_show", owner=rep, team=north)
        for i in range(60)
    )
    OffFunnelOrder.objects.bulk_create(
        OffFunnelOrder(account=account, amount=Decimal(1000), on=TODAY, owner=rep, team=north)
        for _ in range(60)
    )
    Target.objects.create(
        team=north,
        start=dt.date(TODAY.year, 1, 1),
        end=dt.date(TODAY.year, 12, 31),
        amount=Decimal(10**7),
    )
    Membership.objects.get_or_create(user=admin, team=north, defaults={"role": "manager"})
    return account


@pytest.fixture(params=["rep", "manager", "admin"])
def who(request, rep, manager, admin):
    return {"rep": rep, "manager": manager, "admin": admin}[request.param]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _bounded(response) -> None:
    pagination = (response.context or {}).get("pagination") if response.context else None
    if pagination is not None:
        assert len(pagination.rows) <= 50


def test_every_list_page_answers(world, who):
    client = _client(who)
    urls = [reverse(name) for name in PAGES]
    urls.append(reverse("history:record", args=("sales", "account", world.pk)))
    if who.is_superuser:
        urls += [reverse("settings:people"), reverse("settings:targets")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _bounded(response)


def test_every_record_page_answers(world, who):
    """My day and the pages of one account, one of its 2,100 contacts and one deal."""
    client = _client(who)
    deal = Opportunity.objects.filter(account=world).order_by("pk").first()
    contact = world.contacts.order_by("pk").first()
    for url in (
        reverse("web:home"),
        reverse("accounts:detail", args=[world.pk]),
        reverse("accounts:contact", args=[contact.pk]),
        reverse("opportunities:detail", args=[deal.pk]),
        reverse("opportunities:buying_center", args=[deal.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_every_download_answers(world, who):
    client = _client(who)
    for kind in KINDS:
        for fmt in ("csv", "xlsx"):
            response = client.get(reverse("imports:export", args=(kind, fmt)))
            assert response.status_code == 200, (kind, fmt)
            body = b"".join(response.streaming_content)
            assert body, (kind, fmt)
    lines = b"".join(
        client.get(reverse("imports:export", args=("contacts", "csv"))).streaming_content
    )
    assert lines.decode("utf-8-sig").count("\n") == CONTACTS + 1


def test_every_api_list_answers(world, who):
    client = _client(who)
    for path in API_LISTS:
        response = client.get(f"/api/v1/{path}")
        assert response.status_code == 200, path
        data = response.json()
        assert len(data["items"]) <= 50 and "count" in data, path
    assert client.get("/api/v1/contacts?limit=500").json()["count"] == CONTACTS


def test_kam_export_writes_every_kind(world, who, tmp_path):
    for kind in KINDS:
        out = tmp_path / f"{kind}.csv"
        call_command("export", kind, "--user", who.username, "-o", str(out), stderr=io.StringIO())
        assert out.stat().st_size > 0, kind
    call_command(
        "export",
        "opportunities",
        "--user",
        who.username,
        "--format",
        "xlsx",
        "-o",
        str(tmp_path / "deals.xlsx"),
        stderr=io.StringIO(),
    )


def test_the_funnel_page_answers(world, who):
    assert _client(who).get(reverse("funnel:index")).status_code == 200


def test_the_funnel_and_forecast_api_answer(world, who):
    client = _client(who)
    assert client.get("/api/v1/funnel").status_code == 200
    assert client.get("/api/v1/forecast").status_code == 200


def test_kam_forecast_answers(world, who):
    call_command("forecast", "--user", who.username, stdout=io.StringIO())
