"""Every list page is paginated: a page holds at most ``PAGE_SIZE`` rows, costs the same
queries for a few records or many, and its links keep the list's filters."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.org.models import Membership
from kam.sales import actions
from kam.sales.models import Account, Opportunity, Outcome, Target
from tests.sales import factories as f
from tests.sales.factories import PAGE, TODAY

pytestmark = pytest.mark.django_db

SIZE = 3
EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-CN"}


@pytest.fixture(autouse=True)
def small_pages(settings):
    settings.PAGE_SIZE = SIZE


def populate(user, n: int) -> Account:
    """``n`` of everything the lists show, for ``user``; returns the first account."""
    first = None
    for i in range(n):
        account = f.account(user, name=f"客户{i:02d}", grade="A")
        first = first or account
        person = f.contact(user, account, name=f"联系人{i:02d}")
        deal = f.opportunity(user, account, name=f"项目{i:02d}")
        actions.set_buying_center_entry(deal, person, acting_user=user, source=PAGE)
        f.lead(user, name=f"线索{i:02d}")
        actions.log_activity(
            account=account,
            kind="visit",
            on=TODAY - dt.timedelta(days=i),
            contacts=[person],
            acting_user=user,
            source=PAGE,
        )
        actions.update_record(
            Account.objects.all(),
            pk=first.pk,
            acting_user=user,
            source=PAGE,
            expected_version=Account.objects.get(pk=first.pk).version,
            changes={"region": f"区{i}"},
        )
        Target.objects.create(
            user=user, start=dt.date(2020 + i, 1, 1), end=dt.date(2020 + i, 12, 31), amount=1
        )
        get_user_model().objects.create_user(username=f"user{i:02d}")
        gone = f.account(user, name=f"删除{i:02d}")
        f.contact(user, gone)
        f.opportunity(user, gone)
        actions.delete_record(gone, acting_user=user, source=PAGE)
    Opportunity.objects.filter(name__startswith="项目").update(
        outcome=Outcome.WON, amount=Decimal(1000)
    )
    return first


def list_urls(first: Account) -> list[str]:
    return [
        reverse("accounts:list"),
        reverse("accounts:pareto"),
        reverse("leads:list"),
        reverse("opportunities:list"),
        reverse("activities:list"),
        reverse("history:bin"),
        reverse("history:record", args=("sales", "account", first.pk)),
        reverse("settings:people"),
        reverse("settings:targets"),
    ]


def _rows(response) -> int:
    paginations = [response.context["pagination"]] if "pagination" in response.context else []
    for _kind, _title, _items, pagination in response.context.get("bins") or ():
        paginations.append(pagination)
    assert paginations, "no pagination on the page"
    return max(len(p.rows) for p in paginations)


def test_every_list_page_costs_the_same_queries_for_4_records_or_10(client, rep, admin):
    Membership.objects.create(user=admin, team=rep.memberships.get().team, role="manager")

    def cost(n):
        Account.all_objects.all().delete()
        Target.objects.all().delete()
        get_user_model().objects.filter(username__startswith="user").delete()
        first = populate(rep, n)
        client.force_login(admin)
        counts = {}
        for url in list_urls(first):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url, headers=EN)
            assert response.status_code == 200, url
            assert _rows(response) <= SIZE, url
            counts[url] = len(ctx)
        return counts

    # Both fill their first page (a record's history costs a query per kind of record
    # its rows link to, so its first page must show the same kinds of change).
    few = cost(4)
    many = cost(10)
    # Ids differ between the two runs: compare the costs in the order of the pages.
    assert list(many.values()) == list(few.values()), (few, many)


def test_a_page_holds_at_most_page_size_rows_and_says_where_it_is(client, rep):
    populate(rep, 7)
    client.force_login(rep)

    response = client.get(reverse("accounts:list"), headers=EN)

    assert len(response.context["accounts"]) == SIZE
    body = response.content.decode()
    assert "Page 1 of 3" in body and "7 in all" in body
    last = client.get(reverse("accounts:list"), {"page": 3}, headers=EN)
    assert len(last.context["accounts"]) == 1
    assert "Page 3 of 3" in last.content.decode()
    assert client.get(reverse("accounts:list"), {"page": "x"}).status_code == 200
    assert client.get(reverse("accounts:list"), {"page": 99}).context["pagination"].number == 3


def test_the_page_links_keep_the_filters(client, rep):
    populate(rep, 7)
    client.force_login(rep)

    body = client.get(reverse("accounts:list"), {"grade": "A", "q": "客户"}, headers=EN)
    links = re.findall(r'href="(\?[^"]*page=2[^"]*)"', body.content.decode())

    assert links and all("grade=A" in link and "q=" in link for link in links)
    second = client.get(reverse("accounts:list") + links[0].replace("&amp;", "&"))
    assert second.context["pagination"].number == 2
    assert second.context["filter"].cleaned_data["grade"] == "A"


def test_the_htmx_fragment_carries_the_page_links(client, rep):
    populate(rep, 4)
    client.force_login(rep)

    for url in (reverse("accounts:list"), reverse("leads:list"), reverse("opportunities:list")):
        body = client.get(url, headers={"HX-Request": "true", **EN}).content.decode()
        assert "<html" not in body and "Page 1 of 2" in body, url


def test_the_links_speak_chinese(client, rep):
    populate(rep, 4)
    client.force_login(rep)

    body = client.get(reverse("opportunities:list"), headers=ZH).content.decode()

    assert "第 1 页，共 2 页" in body and "下一页" in body and "共 4 条" in body


def test_the_recycle_bin_pages_each_kind_apart(client, rep):
    populate(rep, 4)
    client.force_login(rep)

    response = client.get(reverse("history:bin"), {"account_page": 2}, headers=EN)

    numbers = {kind: p.number for kind, _t, _i, p in response.context["bins"]}
    assert numbers == {"account": 2, "contact": 1, "opportunity": 1}
    assert "account_page=2" in response.content.decode() or numbers["account"] == 2


def test_the_20_80_view_counts_the_vital_few_of_all_accounts_not_of_the_page(client, rep):
    populate(rep, 7)
    client.force_login(rep)

    response = client.get(reverse("accounts:pareto"), headers=EN)

    # Seven equal accounts: the first six reach 80% (6/7 = 86%, 5/7 = 71%).
    assert response.context["vital"] == 6 and response.context["total"] == 7
    ranks = [item["row"].rank for item in response.context["rows"]]
    assert ranks == [1, 2, 3]
    third = client.get(reverse("accounts:pareto"), {"page": 3}, headers=EN)
    assert [item["row"].rank for item in third.context["rows"]] == [7]
    assert third.context["rows"][0]["row"].cumulative_share == 1
