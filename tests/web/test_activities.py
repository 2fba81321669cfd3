"""The activities pages: logging a visit with its cost, people and the pretext for the
next one; the agenda of coming visits, overdue first; the list with filters."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.sales import actions
from kam.sales.models import Activity
from tests.sales import factories as f
from tests.sales.factories import PAGE, TODAY

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-CN"}


@pytest.fixture
def account(rep):
    return f.account(rep)


@pytest.fixture
def person(rep, account):
    return f.contact(rep, account, name="张总工")


def visit(user, account, *contacts, on=TODAY, **fields):
    return actions.log_activity(
        account=account,
        kind="visit",
        on=on,
        contacts=contacts,
        acting_user=user,
        source=PAGE,
        **fields,
    )


def test_the_pages_send_an_anonymous_visitor_to_sign_in(client):
    for url in (reverse("activities:list"), reverse("activities:new")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_sees_none_of_the_reps_activities(client, rep, outsider, account, person):
    visit(rep, account, person, notes="秘密备注", next_on=TODAY, next_pretext="送样品")
    client.force_login(outsider)

    body = client.get(reverse("activities:list")).content.decode()

    assert account.name not in body and "送样品" not in body
    form = client.get(reverse("activities:new"), {"account": account.pk}).content.decode()
    assert account.name not in form


def test_the_rep_sees_the_pages_in_chinese_and_in_english(client, rep, account, person):
    visit(rep, account, person)
    client.force_login(rep)

    for url in (reverse("activities:list"), reverse("activities:new")):
        zh = client.get(url, headers=ZH)
        en = client.get(url, headers=EN)
        assert zh.status_code == en.status_code == 200
    assert "拜访" in client.get(reverse("activities:list"), headers=ZH).content.decode()
    assert (
        "Pretext for the next visit"
        in client.get(reverse("activities:new"), headers=EN).content.decode()
    )


def test_a_visit_is_logged_with_cost_people_and_the_next_visit(
    client, rep, teammate, account, person
):
    client.force_login(rep)

    response = client.post(
        reverse("activities:new"),
        {
            "kind": "visit",
            "on": TODAY.isoformat(),
            "account": account.pk,
            "contacts": [person.pk],
            "participants": [teammate.pk],
            "cost": "350.00",
            "notes": "谈了技术指标",
            "next_step": "送样",
            "next_pretext": "送检测报告",
            "next_on": (TODAY + dt.timedelta(days=7)).isoformat(),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:detail", args=[account.pk])
    activity = Activity.objects.get()
    assert activity.cost == Decimal("350.00") and activity.next_pretext == "送检测报告"
    assert list(activity.contacts.all()) == [person]
    assert list(activity.participants.all()) == [teammate]


def test_errors_are_shown_next_to_the_field_and_the_input_is_kept(client, rep, account):
    client.force_login(rep)

    response = client.post(
        reverse("activities:new"),
        {
            "kind": "visit",
            "on": TODAY.isoformat(),
            "account": account.pk,
            "notes": "保留这段备注",
            "next_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        },
        headers=ZH,
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_next_on_error"' in body and "下次拜访不能早于本次" in body
    assert "保留这段备注" in body
    assert not Activity.objects.exists()


def test_the_agenda_lists_overdue_visits_first_then_the_coming_ones(client, rep, account, person):
    other = f.contact(rep, account, name="李采购")
    visit(
        rep,
        account,
        person,
        on=TODAY - dt.timedelta(days=30),
        next_on=TODAY + dt.timedelta(days=5),
        next_pretext="演示新设备",
    )
    visit(
        rep,
        account,
        other,
        on=TODAY - dt.timedelta(days=30),
        next_on=TODAY - dt.timedelta(days=4),
        next_pretext="回访报价",
    )
    client.force_login(rep)

    body = client.get(reverse("activities:list"), headers=EN).content.decode()

    agenda = body.split("Coming visits")[1].split("All activities")[0]
    assert agenda.index("回访报价") < agenda.index("演示新设备")
    assert "4 days overdue" in agenda


def test_a_visit_kept_leaves_the_agenda(client, rep, account, person):
    visit(
        rep,
        account,
        person,
        on=TODAY - dt.timedelta(days=30),
        next_on=TODAY - dt.timedelta(days=4),
        next_pretext="回访报价",
    )
    visit(rep, account, person, on=TODAY - dt.timedelta(days=2))
    client.force_login(rep)

    body = client.get(reverse("activities:list"), headers=EN).content.decode()

    assert "回访报价" not in body.split("Coming visits")[1].split("All activities")[0]


def test_the_list_filters_by_kind_and_dates(client, rep, account):
    visit(rep, account, notes="拜访记录", on=TODAY - dt.timedelta(days=40))
    actions.log_activity(
        account=account,
        kind="gift",
        on=TODAY,
        notes="礼品记录",
        acting_user=rep,
        source=PAGE,
        cost=Decimal(200),
    )
    client.force_login(rep)

    def table(**params):
        return client.get(
            reverse("activities:list"), params, headers={"HX-Request": "true"}
        ).content.decode()

    gifts = table(kind="gift")
    assert "礼品记录" in gifts and "拜访记录" not in gifts
    recent = table(start=(TODAY - dt.timedelta(days=7)).isoformat())
    assert "礼品记录" in recent and "拜访记录" not in recent
    assert "<html" not in table()


def test_the_list_costs_the_same_queries_for_2_or_20_activities(client, rep, account, person):
    client.force_login(rep)

    def cost(n):
        Activity.objects.all().delete()
        for i in range(n):
            visit(
                rep,
                account,
                person,
                on=TODAY - dt.timedelta(days=i),
                next_on=TODAY + dt.timedelta(days=i),
                next_pretext=f"借口{i}",
            )
        counts = []
        for url in (reverse("activities:list"), reverse("activities:new")):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx))
        return counts

    cost(1)
    assert cost(2) == cost(20)


def _agenda_by_account(user):
    """``agenda.planned_visits`` over every activity the user sees, account by account."""
    from collections import defaultdict

    from kam.method import agenda
    from kam.org.scoping import visible
    from kam.sales.models import activity_to_method

    per_account = defaultdict(list)
    for a in visible(user, Activity.objects.prefetch_related("contacts")):
        per_account[a.account_id].append(activity_to_method(a))
    plan = [p for acts in per_account.values() for p in agenda.planned_visits(acts, today=TODAY)]
    plan.sort(key=lambda p: (not p.overdue, p.on, p.activity.id))
    return [(p.activity.id, p.on, p.days_late) for p in plan]


def test_the_page_and_the_methods_agenda_agree_on_which_visits_are_kept(rep, account, person):
    from kam.web.sections.activities import coming_visits

    other = f.contact(rep, account, name="李采购")
    second = f.account(rep)
    boss = f.contact(rep, second, name="王总")
    day = dt.timedelta(days=1)
    # Kept by a later visit to the same person; not kept by a call, nor by a visit to
    # someone else; a promise naming nobody is kept by any later visit of its account
    # only.
    visit(rep, account, person, on=TODAY - 40 * day, next_on=TODAY - 30 * day)
    visit(rep, account, person, on=TODAY - 20 * day, next_on=TODAY - 10 * day)
    actions.log_activity(
        account=account, kind="call", on=TODAY - 5 * day, contacts=[person],
        acting_user=rep, source=PAGE,
    )  # fmt: skip
    visit(rep, account, other, on=TODAY - 4 * day, next_on=TODAY + 3 * day)
    visit(rep, account, on=TODAY - 50 * day, next_on=TODAY - 45 * day)
    visit(rep, second, on=TODAY - 60 * day, next_on=TODAY - 50 * day)
    visit(rep, second, boss, on=TODAY - 30 * day, next_on=TODAY + 20 * day)
    visit(rep, second, boss, on=TODAY - 35 * day, next_on=TODAY - 33 * day)

    page = [
        (p["visit"].activity.id, p["visit"].on, p["visit"].days_late)
        for p in coming_visits(rep, on=TODAY)
    ]

    assert page == _agenda_by_account(rep)
    assert len(page) == 3
    assert len(coming_visits(rep, on=TODAY, rows=2)) == 2


def test_the_agenda_costs_the_same_queries_for_2_or_20_accounts(client, rep, person):
    client.force_login(rep)

    def cost(n):
        Activity.objects.all().delete()
        for i in range(n):
            account = f.account(rep)
            who = f.contact(rep, account, name=f"联系人{i}")
            visit(rep, account, who, on=TODAY - dt.timedelta(days=30), next_on=TODAY)
            visit(rep, account, on=TODAY - dt.timedelta(days=20), next_on=TODAY)
            visit(rep, account, who, on=TODAY - dt.timedelta(days=10 + i % 3))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("activities:list")).status_code == 200
        return len(ctx)

    cost(1)
    assert cost(2) == cost(20)
