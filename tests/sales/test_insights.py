import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.history.record import Source
from kam.method.types import Period
from kam.org.models import CompanySettings
from kam.sales import actions, insights
from kam.sales.models import Opportunity, Target
from tests.sales import factories

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 15)
Q4 = Period(dt.date(2026, 10, 1), dt.date(2026, 12, 31))


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        ("2026-Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("2026-H1", dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
        ("2026-02", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    ],
)
def test_periods_are_read_from_their_usual_names(label, start, end):
    assert insights.parse_period(label) == Period(start, end)


def test_fiscal_quarters_start_at_the_fiscal_start_month():
    # A fiscal year starting in April: its Q4 is January to March of the next calendar year.
    assert insights.parse_period("2026-Q4", fiscal_start_month=4) == Period(
        dt.date(2027, 1, 1), dt.date(2027, 3, 31)
    )
    assert insights.current_quarter(dt.date(2026, 5, 20), fiscal_start_month=4) == Period(
        dt.date(2026, 4, 1), dt.date(2026, 6, 30)
    )


def test_a_badly_written_period_is_refused_on_the_period_field():
    with pytest.raises(ValidationError) as error:
        insights.parse_period("Q4 2026")
    assert "period" in error.value.message_dict


def _won(user, account, amount, closed_on):
    return actions.create_record(
        Opportunity,
        acting_user=user,
        source=Source.SYSTEM,
        account=account,
        name="已交付",
        amount=Decimal(amount),
        stage=6,
        outcome="won",
        closed_on=closed_on,
        expected_close=closed_on,
    )


def _setup_rep_quarter(rep):
    account = factories.account(rep)
    _won(rep, account, "100000", dt.date(2026, 10, 20))
    _won(rep, account, "900000", dt.date(2026, 9, 30))  # last quarter: not in Q4
    open_deal = actions.create_record(
        Opportunity,
        acting_user=rep,
        source=Source.SYSTEM,  # entered in September, as an import would bring it
        account=account,
        name="沥青搅拌站",
        amount=Decimal("200000"),
        expected_close=dt.date(2026, 12, 10),
        stage_entered_on=dt.date(2026, 9, 1),
    )
    factories.evidence(rep, open_deal, *factories.STAGE_1_NODES, on=dt.date(2026, 10, 1))
    actions.advance_stage(open_deal, on=dt.date(2026, 10, 2), acting_user=rep, source=Source.PAGE)
    actions.add_off_funnel_order(
        account,
        amount=Decimal("10000"),
        on=dt.date(2026, 10, 10),
        note="",
        acting_user=rep,
        source=Source.PAGE,
    )
    Target.objects.create(user=rep, start=Q4.start, end=Q4.end, amount=Decimal("1000000"))
    return account


def test_the_forecast_keeps_its_parts_apart_and_measures_progress_against_the_target(rep):
    _setup_rep_quarter(rep)
    forecast = insights.forecast(rep, period=Q4, today=TODAY)
    assert forecast.won.amount == Decimal("100000")
    assert forecast.off_funnel.amount == Decimal("10000")
    # stage 2 at 20%, no buying center cap below 20%: 200,000 x 0.2
    assert forecast.weighted_open.amount == Decimal("40000.00")
    # 10,000 over the 46 days 1 Oct - 15 Nov, times the 46 days left
    assert forecast.off_funnel_run_rate.amount == Decimal("10000.00")
    assert forecast.total.amount == Decimal("160000.00")
    assert forecast.target == Decimal("1000000")
    assert forecast.progress == pytest.approx(0.11)  # (100,000 + 10,000) / 1,000,000


def test_an_outsider_forecasts_nothing_of_another_teams_deals(rep, outsider):
    _setup_rep_quarter(rep)
    forecast = insights.forecast(outsider, period=Q4, today=TODAY)
    assert forecast.total.amount == 0
    assert forecast.target is None


