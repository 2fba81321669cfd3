"""My day: visits due, the coach's top advice, my funnel, my forecast and my 10-5-3-1."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.org.models import CompanySettings
from kam.sales import actions, insights
from tests.sales import factories as f
from tests.sales.factories import PAGE, TODAY

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-CN"}


@pytest.fixture
def signed_in(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def account(rep):
    return f.account(rep)


def _visit(user, account, deal, *, on, next_on, pretext, contacts=()):
    return actions.log_activity(
        acting_user=user,
        source=PAGE,
        kind="visit",
        on=on,
        account=account,
        opportunity=deal,
        contacts=contacts,
        next_on=next_on,
        next_pretext=pretext,
    )


def _home(client, headers=EN):
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def test_home_sends_an_anonymous_visitor_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_home_speaks_chinese_to_a_chinese_browser(signed_in):
    page = _home(signed_in, {"accept-language": "zh-CN,zh;q=0.9"})

    assert '<html lang="zh-hans">' in page
    assert "漏斗内已成交" in page  # the forecast's parts come from the method
    assert "线索 → 潜在客户" in page


def test_home_speaks_english_to_an_english_browser(signed_in):
    page = _home(signed_in, {"accept-language": "en-GB,en;q=0.8"})

    assert "Won in the funnel" in page
    assert "lead → potential customer" in page


def test_home_falls_back_to_english_for_other_languages(signed_in):
    assert "Won in the funnel" in _home(signed_in, {"accept-language": "de-DE"})


def test_the_language_switch_overrides_the_browser(signed_in):
    response = signed_in.post(reverse("set_language"), {"language": "en", "next": "/"}, headers=ZH)
    assert response.status_code == 302

    assert "Won in the funnel" in _home(signed_in, ZH)


def test_visits_due_come_overdue_first_with_their_pretext(signed_in, rep, account):
    deal = f.opportunity(rep, account)
    other = f.account(rep, name="宝钢湛江")
    _visit(rep, account, deal, on=TODAY, next_on=TODAY + dt.timedelta(days=3), pretext="送样品")
    _visit(
        rep,
        other,
        None,
        on=TODAY - dt.timedelta(days=20),
        next_on=TODAY - dt.timedelta(days=2),
        pretext="回访测试结果",
    )
    _visit(
        rep,
        other,
        None,
        on=TODAY - dt.timedelta(days=30),
        next_on=TODAY + dt.timedelta(days=30),
        pretext="太远了",
    )

    page = _home(signed_in)

    visits = re.search(r'<ul class="visits">(.*?)</ul>', page, re.S).group(1)
    assert visits.index("回访测试结果") < visits.index("送样品")
    assert "overdue" in visits
    assert "太远了" not in visits


def test_a_visit_followed_by_a_later_one_is_no_longer_due(signed_in, rep, account):
    _visit(
        rep,
        account,
        None,
        on=TODAY - dt.timedelta(days=10),
        next_on=TODAY - dt.timedelta(days=3),
        pretext="旧的借口",
    )
    _visit(rep, account, None, on=TODAY - dt.timedelta(days=2), next_on=None, pretext="")

    assert "旧的借口" not in _home(signed_in)


def test_a_teammates_visits_and_deals_are_not_on_my_day(signed_in, teammate):
    theirs = f.account(teammate, name="别人的客户")
    deal = f.opportunity(teammate, theirs, name="别人的项目")
    _visit(teammate, theirs, deal, on=TODAY, next_on=TODAY, pretext="别人的借口")

    page = _home(signed_in)

    assert "别人的借口" not in page
    assert "别人的项目" not in page


def test_the_coach_speaks_about_my_open_deals_with_links(signed_in, rep, account):
    deal = f.opportunity(rep, account)
    engineer = f.contact(rep, account, name="王总工", title="总工程师")
    actions.set_buying_center_entry(
        deal, engineer, roles=["technical"], attitude="opponent", acting_user=rep, source=PAGE
    )

    page = _home(signed_in)

    advice = re.search(r'<ol class="recommendations">(.*?)</ol>', page, re.S).group(1)
    assert f'href="/opportunities/{deal.pk}/"' in advice
    # The critical veto risk comes first.
    first = re.search(r"<li.*?</li>", advice, re.S).group(0)
    assert "王总工" in first and "critical" in first


def test_my_funnel_and_forecast_show_the_methods_numbers(signed_in, rep, manager, account):
    f.opportunity(rep, account, amount=Decimal("800000"), expected_close=TODAY)
    quarter = insights.current_quarter(TODAY)
    actions.set_target(
        user=rep,
        start=quarter.start,
        end=quarter.end,
        amount=Decimal("2000000"),
        acting_user=manager,  # a rep's target is set by their manager
        source=PAGE,
    )

    page = _home(signed_in)

    funnel = re.search(r'id="funnel-title".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    assert re.search(
        r"1\. Development</th><td class=\"num\">1</td><td class=\"num\">800,000", funnel
    )
    forecast = re.search(r'id="forecast-title".*?</table>', page, re.S).group(0)
    assert "Open funnel, probability-weighted" in forecast
    assert "Off-funnel run rate for the rest of the period" in forecast
    assert "2,000,000" in forecast
    assert 'id="home-data"' in page


def test_my_day_costs_the_same_queries_for_2_or_20_deals(client, rep, teammate, account):
    def my_day(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            _home(client)
        return len(ctx)

    for user, count in ((rep, 2), (teammate, 20)):
        customer = f.account(user, name=f"{user.username}的客户")
        for i in range(count):
            deal = f.opportunity(user, customer, name=f"项目{i}", expected_close=TODAY)
            person = f.contact(user, customer, name=f"联系人{i}")
            actions.set_buying_center_entry(
                deal, person, roles=["technical"], acting_user=user, source=PAGE
            )
            _visit(user, customer, deal, on=TODAY, next_on=TODAY, pretext="借口", contacts=[person])

    CompanySettings.load()  # created on first use: not a cost of the page

    assert my_day(rep) == my_day(teammate)


def test_every_input_and_link_on_my_day_works(signed_in, rep, account):
    from tests.web.test_layout import _parse

    deal = f.opportunity(rep, account)
    _visit(rep, account, deal, on=TODAY, next_on=TODAY, pretext="送样品")

    page = _parse(signed_in.get("/"))

    assert page.unlabelled_inputs() == []
    for link in page.links:
        if not link.startswith("#"):
            assert signed_in.get(link).status_code == 200, link
