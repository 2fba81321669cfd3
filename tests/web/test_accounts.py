"""The account pages: the list with filters and search, the 20/80 view, the account
page with its file, relationship, trust, cost, people, deals and timeline, and the form."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.history.record import Source
from kam.method import relationship
from kam.sales import actions
from kam.sales.models import Account, Opportunity, TrustActionDone
from tests.sales import factories as f
from tests.sales.factories import PAGE, TODAY

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-CN"}


@pytest.fixture
def account(rep):
    return f.account(rep, industry="建筑", region="华中")


def won(user, account, amount):
    return actions.create_record(
        Opportunity,
        acting_user=user,
        source=Source.IMPORT,
        account=account,
        name=f"中标 {amount}",
        amount=Decimal(amount),
        stage=6,
        outcome="won",
        closed_on=TODAY - dt.timedelta(days=10),
    )


def _urls(account):
    return [
        reverse("accounts:list"),
        reverse("accounts:pareto"),
        reverse("accounts:detail", args=[account.pk]),
        reverse("accounts:edit", args=[account.pk]),
    ]


def test_the_pages_send_an_anonymous_visitor_to_sign_in(client, account):
    for url in [*_urls(account), reverse("accounts:new")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_gets_404_for_the_account_and_does_not_see_it(client, outsider, account):
    client.force_login(outsider)

    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 404
    assert client.get(reverse("accounts:edit", args=[account.pk])).status_code == 404
    assert client.post(reverse("accounts:trust", args=[account.pk]), {}).status_code == 404
    assert account.name not in client.get(reverse("accounts:list")).content.decode()
    assert account.name not in client.get(reverse("accounts:pareto")).content.decode()


def test_the_rep_sees_every_page_in_chinese_and_in_english(client, rep, account):
    client.force_login(rep)
    for url in _urls(account):
        for headers in (ZH, EN):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            assert account.name in response.content.decode()
    page_zh = client.get(_urls(account)[2], headers=ZH).content.decode()
    page_en = client.get(_urls(account)[2], headers=EN).content.decode()
    assert "出示ISO 9000等认证证书" in page_zh
    assert "Show certifications such as ISO 9000" in page_en


def test_the_list_filters_and_searches(client, rep):
    steel = f.account(rep, name="宝钢股份", industry="钢铁", grade="A", lifecycle="cooperation")
    cement = f.account(rep, name="海螺水泥", industry="建材", grade="B")
    client.force_login(rep)

    def names(**params):
        page = client.get(reverse("accounts:list"), params).content.decode()
        return {a.name for a in (steel, cement) if a.name in page}

    assert names(grade="A") == {"宝钢股份"}
    assert names(industry="建材") == {"海螺水泥"}
    assert names(lifecycle="cooperation") == {"宝钢股份"}
    assert names(q="水泥") == {"海螺水泥"}
    assert names(owner=rep.pk) == {"宝钢股份", "海螺水泥"}
    assert names(relationship_type="partner") == set()


def test_the_list_answers_htmx_with_the_table_only(client, rep, account):
    client.force_login(rep)

    body = client.get(reverse("accounts:list"), headers={"HX-Request": "true"}).content.decode()

    assert "<html" not in body and account.name in body


def test_the_20_80_view_ranks_accounts_by_won_revenue_with_the_cumulative_share(client, rep):
    big, middle, small = (f.account(rep, name=n) for n in ("大客户", "中客户", "小客户"))
    won(rep, big, 700000)
    won(rep, middle, 200000)
    won(rep, small, 90000)
    actions.add_off_funnel_order(
        small, amount=Decimal(10000), on=TODAY, acting_user=rep, source=PAGE
    )
    client.force_login(rep)

    body = client.get(reverse("accounts:pareto"), headers=EN).content.decode()

    assert body.index("大客户") < body.index("中客户") < body.index("小客户")
    assert re.findall(r"data-cumulative>(\d+)%", body) == ["70", "90", "100"]
    assert "2 of 3 accounts" in body


def test_the_account_page_weighs_relationship_cost_against_won_revenue(client, rep, account):
    won(rep, account, 100000)
    actions.log_activity(
        account=account,
        kind="entertainment",
        on=TODAY,
        cost=Decimal(20000),
        acting_user=rep,
        source=PAGE,
    )
    client.force_login(rep)

    body = client.get(reverse("accounts:detail", args=[account.pk]), headers=EN).content.decode()

    report = relationship.relationship_cost([Decimal(20000)], Decimal(100000))
    assert report.message.en in body


def test_a_trust_building_action_is_recorded_from_the_account_page(client, rep, account):
    client.force_login(rep)

    response = client.post(
        reverse("accounts:trust", args=[account.pk]),
        {"action": "factory_visit", "on": TODAY.isoformat(), "evidence": "参观了工厂"},
    )

    assert response.status_code == 302
    assert TrustActionDone.objects.get(account=account).action == "factory_visit"


def test_the_timeline_hides_the_insider_from_a_teammate(client, rep, teammate, account):
    deal = f.opportunity(rep, account)
    person = f.contact(rep, account, name="李秘书")
    actions.set_buying_center_entry(deal, person, insider=True, acting_user=rep, source=PAGE)

    client.force_login(rep)
    mine = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    client.force_login(teammate)
    theirs = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()

    assert mine.count("李秘书 @") == 1
    assert "李秘书 @" not in theirs


def test_a_new_account_is_created_and_errors_keep_the_input(client, rep):
    client.force_login(rep)

    bad = client.post(reverse("accounts:new"), {"name": "", "industry": "保留的行业"}, headers=ZH)
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "保留的行业" in body and "这个字段是必填项" in body
    good = client.post(
        reverse("accounts:new"),
        {
            "name": "三一重工",
            "lifecycle": "incubation",
            "relationship_type": "outsider",
            "relationship_level": "1",
        },
    )
    assert good.status_code == 302
    assert Account.objects.get(name="三一重工").owner == rep


def test_editing_over_someone_elses_change_shows_what_changed(client, rep, teammate, account):
    client.force_login(rep)
    form = {
        "name": account.name,
        "industry": "冶金",
        "lifecycle": "incubation",
        "relationship_type": "outsider",
        "relationship_level": "1",
        "version": str(account.version),
    }
    actions.update_record(
        account,
        acting_user=teammate,
        source=PAGE,
        expected_version=account.version,
        changes={"industry": "有色金属"},
    )

    response = client.post(reverse("accounts:edit", args=[account.pk]), form, headers=EN)

    body = response.content.decode()
    assert response.status_code == 400
    assert "有色金属" in body and "冶金" in body and "after you opened it" in body
    account.refresh_from_db()
    assert account.industry == "有色金属"


def test_editing_saves_through_the_action(client, rep, account):
    client.force_login(rep)
    response = client.post(
        reverse("accounts:edit", args=[account.pk]),
        {
            "name": account.name,
            "industry": "冶金",
            "lifecycle": "transaction",
            "relationship_type": "supplier",
            "relationship_level": "2",
            "collective_decision": "on",
            "version": str(account.version),
        },
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.industry, account.relationship_type, account.version) == ("冶金", "supplier", 2)
    assert account.collective_decision


def _populate(rep, n):
    accounts = [f.account(rep, name=f"客户{i}", industry=f"行业{i}") for i in range(n)]
    first = accounts[0]
    for i in range(n):
        person = f.contact(rep, first, name=f"联系人{i}")
        deal = f.opportunity(rep, first, name=f"项目{i}")
        actions.set_buying_center_entry(
            deal, person, roles=["technical"], acting_user=rep, source=PAGE
        )
        won(rep, accounts[i], 100000 + i)
        actions.log_activity(
            account=first,
            kind="visit",
            on=TODAY,
            contacts=[person],
            acting_user=rep,
            source=PAGE,
            next_on=TODAY + dt.timedelta(days=7),
            next_pretext="送样品",
        )
        actions.add_trust_action(first, action="equipment", on=TODAY, acting_user=rep, source=PAGE)
    return first


@pytest.mark.parametrize("who", ["rep", "teammate"])
def test_the_pages_cost_the_same_queries_for_2_or_20_records(client, rep, teammate, who):
    client.force_login({"rep": rep, "teammate": teammate}[who])

    def cost(n):
        Account.all_objects.all().delete()
        first = _populate(rep, n)
        counts = []
        for url in _urls(first):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx))
        return counts

    cost(1)
    assert cost(2) == cost(20)
