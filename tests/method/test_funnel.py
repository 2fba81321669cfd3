import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.method import funnel
from kam.method.funnel import (
    FunnelSettings,
    InvalidAmount,
    InvalidFunnelSettings,
    InvalidProbability,
    InvalidTarget,
)
from kam.method.process import DEFAULT_STAGES, ProcessSettings
from kam.method.types import (
    Deal,
    Evidence,
    OffFunnelOrder,
    Outcome,
    Override,
    Period,
    Stage,
    Text,
)

Q2 = Period(dt.date(2025, 4, 1), dt.date(2025, 6, 30))
TODAY = dt.date(2025, 5, 15)  # day 45 of Q2's 91, 46 days left after it
NODES_BEFORE = {
    stage: [n.id for d in DEFAULT_STAGES[: stage - 1] for n in d.key_nodes] for stage in Stage
}


def make_deal(deal_id, amount, stage=Stage.DEVELOPMENT, *, in_step=True, **fields):
    """A deal whose key nodes below its stage are evidenced unless ``in_step`` is False."""
    nodes = NODES_BEFORE[stage] if in_step else []
    evidence = tuple(Evidence(node=n, by="li", on=dt.date(2025, 1, 1)) for n in nodes)
    return Deal(
        id=deal_id, name=deal_id, amount=Decimal(amount), stage=stage, evidence=evidence, **fields
    )


def won(deal_id, amount, closed_on, **fields):
    return make_deal(
        deal_id, amount, Stage.IMPLEMENTATION, outcome=Outcome.WON, closed_on=closed_on, **fields
    )


ORDERS = (
    OffFunnelOrder(Decimal("10000"), dt.date(2025, 3, 31)),  # before the period
    OffFunnelOrder(Decimal("30000"), dt.date(2025, 4, 10)),
    OffFunnelOrder(Decimal("15000"), TODAY),
    OffFunnelOrder(Decimal("20000"), dt.date(2025, 5, 20)),  # after today
)

DEALS = (
    won("w1", 500000, dt.date(2025, 5, 2)),
    won("w2", 300000, dt.date(2025, 3, 20)),  # won last quarter
    won("w3", 200000, None, expected_close=dt.date(2025, 6, 1)),
    make_deal("o1", 600000, Stage.PROPOSAL, expected_close=dt.date(2025, 6, 10)),
    make_deal("o2", 1000000, Stage.NEGOTIATION, expected_close=dt.date(2025, 3, 15)),  # overdue
    make_deal("o3", 400000, Stage.ENTRY, expected_close=dt.date(2025, 8, 1)),  # next quarter
    make_deal("o4", 900000, Stage.TENDER),  # no expected close
    make_deal(
        "l1",
        700000,
        Stage.TENDER,
        outcome=Outcome.LOST,
        closed_on=dt.date(2025, 5, 1),
        expected_close=dt.date(2025, 5, 1),
    ),
)


# --- settings and the threshold -----------------------------------------------------------


def test_an_order_below_the_threshold_stays_outside_the_funnel():
    assert funnel.is_off_funnel(Decimal("49999.99")) is True
    assert funnel.is_off_funnel(Decimal("50000")) is False


def test_the_threshold_is_a_company_setting():
    settings = FunnelSettings(off_funnel_threshold=Decimal("100000"))
    assert funnel.is_off_funnel(Decimal("80000"), settings=settings) is True


def test_settings_refuse_a_negative_threshold():
    with pytest.raises(InvalidFunnelSettings, match="off_funnel_threshold -1 is negative"):
        FunnelSettings(off_funnel_threshold=Decimal(-1))


def test_settings_refuse_a_negative_stuck_limit():
    with pytest.raises(InvalidFunnelSettings, match="stuck_days -5 is negative"):
        FunnelSettings(stuck_days=-5)
    with pytest.raises(InvalidFunnelSettings, match=r"stuck_days_by_stage\[<Stage.ENTRY: 2>\] -1"):
        FunnelSettings(stuck_days_by_stage={Stage.ENTRY: -1})


