"""The opportunity list, the opportunity page with its six-stage path, and the buying center."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.sales import actions, insights
from kam.sales.models import BuyingCenterEntry, Opportunity, StageOverride
from tests.sales import factories as f
from tests.sales.factories import PAGE, STAGE_1_NODES, TODAY

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-CN"}


@pytest.fixture
def account(rep):
    return f.account(rep)


@pytest.fixture
def deal(rep, account):
    return f.opportunity(rep, account, competitors="三一重工\n中联重科")


def _page(client, url, headers=EN, **kwargs):
    response = client.get(url, headers=headers, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _urls(deal):
    return [
        reverse("opportunities:list"),
        reverse("opportunities:detail", args=[deal.pk]),
        reverse("opportunities:buying_center", args=[deal.pk]),
    ]


# --- who sees what ----------------------------------------------------------------


def test_every_page_sends_an_anonymous_visitor_to_sign_in(client, deal):
    for url in _urls(deal):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_an_outsider_gets_404_for_the_deal_and_does_not_find_it_in_the_list(client, outsider, deal):
    client.force_login(outsider)

    for url in _urls(deal)[1:]:
        assert client.get(url).status_code == 404
    assert client.post(reverse("opportunities:advance", args=[deal.pk])).status_code == 404
    assert deal.name not in _page(client, reverse("opportunities:list"))


def test_the_rep_sees_every_page_in_chinese_and_in_english(client, rep, deal):
    client.force_login(rep)

    list_zh = _page(client, reverse("opportunities:list"), ZH)
    detail_zh = _page(client, reverse("opportunities:detail", args=[deal.pk]), ZH)
    center_zh = _page(client, reverse("opportunities:buying_center", args=[deal.pk]), ZH)
    detail_en = _page(client, reverse("opportunities:detail", args=[deal.pk]))
    center_en = _page(client, reverse("opportunities:buying_center", args=[deal.pk]))

    assert deal.name in list_zh
    assert "开发阶段" in detail_zh and "内部需求和立项" in detail_zh
    assert "Development" in detail_en and "Internal need and project approval" in detail_en
    assert "寻找内线" in center_zh
    assert "Find your insider" in center_en
    assert "三一重工" in detail_en


# --- the list -----------------------------------------------------------------------


def test_the_list_filters_by_stage_and_searches_by_name(client, rep, account, deal):
    other = f.opportunity(rep, account, name="泵车租赁")
    f.evidence(rep, other, *STAGE_1_NODES)
    actions.advance_stage(other, on=TODAY, acting_user=rep, source=PAGE)
    client.force_login(rep)

    by_stage = _page(client, reverse("opportunities:list"), data={"stage": 2})
    by_name = _page(client, reverse("opportunities:list"), data={"q": "搅拌站"})

    assert "泵车租赁" in by_stage and deal.name not in by_stage
    assert deal.name in by_name and "泵车租赁" not in by_name


def test_the_list_shows_the_adjusted_probability_from_the_method(client, rep, deal):
    client.force_login(rep)
    expected = insights.deal_views(rep, Opportunity.objects.filter(pk=deal.pk))[0]

    page = _page(client, reverse("opportunities:list"))

    assert f"{round(expected.probability.value * 100)}%" in page


def test_an_htmx_filter_gets_only_the_results(client, rep, deal):
    client.force_login(rep)

    fragment = _page(client, reverse("opportunities:list"), headers={**EN, "HX-Request": "true"})

    assert fragment.lstrip().startswith('<div id="opportunity-results"')
    assert "<html" not in fragment


# --- the gate, evidence and advancing ----------------------------------------------


def test_advance_is_disabled_and_the_missing_key_nodes_are_listed(client, rep, deal):
    client.force_login(rep)

    page = _page(client, reverse("opportunities:detail", args=[deal.pk]))

    assert re.search(r'name="advance" disabled', page)
    assert "Need confirmed" in page
    missing = re.search(r'<ul class="missing">(.*?)</ul>', page, re.S).group(1)
    assert "Budget confirmed" in missing


def test_advancing_without_the_key_nodes_is_refused_naming_what_is_missing(client, rep, deal):
    client.force_login(rep)

    response = client.post(
        reverse("opportunities:advance", args=[deal.pk]),
        {"expected_version": deal.version, "advance": "1"},
        headers=EN,
    )

    deal.refresh_from_db()
    assert deal.stage == 1
    assert response.status_code == 200
    assert "key nodes are still missing: Need confirmed" in response.content.decode()


def test_recording_the_evidence_then_advancing_moves_the_deal(client, rep, deal):
    client.force_login(rep)
    for node in STAGE_1_NODES:
        response = client.post(
            reverse("opportunities:evidence", args=[deal.pk]),
            {"node": node, "on": TODAY.isoformat(), "note": "客户确认"},
        )
        assert response.status_code == 302
    page = _page(client, reverse("opportunities:detail", args=[deal.pk]))
    assert not re.search(r'name="advance" disabled', page)
    assert "客户确认" in page

    response = client.post(
        reverse("opportunities:advance", args=[deal.pk]),
        {"expected_version": deal.version, "advance": "1"},
    )

    deal.refresh_from_db()
    assert response.status_code == 302
    assert deal.stage == 2
    assert not StageOverride.objects.filter(opportunity=deal).exists()


def test_evidence_errors_stay_beside_the_field_with_the_input_kept(client, rep, deal):
    client.force_login(rep)

    response = client.post(
        reverse("opportunities:evidence", args=[deal.pk]),
        {"node": "need_confirmed", "on": "not a date", "note": "我写的备注"},
        headers=ZH,
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "我写的备注" in page
    assert re.search(r'<ul class="errorlist" id="id_on_error">', page)


def test_a_forced_advance_shows_the_penalty_and_needs_a_reason(client, rep, deal):
    client.force_login(rep)
    page = _page(client, reverse("opportunities:detail", args=[deal.pk]))
    penalty = re.search(r'<dl class="fact-list penalty">(.*?)</dl>', page, re.S).group(1)
    # Stage 1 is 10%; stage 2 is 20% with its key nodes, halved when forced without them.
    assert re.findall(r"(\d+)%", penalty) == ["10", "20", "10"]

    refused = client.post(
        reverse("opportunities:advance", args=[deal.pk]),
        {"expected_version": deal.version, "force": "1", "force_reason": "  "},
        headers=EN,
    )
    deal.refresh_from_db()
    assert deal.stage == 1
    assert "Say why the deal moves on without its key nodes." in refused.content.decode()

    forced = client.post(
        reverse("opportunities:advance", args=[deal.pk]),
        {"expected_version": deal.version, "force": "1", "force_reason": "总工口头承诺"},
    )

    deal.refresh_from_db()
    assert forced.status_code == 302
    assert deal.stage == 2
    override = StageOverride.objects.get(opportunity=deal)
    assert override.reason == "总工口头承诺"
    assert "need_confirmed" in override.missing


def test_an_advance_from_a_stale_page_shows_what_changed(client, rep, teammate, deal):
    client.force_login(rep)
    opened_at = deal.version
    actions.advance_stage(deal, force_reason="赶进度", on=TODAY, acting_user=teammate, source=PAGE)

    response = client.post(
        reverse("opportunities:advance", args=[deal.pk]),
        {"expected_version": opened_at, "force": "1", "force_reason": "我的理由"},
        headers=EN,
    )

    page = response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == 2
    assert "after you opened it" in page
    assert "我的理由" in page


def test_closing_as_lost_needs_a_reason_and_keeps_it(client, rep, deal):
    client.force_login(rep)

    refused = client.post(
        reverse("opportunities:close", args=[deal.pk]),
        {"expected_version": deal.version, "outcome": "lost", "reason": ""},
        headers=EN,
    )
    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()

    client.post(
        reverse("opportunities:close", args=[deal.pk]),
        {"expected_version": deal.version, "outcome": "lost", "reason": "价格高出竞争对手"},
    )

    deal.refresh_from_db()
    assert (deal.outcome, deal.close_reason) == ("lost", "价格高出竞争对手")


def test_the_coach_recommendations_show_with_their_reasons(client, rep, account, deal):
    engineer = f.contact(rep, account, name="王总工", title="总工程师")
    actions.set_buying_center_entry(
        deal, engineer, roles=["technical"], attitude="opponent", acting_user=rep, source=PAGE
    )
    client.force_login(rep)

    page = _page(client, reverse("opportunities:detail", args=[deal.pk]))

    assert "Technical person 王总工" in page
    assert "opposes us" in page


# --- the buying center ---------------------------------------------------------------


@pytest.fixture
def mapped(rep, account, deal):
    boss = f.contact(rep, account, name="李总", title="总经理")
    clerk = f.contact(rep, account, name="小周", title="助理")
    actions.set_buying_center_entry(
        deal, boss, roles=["decision_maker"], influence=3, acting_user=rep, source=PAGE
    )
    actions.set_buying_center_entry(
        deal, clerk, roles=["user"], strength=2, insider=True, acting_user=rep, source=PAGE
    )
    return {"boss": boss, "clerk": clerk}


def test_the_owner_sees_who_the_insider_is(client, rep, deal, mapped):
    client.force_login(rep)

    page = _page(client, reverse("opportunities:buying_center", args=[deal.pk]))

    clerk = re.search(rf'<li class="person" id="person-{mapped["clerk"].pk}".*?</li>', page, re.S)
    assert 'class="badge badge-insider"' in clerk.group(0)
    assert '"insider": true' in page


def test_a_teammate_learns_that_an_insider_exists_but_not_who(client, teammate, deal, mapped):
    client.force_login(teammate)

    page = _page(client, reverse("opportunities:buying_center", args=[deal.pk]))

    assert "An insider exists" in page
    assert "badge-insider" not in page
    assert '"insider": true' not in page
    assert f'name="person-{mapped["clerk"].pk}-insider"' not in page


def test_a_teammate_changing_a_person_keeps_the_insider_mark(client, teammate, deal, mapped):
    client.force_login(teammate)
    clerk = mapped["clerk"]

    client.post(
        reverse("opportunities:person", args=[deal.pk, clerk.pk]),
        {
            f"person-{clerk.pk}-roles": ["user"],
            f"person-{clerk.pk}-influence": 2,
            f"person-{clerk.pk}-attitude": "supporter",
            f"person-{clerk.pk}-strength": 3,
        },
    )

    entry = BuyingCenterEntry.objects.get(opportunity=deal, contact=clerk)
    assert (entry.strength, entry.insider) == (3, True)


def _entry_data(contact, **values):
    fields = {"roles": ["technical"], "influence": 3, "attitude": "opponent", "strength": 1}
    fields.update(values)
    return {f"person-{contact.pk}-{k}": v for k, v in fields.items()}


def test_an_htmx_change_swaps_only_the_persons_row(client, rep, deal, mapped):
    client.force_login(rep)
    boss = mapped["boss"]

    response = client.post(
        reverse("opportunities:person", args=[deal.pk, boss.pk]),
        _entry_data(boss),
        headers={**EN, "HX-Request": "true"},
    )

    fragment = response.content.decode()
    entry = BuyingCenterEntry.objects.get(opportunity=deal, contact=boss)
    assert response.status_code == 200
    assert fragment.lstrip().startswith(f'<li class="person" id="person-{boss.pk}"')
    assert "<html" not in fragment
    assert (entry.technical, entry.attitude, entry.influence) == (True, "opponent", 3)


def test_a_plain_post_changes_the_person_and_returns_to_the_page(client, rep, deal, mapped):
    client.force_login(rep)
    boss = mapped["boss"]

    response = client.post(
        reverse("opportunities:person", args=[deal.pk, boss.pk]), _entry_data(boss, strength=3)
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("opportunities:buying_center", args=[deal.pk])
    assert BuyingCenterEntry.objects.get(opportunity=deal, contact=boss).strength == 3


def test_a_contact_of_the_account_is_added_to_the_buying_center(client, rep, account, deal):
    buyer = f.contact(rep, account, name="采购部陈经理")
    client.force_login(rep)

    response = client.post(
        reverse("opportunities:add_person", args=[deal.pk]),
        {
            "add-contact": buyer.pk,
            "add-roles": ["purchaser"],
            "add-influence": 2,
            "add-attitude": "neutral",
            "add-strength": 1,
        },
    )

    assert response.status_code == 302
    assert BuyingCenterEntry.objects.get(opportunity=deal, contact=buyer).purchaser


def test_a_contact_of_another_account_is_refused_on_the_contact_field(client, rep, deal):
    elsewhere = f.contact(rep, f.account(rep, name="另一家客户"), name="外人")
    client.force_login(rep)

    response = client.post(
        reverse("opportunities:add_person", args=[deal.pk]),
        {
            "add-contact": elsewhere.pk,
            "add-influence": 2,
            "add-attitude": "neutral",
            "add-strength": 1,
        },
        headers=EN,
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(
        r'id="id_add-contact_error">\s*<li>The contact must work at the opportunity', page
    )
    assert not BuyingCenterEntry.objects.filter(contact=elsewhere).exists()


# --- constant query counts -------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, headers=EN).status_code == 200
    return len(ctx)


def _grow(rep, account, deal, people):
    for i in range(people):
        person = f.contact(rep, account, name=f"联系人{i}", title="工程师")
        actions.set_buying_center_entry(
            deal, person, roles=["user"], strength=i % 4, acting_user=rep, source=PAGE
        )
        actions.log_activity(
            acting_user=rep,
            source=PAGE,
            kind="visit",
            on=TODAY,
            account=account,
            opportunity=deal,
            contacts=[person],
            next_on=TODAY,
            next_pretext="送测试报告",
        )
    f.evidence(rep, deal, *STAGE_1_NODES[: min(people, 4)])


def _deals_at(rep, name, count):
    customer = f.account(rep, name=name)
    for i in range(count):
        deal = f.opportunity(rep, customer, name=f"{name}项目{i}")
        _grow(rep, customer, deal, 1)
    return customer


def test_the_opportunity_and_buying_center_cost_the_same_queries_for_2_or_20_people(
    client, rep, account
):
    small = f.opportunity(rep, account, name="小项目")
    big = f.opportunity(rep, account, name="大项目", amount=Decimal("9000000"))
    _grow(rep, account, small, 2)
    _grow(rep, account, big, 20)
    client.force_login(rep)

    for name in ("detail", "buying_center"):
        assert _queries(client, reverse(f"opportunities:{name}", args=[small.pk])) == _queries(
            client, reverse(f"opportunities:{name}", args=[big.pk])
        ), name


def test_the_list_costs_the_same_queries_for_2_or_20_deals(client, rep):
    _deals_at(rep, "小客户", 2)
    _deals_at(rep, "大客户", 20)
    client.force_login(rep)

    two = _queries(client, reverse("opportunities:list") + "?q=小客户")
    twenty = _queries(client, reverse("opportunities:list") + "?q=大客户")

    assert two == twenty


def test_the_coach_names_the_insider_to_the_owner_only(rep, teammate, account, deal, mapped):
    f.evidence(rep, deal, *STAGE_1_NODES, "insider_found", "key_people_identified")
    actions.advance_stage(deal, to_stage=3, on=TODAY, acting_user=rep, source=PAGE)

    def rules(user):
        opp = insights.opportunities(user).get(pk=deal.pk)
        return {r.rule_id for r in insights.coach_deals(user, [opp], today=TODAY)[deal.pk]}

    assert "BC-INSIDER-NO-FACTS" in rules(rep)
    assert "BC-INSIDER-NO-FACTS" not in rules(teammate)


def test_every_input_on_the_opportunity_pages_has_a_label(client, rep, deal, mapped):
    from tests.web.test_layout import _parse

    client.force_login(rep)

    for url in _urls(deal):
        assert _parse(client.get(url)).unlabelled_inputs() == [], url