def test_the_manager_sees_the_reps_deals_in_the_funnel(rep, manager):
    _setup_rep_quarter(rep)
    rows = {row.stage: row for row in insights.funnel_rows(manager, today=TODAY)}
    assert rows[2].count == 1
    assert rows[2].value == Decimal("200000")


def test_the_funnel_costs_the_same_queries_for_two_deals_or_eight(rep):
    account = factories.account(rep)
    for _ in range(2):
        factories.opportunity(rep, account)
    CompanySettings.load()  # created on first use; that one-time insert is not the funnel's
    with CaptureQueriesContext(connection) as few:
        insights.funnel_rows(rep, today=TODAY)
    for _ in range(6):
        factories.opportunity(rep, account)
    with CaptureQueriesContext(connection) as many:
        insights.funnel_rows(rep, today=TODAY)
    assert len(many) == len(few)


def test_ratios_count_deals_without_a_lead_as_leads(rep):
    _setup_rep_quarter(rep)
    factories.lead(rep)
    report = insights.ratios(rep)
    # 1 lead + 3 deals entered directly = 4 leads; 3 deals; 2 reached stage 3 (the won ones);
    # 2 won.
    assert [(s.from_count, s.to_count) for s in report.steps] == [(4, 3), (3, 2), (2, 2)]


def test_forecasts_by_owner_equal_one_forecast_per_owner_at_a_constant_cost(rep, teammate, manager):
    _setup_rep_quarter(rep)
    _won(teammate, factories.account(teammate), "50000", dt.date(2026, 11, 1))
    CompanySettings.load()
    with CaptureQueriesContext(connection) as two:
        both = insights.forecasts_by_owner(manager, [rep, teammate], period=Q4, today=TODAY)
    assert both[rep.pk] == insights.forecast(manager, owner=rep, period=Q4, today=TODAY)
    assert both[teammate.pk] == insights.forecast(manager, owner=teammate, period=Q4, today=TODAY)
    for _ in range(3):
        _won(teammate, factories.account(teammate), "1000", dt.date(2026, 11, 2))
    with CaptureQueriesContext(connection) as more:
        insights.forecasts_by_owner(manager, [rep, teammate], period=Q4, today=TODAY)
    assert len(more) == len(two)


# --- the insider's identity and targets, as seen by each user (used by the API) --------


def _deal_with_insider(rep):
    account = factories.account(rep)
    deal = factories.opportunity(rep, account)
    boss = factories.contact(rep, account, name="王总")
    secretary = factories.contact(rep, account, name="小林")
    actions.set_buying_center_entry(
        deal, boss, roles=["decision_maker"], acting_user=rep, source=Source.PAGE
    )
    actions.set_buying_center_entry(
        deal, secretary, insider=True, acting_user=rep, source=Source.PAGE
    )
    return insights.opportunities(rep).get(pk=deal.pk), secretary


def test_the_buying_center_view_names_the_insider_to_the_owner(rep):
    deal, secretary = _deal_with_insider(rep)

    view = insights.buying_center_view(rep, deal)

    assert view.may_see_insider and view.insider_exists
    assert view.coverage.insiders == (str(secretary.pk),)


def test_the_buying_center_view_tells_a_teammate_only_that_an_insider_exists(rep, teammate):
    deal, _ = _deal_with_insider(rep)

    view = insights.buying_center_view(teammate, insights.opportunities(teammate).get(pk=deal.pk))

    assert view.insider_exists and not view.may_see_insider
    assert view.coverage.insiders == ()
    assert not any(p.insider for p in view.deal.people)
    assert view.key_person.steps[0].done  # "find your insider" is done, whoever it is


def test_target_amount_leaves_out_targets_the_user_may_not_see(rep, teammate, manager):
    actions.set_target(
        user=rep,
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 12, 31),
        amount=Decimal("700000"),
        acting_user=manager,
        source=Source.PAGE,
    )

    assert insights.target_amount(Q4, owner=rep, user=teammate) is None
    assert insights.target_amount(Q4, owner=rep, user=manager) == Decimal("700000")
    assert insights.target_amount(Q4, owner=rep, user=rep) == Decimal("700000")