def test_a_stuck_limit_for_implementation_is_refused():
    with pytest.raises(
        InvalidFunnelSettings, match=r"<Stage\.IMPLEMENTATION: 6> is not a stage 1-5"
    ):
        FunnelSettings(stuck_days_by_stage={Stage.IMPLEMENTATION: 30})


def test_the_stuck_limit_can_differ_by_stage():
    settings = FunnelSettings(stuck_days_by_stage={Stage.DEVELOPMENT: 180})
    assert settings.stuck_limit(Stage.DEVELOPMENT) == 180
    assert settings.stuck_limit(Stage.TENDER) == 90


# --- the funnel ---------------------------------------------------------------------------


def test_the_funnel_has_a_row_for_each_open_stage_even_when_empty():
    rows = funnel.funnel((), today=TODAY)
    assert [r.stage for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].name == Text("开发阶段", "Development")
    assert (rows[0].count, rows[0].value, rows[0].weighted_value) == (0, 0, 0)
    assert (rows[0].average_age_days, rows[0].max_age_days) == (None, None)


def test_a_stage_row_counts_values_and_ages_the_open_deals_in_it():
    deals = (
        make_deal("a", 600000, Stage.PROPOSAL, stage_entered_on=dt.date(2025, 4, 15)),  # 30 days
        make_deal("b", 200000, Stage.PROPOSAL, stage_entered_on=dt.date(2025, 5, 5)),  # 10 days
        make_deal("c", 100000, Stage.PROPOSAL),  # no entry date: not aged
        make_deal("d", 900000, Stage.PROPOSAL, outcome=Outcome.LOST),
        make_deal("e", 50000, Stage.DEVELOPMENT, stage_entered_on=TODAY),
    )
    rows = funnel.funnel(deals, today=TODAY)
    proposal = rows[2]
    assert proposal.count == 3
    assert proposal.value == Decimal("900000")
    # 900000 x 0.40
    assert proposal.weighted_value == Decimal("360000.00")
    assert proposal.average_age_days == 20.0
    assert proposal.max_age_days == 30
    assert proposal.deal_ids == ("a", "b", "c")
    assert (rows[0].count, rows[0].weighted_value, rows[0].max_age_days) == (1, Decimal("5000"), 0)


def test_the_funnel_weighs_deals_by_the_probabilities_given():
    deals = (make_deal("a", 600000, Stage.PROPOSAL), make_deal("b", 200000, Stage.PROPOSAL))
    rows = funnel.funnel(deals, today=TODAY, probabilities={"a": 0.25})
    # 600000 x 0.25 + 200000 x 0.40 (the stage default for b)
    assert rows[2].weighted_value == Decimal("230000.00")


def test_a_deal_forced_past_its_gates_weighs_less():
    # stage 3 with nothing evidenced: 0.40 x 0.5 x 0.5 = 0.10
    rows = funnel.funnel([make_deal("a", 600000, Stage.PROPOSAL, in_step=False)], today=TODAY)
    assert rows[2].weighted_value == Decimal("60000.00")


def test_the_company_stage_probabilities_weigh_the_funnel():
    proposal = replace(DEFAULT_STAGES[2], probability=0.5)
    settings = ProcessSettings(stages=(*DEFAULT_STAGES[:2], proposal, *DEFAULT_STAGES[3:]))
    deals = [make_deal("a", 600000, Stage.PROPOSAL)]
    rows = funnel.funnel(deals, today=TODAY, process_settings=settings)
    # 600000 x 0.5
    assert rows[2].weighted_value == Decimal("300000.00")


def test_weighted_values_are_rounded_to_cents():
    # 33333.33 x 0.10 = 3333.333
    rows = funnel.funnel([make_deal("a", "33333.33")], today=TODAY)
    assert rows[0].weighted_value == Decimal("3333.33")


def test_an_age_is_never_negative_in_a_back_dated_report():
    deal = make_deal("a", 100000, stage_entered_on=dt.date(2025, 6, 1))
    assert funnel.funnel([deal], today=TODAY)[0].max_age_days == 0


def test_an_open_deal_recorded_in_implementation_is_left_out():
    deal = make_deal("a", 100000, Stage.IMPLEMENTATION)
    assert sum(r.count for r in funnel.funnel([deal], today=TODAY)) == 0


def test_a_probability_outside_zero_to_one_is_refused():
    with pytest.raises(InvalidProbability, match=r"deal 'a': probability 1\.2 is not in 0\.\.1"):
        funnel.funnel([make_deal("a", 100000)], today=TODAY, probabilities={"a": 1.2})


def test_a_negative_deal_amount_is_refused():
    with pytest.raises(InvalidAmount, match="deal 'a': amount -5 is negative"):
        funnel.funnel([make_deal("a", -5)], today=TODAY)


# --- the forecast -------------------------------------------------------------------------


def test_the_forecast_keeps_each_part_apart():
    result = funnel.forecast(DEALS, ORDERS, period=Q2, today=TODAY, target=Decimal("2000000"))
    # w1 500000 + w3 200000 (no close date, expected 1 June)
    assert result.won.amount == Decimal("700000")
    assert result.won.deal_ids == ("w1", "w3")
    # 30000 + 15000 (today counts)
    assert result.off_funnel.amount == Decimal("45000")
    # o1 600000 x 0.40 + o2 (overdue since March) 1000000 x 0.80
    assert result.weighted_open.amount == Decimal("1040000.00")
    assert result.weighted_open.deal_ids == ("o1", "o2")
    # 45000 / 45 days x 46 days left
    assert result.off_funnel_run_rate.amount == Decimal("46000.00")
    assert result.total.amount == Decimal("1831000.00")
    assert result.target == Decimal("2000000")
    # (700000 + 45000) / 2000000
    assert result.progress == pytest.approx(0.3725)
    # 1831000 / 2000000
    assert result.expected_progress == pytest.approx(0.9155)


def test_each_forecast_part_has_a_label_in_both_languages():
    result = funnel.forecast(DEALS, ORDERS, period=Q2, today=TODAY)
    assert [p.label.zh for p in result.parts] == [
        "漏斗内已成交",
        "漏斗外销售额(至今)",
        "在途商机加权预计",
        "漏斗外销售额预计(本期剩余天数)",
    ]
    assert result.total.label == Text("销售预计", "Forecast")
    assert result.off_funnel_run_rate.label.en == "Off-funnel run rate for the rest of the period"


def test_overdue_deals_can_be_kept_out_of_the_forecast():
    settings = FunnelSettings(count_overdue_in_forecast=False)
    result = funnel.forecast(DEALS, ORDERS, period=Q2, today=TODAY, settings=settings)
    assert result.weighted_open.amount == Decimal("240000.00")


def test_the_forecast_uses_the_probabilities_given():
    result = funnel.forecast(DEALS, ORDERS, period=Q2, today=TODAY, probabilities={"o1": 0.25})
    # 600000 x 0.25 + 1000000 x 0.80
    assert result.weighted_open.amount == Decimal("950000.00")


def test_after_the_period_only_what_happened_counts():
    result = funnel.forecast(DEALS, ORDERS, period=Q2, today=dt.date(2025, 7, 10))
    assert result.won.amount == Decimal("700000")
    # 30000 + 15000 + 20000
    assert result.off_funnel.amount == Decimal("65000")
    assert result.weighted_open.amount == 0
    assert result.off_funnel_run_rate.amount == 0
    assert result.total.amount == Decimal("765000")


def test_before_the_period_only_the_open_deals_closing_in_it_count():
    q3 = Period(dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    result = funnel.forecast(DEALS, ORDERS, period=q3, today=TODAY)
    # o3 400000 x 0.20; o2, overdue, counts in the current quarter only
    assert result.weighted_open.amount == Decimal("80000.00")
    assert result.weighted_open.deal_ids == ("o3",)
    assert result.won.amount == 0
    assert result.off_funnel.amount == 0
    assert result.off_funnel_run_rate.amount == 0


def test_on_the_last_day_of_the_period_nothing_is_left_to_run():
    result = funnel.forecast((), ORDERS, period=Q2, today=Q2.end)
    assert result.off_funnel.amount == Decimal("65000")
    assert result.off_funnel_run_rate.amount == 0


def test_the_run_rate_is_rounded_to_cents():
    orders = [OffFunnelOrder(Decimal("10000"), dt.date(2025, 4, 2))]
    result = funnel.forecast((), orders, period=Q2, today=TODAY)
    # 10000 / 45 x 46 = 10222.222...
    assert result.off_funnel_run_rate.amount == Decimal("10222.22")


def test_without_a_target_there_is_no_progress():
    result = funnel.forecast(DEALS, ORDERS, period=Q2, today=TODAY)
    assert (result.target, result.progress, result.expected_progress) == (None, None, None)
    zero = funnel.forecast(DEALS, ORDERS, period=Q2, today=TODAY, target=Decimal(0))
    assert (zero.progress, zero.expected_progress) == (None, None)


def test_a_negative_target_is_refused():
    with pytest.raises(InvalidTarget, match="target -1 is negative"):
        funnel.forecast(DEALS, ORDERS, period=Q2, today=TODAY, target=Decimal(-1))


def test_a_negative_off_funnel_order_is_refused():
    orders = [OffFunnelOrder(Decimal("-100"), dt.date(2025, 4, 2))]
    with pytest.raises(InvalidAmount, match="off-funnel order of 2025-04-02: amount -100"):
        funnel.forecast((), orders, period=Q2, today=TODAY)


days = st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
amounts = st.decimals(0, 10_000_000, places=2)
random_deals = st.lists(
    st.builds(
        Deal,
        id=st.text("abcdef", min_size=1, max_size=4),
        name=st.just("deal"),
        amount=amounts,
        stage=st.sampled_from(list(Stage)),
        outcome=st.sampled_from(list(Outcome)),
        expected_close=st.none() | days,
        closed_on=st.none() | days,
    ),
    max_size=8,
)
random_orders = st.lists(st.builds(OffFunnelOrder, amount=amounts, on=days), max_size=8)


@given(
    deals=random_deals,
    orders=random_orders,
    start=days,
    length=st.integers(0, 120),
    today=days,
    target=st.none() | amounts,
    probability=st.floats(0, 1),
)
def test_the_parts_of_a_forecast_always_add_up_to_its_total(
    deals, orders, start, length, today, target, probability
):
    period = Period(start, start + dt.timedelta(days=length))
    result = funnel.forecast(
        deals,
        orders,
        period=period,
        today=today,
        target=target,
        probabilities={d.id: probability for d in deals[:2]},
    )
    assert sum(p.amount for p in result.parts) == result.total.amount
    assert result.total.amount >= result.won.amount + result.off_funnel.amount
    assert all(p.amount >= 0 for p in result.parts)


# --- health -------------------------------------------------------------------------------


def test_a_deal_longer_in_its_stage_than_the_limit_is_stuck():
    deals = (
        make_deal("long", 100000, Stage.ENTRY, stage_entered_on=dt.date(2025, 1, 1)),  # 134 days
        make_deal("edge", 100000, Stage.ENTRY, stage_entered_on=dt.date(2025, 2, 14)),  # 90 days
        make_deal("over", 100000, Stage.TENDER, stage_entered_on=dt.date(2025, 2, 13)),  # 91 days
        make_deal("undated", 100000, Stage.ENTRY),
        make_deal("lost", 100000, outcome=Outcome.LOST, stage_entered_on=dt.date(2024, 1, 1)),
    )
    found = funnel.stuck(deals, today=TODAY)
    assert [(s.deal_id, s.days, s.limit) for s in found] == [("long", 134, 90), ("over", 91, 90)]
    assert found[0].stage is Stage.ENTRY
    assert found[0].reason == Text(
        "在销售进入阶段已停留134天,超过90天的期限", "134 days in Sales entry, over the 90-day limit"
    )


def test_a_longer_limit_for_one_stage_spares_its_deals():
    settings = FunnelSettings(stuck_days_by_stage={Stage.ENTRY: 180})
    deal = make_deal("long", 100000, Stage.ENTRY, stage_entered_on=dt.date(2025, 1, 1))
    assert funnel.stuck([deal], today=TODAY, settings=settings) == ()


def test_an_open_deal_past_its_expected_close_is_overdue():
    deals = (
        make_deal("late", 100000, expected_close=dt.date(2025, 3, 15)),  # 61 days
        make_deal("later", 100000, expected_close=dt.date(2025, 1, 1)),  # 134 days
        make_deal("due_today", 100000, expected_close=TODAY),
        make_deal("undated", 100000),
        won("done", 100000, dt.date(2025, 5, 1), expected_close=dt.date(2025, 1, 1)),
    )
    found = funnel.overdue(deals, today=TODAY)
    assert [(o.deal_id, o.days) for o in found] == [("later", 134), ("late", 61)]
    assert found[1].expected_close == dt.date(2025, 3, 15)
    assert found[1].reason == Text(
        "已超过预计成交日期(2025-03-15)61天", "61 days past its expected close date (2025-03-15)"
    )


def test_deals_advanced_without_their_key_nodes_are_listed_with_what_is_missing():
    override = Override(
        Stage.DEVELOPMENT, Stage.ENTRY, ("grade_given",), "tender soon", "li", dt.date(2025, 2, 1)
    )
    caught_up = make_deal("caught_up", 100000, Stage.ENTRY, overrides=(override,))
    deals = (
        make_deal("fine", 100000, Stage.TENDER),
        make_deal("imported", 100000, Stage.PROPOSAL, in_step=False),
        caught_up,
        make_deal("lost", 100000, Stage.TENDER, in_step=False, outcome=Outcome.LOST),
    )
    found = funnel.forced(deals)
    assert [f.deal_id for f in found] == ["imported", "caught_up"]
    imported = found[0]
    assert (imported.stage, imported.customer_step) == (Stage.PROPOSAL, Stage.DEVELOPMENT)
    # the 4 nodes of stage 1 and the 2 of stage 2
    assert len(imported.missing) == 6
    assert imported.overrides == ()
    assert imported.reason.en.endswith("No forced advance was recorded.")
    assert found[1].missing == ()
    assert found[1].overrides == (override,)
    assert found[1].reason == Text(
        "曾强行推进1次,缺的关键节点已补齐",
        "Forced past a gate 1 time(s); the missing key nodes have since been evidenced",
    )


def test_stage_conversion_counts_the_highest_stage_each_deal_reached():
    deals = (
        make_deal("a", 1, Stage.DEVELOPMENT),
        make_deal("b", 1, Stage.DEVELOPMENT, outcome=Outcome.ABANDONED),
        make_deal("c", 1, Stage.ENTRY),
        make_deal("d", 1, Stage.PROPOSAL),
        make_deal("e", 1, Stage.PROPOSAL, outcome=Outcome.LOST),
        won("f", 1, TODAY),
    )
    rows = funnel.stage_conversion(deals)
    assert [(r.stage, r.reached, r.reached_next) for r in rows] == [
        (1, 6, 4),
        (2, 4, 3),
        (3, 3, 1),
        (4, 1, 1),
        (5, 1, 1),
        (6, 1, None),
    ]
    assert [r.rate for r in rows] == [pytest.approx(4 / 6), 0.75, pytest.approx(1 / 3), 1, 1, None]


def test_stage_conversion_of_no_deals_has_no_rates():
    rows = funnel.stage_conversion(())
    assert [(r.reached, r.rate) for r in rows] == [(0, None)] * 6
