import datetime as dt
import math
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.method.screening import (
    DEFAULT_FACTORS,
    DEFAULT_SETTINGS,
    GradeRule,
    InvalidAmount,
    InvalidFactorScore,
    InvalidFunnelCounts,
    InvalidLikelihood,
    InvalidScreeningSettings,
    KnockOut,
    MissingFactorScore,
    RatioRule,
    RiskFactor,
    ScreeningError,
    ScreeningSettings,
    UnknownFactor,
    decide,
    funnel_ratios,
    grade,
    leads_needed,
    months_later,
    score_risk,
)
from kam.method.types import Decision, Grade, MethodError, Text

KEYS = [f.key for f in DEFAULT_FACTORS]
TODAY = dt.date(2025, 11, 30)

# Default weights 20/20/15/10/15/10/10 out of 100; one step up the 1-5 scale is a
# quarter of a factor's weight: 5, 5, 3.75, 2.5, 3.75, 2.5, 2.5 points.
TYPICAL = {
    "scale_budget": 5,  # 20
    "funding_credit": 4,  # 15
    "relationship": 3,  # 7.5
    "need_clarity": 2,  # 2.5
    "technical_fit": 5,  # 15
    "competition": 1,  # 0
    "decision_process": 3,  # 5
}  # 65


def all_scored(value, **overrides):
    return {k: value for k in KEYS} | overrides


# ---------------------------------------------------------------------------
# Risk assessment table
# ---------------------------------------------------------------------------


def test_the_default_table_has_the_seven_factors_of_the_method_in_order():
    assert [(f.key, f.label.zh) for f in DEFAULT_FACTORS] == [
        ("scale_budget", "规模和预算"),
        ("funding_credit", "资金状况和信誉"),
        ("relationship", "关系紧密程度"),
        ("need_clarity", "需求明确度"),
        ("technical_fit", "技术匹配"),
        ("competition", "竞争态势"),
        ("decision_process", "决策流程清晰"),
    ]
    assert sum(f.weight for f in DEFAULT_FACTORS) == 100


def test_a_typical_table_scores_65_with_each_factors_share():
    card = score_risk(TYPICAL)
    assert card.score == pytest.approx(65.0)
    assert [(f.key, f.score, f.contribution, f.max_contribution) for f in card.factors] == [
        ("scale_budget", 5, 20.0, 20.0),
        ("funding_credit", 4, 15.0, 20.0),
        ("relationship", 3, 7.5, 15.0),
        ("need_clarity", 2, 2.5, 10.0),
        ("technical_fit", 5, 15.0, 15.0),
        ("competition", 1, 0.0, 10.0),
        ("decision_process", 3, 5.0, 10.0),
    ]
    assert card.of("relationship").label == Text("关系紧密程度", "Closeness of our relationship")


def test_all_lowest_is_0_all_middle_is_50_and_all_highest_is_100():
    assert score_risk(all_scored(1)).score == 0.0
    assert score_risk(all_scored(3)).score == pytest.approx(50.0)
    assert score_risk(all_scored(5)).score == 100.0


def test_a_company_can_use_its_own_factors_weights_and_scale():
    settings = ScreeningSettings(
        factors=(
            RiskFactor("payment_history", Text("回款记录", "payment history"), 1),
            RiskFactor("site_access", Text("现场条件", "site access"), 3),
        ),
        min_score=0,
        max_score=10,
        knockouts=(),
    )
    card = score_risk({"payment_history": 10, "site_access": 5}, settings=settings)
    # payment_history: 1/4 of 100 = 25 at the top, scored 10/10 -> 25
    # site_access: 3/4 of 100 = 75 at the top, scored 5/10 -> 37.5
    assert [f.contribution for f in card.factors] == [25.0, 37.5]
    assert card.score == 62.5


def test_a_factor_with_no_weight_adds_nothing():
    factors = (
        RiskFactor("a", Text("甲", "a"), 0),
        RiskFactor("b", Text("乙", "b"), 2.5),
    )
    card = score_risk({"a": 5, "b": 3}, settings=ScreeningSettings(factors=factors, knockouts=()))
    assert card.of("a").contribution == 0.0
    assert card.score == 50.0


def test_a_missing_factor_is_named():
    scores = dict(TYPICAL)
    del scores["competition"]
    with pytest.raises(MissingFactorScore, match="'competition'"):
        score_risk(scores)


def test_an_unknown_factor_is_named_with_the_known_ones():
    with pytest.raises(UnknownFactor, match=r"'fundng_credit'.*scale_budget, funding_credit"):
        score_risk(TYPICAL | {"fundng_credit": 3})


@pytest.mark.parametrize("bad", [0, 6, -1, 3.0, 2.5, True, "3", None])
def test_a_score_off_the_1_to_5_scale_or_not_whole_is_rejected_naming_the_factor(bad):
    with pytest.raises(InvalidFactorScore, match=r"'need_clarity'.*from 1 to 5"):
        score_risk(TYPICAL | {"need_clarity": bad})


def test_asking_a_scorecard_for_a_factor_it_lacks_names_it():
    with pytest.raises(UnknownFactor, match="'price'"):
        score_risk(TYPICAL).of("price")


def test_every_error_of_the_module_is_a_method_error():
    assert issubclass(ScreeningError, MethodError)
    for error in (InvalidAmount, InvalidFunnelCounts, InvalidLikelihood, UnknownFactor):
        assert issubclass(error, ScreeningError)


weights = st.one_of(st.integers(0, 100), st.floats(0, 1e6, allow_nan=False))


@st.composite
def tables(draw):
    """Settings with 1-7 factors of random weights (at least one positive) and their scores."""
    n = draw(st.integers(1, 7))
    ws = draw(st.lists(weights, min_size=n, max_size=n).filter(lambda w: sum(w) > 0))
    factors = tuple(
        RiskFactor(f"f{i}", Text(f"因素{i}", f"factor {i}"), w) for i, w in enumerate(ws)
    )
    scores = {f.key: draw(st.integers(1, 5)) for f in factors}
    return ScreeningSettings(factors=factors, knockouts=()), scores


@given(tables())
def test_the_score_is_within_0_and_100_and_is_the_sum_of_the_contributions(table):
    settings, scores = table
    card = score_risk(scores, settings=settings)
    assert 0.0 <= card.score <= 100.0
    assert math.fsum(f.contribution for f in card.factors) == pytest.approx(card.score)
    assert math.fsum(f.max_contribution for f in card.factors) == pytest.approx(100.0)
    for f in card.factors:
        assert 0.0 <= f.contribution <= f.max_contribution


@given(tables(), st.data())
def test_raising_one_factors_score_never_lowers_the_total(table, data):
    settings, scores = table
    key = data.draw(st.sampled_from(sorted(scores)))
    higher = data.draw(st.integers(scores[key], 5))
    before = score_risk(scores, settings=settings).score
    after = score_risk(scores | {key: higher}, settings=settings).score
    assert after >= before


# ---------------------------------------------------------------------------
# ABCD classes
# ---------------------------------------------------------------------------


def test_months_are_calendar_months_ending_on_the_same_day_or_the_months_last():
    assert months_later(dt.date(2025, 3, 15), 3) == dt.date(2025, 6, 15)
    assert months_later(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)
    assert months_later(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert months_later(dt.date(2025, 11, 30), 12) == dt.date(2026, 11, 30)
    assert months_later(dt.date(2025, 5, 5), 0) == dt.date(2025, 5, 5)
    assert months_later(dt.date(9999, 12, 1), 1) == dt.date.max


@pytest.mark.parametrize(
    ("close", "likelihood", "expected"),
    [
        (dt.date(2026, 2, 28), 0.60, Grade.A),  # last day of "within 3 months" (30 Nov -> 28 Feb)
        (dt.date(2026, 3, 1), 0.60, Grade.B),  # one day later: only within 6 months
        (dt.date(2026, 1, 10), 0.59, Grade.B),  # soon but just under 60%
        (dt.date(2026, 5, 30), 0.40, Grade.B),  # last day of "within 6 months"
        (dt.date(2026, 5, 31), 0.90, Grade.C),  # past 6 months, within 12
        (dt.date(2026, 1, 10), 0.39, Grade.C),  # soon but under 40%
        (dt.date(2026, 11, 30), 0.05, Grade.C),  # within 12 months with a poor chance
        (dt.date(2026, 12, 1), 0.05, Grade.D),  # past 12 months with a poor chance
        (dt.date(2028, 6, 1), 0.20, Grade.C),  # far away with a fair chance (read as OR)
        (dt.date(2028, 6, 1), 0.19, Grade.D),
        (dt.date(2024, 1, 1), 0.60, Grade.A),  # a close date in the past counts as now
        (dt.date(2024, 1, 1), 0.0, Grade.C),
    ],
)
def test_the_default_grades_follow_close_date_and_win_likelihood(close, likelihood, expected):
    assert grade(close, today=TODAY, win_likelihood=likelihood) is expected


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan, math.inf, True, "0.5", None])
def test_a_win_likelihood_outside_0_to_1_is_rejected(bad):
    with pytest.raises(InvalidLikelihood, match="win_likelihood"):
        grade(TODAY, today=TODAY, win_likelihood=bad)


def test_a_company_can_set_its_own_grade_rules():
    settings = ScreeningSettings(
        grade_rules=(
            GradeRule(Grade.A, 1, 0.8),
            GradeRule(Grade.B, 2, 0.5, both=False),
        ),
        fallback_grade=Grade.C,
    )
    assert grade(dt.date(2025, 12, 30), today=TODAY, win_likelihood=0.8, settings=settings) is (
        Grade.A
    )
    assert grade(dt.date(2026, 6, 1), today=TODAY, win_likelihood=0.5, settings=settings) is (
        Grade.B
    )
    assert grade(dt.date(2026, 6, 1), today=TODAY, win_likelihood=0.4, settings=settings) is (
        Grade.C
    )


@st.composite
def grade_settings(draw):
    """Valid rule lists: random thresholds, grades never improving down the list."""
    n = draw(st.integers(0, 5))
    grades = sorted(draw(st.lists(st.sampled_from(list(Grade)), min_size=n, max_size=n)))
    rules = tuple(
        GradeRule(
            Grade(g),
            draw(st.integers(0, 36)),
            draw(st.floats(0, 1)),
            draw(st.booleans()),
        )
        for g in grades
    )
    return ScreeningSettings(grade_rules=rules)


dates = st.dates(dt.date(2020, 1, 1), dt.date(2032, 12, 31))
likelihoods = st.floats(0, 1)


@given(
    st.one_of(st.just(DEFAULT_SETTINGS), grade_settings()), dates, dates, likelihoods, likelihoods
)
def test_an_earlier_close_or_a_higher_likelihood_never_gives_a_worse_grade(
    settings, d1, d2, p1, p2
):
    early, late = sorted((d1, d2))
    low, high = sorted((p1, p2))
    worse = grade(late, today=TODAY, win_likelihood=low, settings=settings)
    better = grade(early, today=TODAY, win_likelihood=high, settings=settings)
    assert better <= worse  # "A" < "B" < "C" < "D"


# ---------------------------------------------------------------------------
# Pursue / nurture / drop
# ---------------------------------------------------------------------------


def test_a_b_deal_scoring_65_is_pursued_with_its_class_and_score_as_reason():
    result = decide(score_risk(TYPICAL), Grade.B)
    assert result.decision is Decision.PURSUE
    assert result.reasons == (
        Text(
            "B 类（6 个月内成交且赢单可能性不低于 40%），风险评分 65.0 分（门槛 50.0 分）："
            "优先投入时间和资源",
            "class B (closes within 6 months and win likelihood of at least 40%), "
            "risk score 65.0 (threshold 50.0): put time and resources on it first",
        ),
    )


def test_a_score_exactly_at_the_threshold_is_pursued():
    assert score_risk(all_scored(3)).score == 50.0
    assert decide(score_risk(all_scored(3)), Grade.A).decision is Decision.PURSUE


def test_funding_at_its_minimum_drops_the_deal_whatever_its_class():
    result = decide(score_risk(all_scored(5, funding_credit=1)), Grade.A)
    assert result.decision is Decision.DROP
    assert [r.en for r in result.reasons] == ["funding risk: funding and credit scored lowest"]


def test_every_knock_out_that_fires_is_a_reason():
    card = score_risk(all_scored(4, funding_credit=1, technical_fit=1))
    result = decide(card, Grade.A)
    assert result.decision is Decision.DROP
    assert [r.zh for r in result.reasons] == [
        "资金风险：客户资金状况和信誉评分最低",
        "客户需要的，我们的产品做不到",
    ]


def test_a_deal_below_the_minimum_amount_is_dropped_as_too_small():
    settings = ScreeningSettings(min_amount=Decimal("50000"))
    card = score_risk(TYPICAL)
    result = decide(card, Grade.A, amount=Decimal("30000"), settings=settings)
    assert result.decision is Decision.DROP
    assert result.reasons == (
        Text(
            "金额 30,000 低于值得跟进的最低金额 50,000",
            "amount 30,000 is below the minimum worth following (50,000)",
        ),
    )
    at_minimum = decide(card, Grade.A, amount=Decimal("50000"), settings=settings)
    assert at_minimum.decision is Decision.PURSUE
    assert decide(card, Grade.A, settings=settings).decision is Decision.PURSUE


def test_without_a_minimum_amount_no_deal_is_too_small():
    assert decide(score_risk(TYPICAL), Grade.A, amount=Decimal(1)).decision is Decision.PURSUE


def test_a_c_deal_with_a_good_score_is_nurtured_because_of_its_class():
    result = decide(score_risk(TYPICAL), Grade.C)
    assert result.decision is Decision.NURTURE
    assert result.reasons == (
        Text(
            "C 类（12 个月内成交或赢单可能性不低于 20%），"
            "不是优先投入的 A/B 类：保持联系，培育机会",
            "class C (closes within 12 months or win likelihood of at least 20%) "
            "is not a priority class (A/B): keep in touch and nurture it",
        ),
    )


def test_an_a_deal_with_a_low_score_is_nurtured_because_of_its_score():
    # 2 everywhere: a quarter of the way up the scale -> 25
    result = decide(score_risk(all_scored(2)), Grade.A)
    assert result.decision is Decision.NURTURE
    assert result.reasons == (
        Text(
            "风险评分 25.0 分，低于跟进门槛 50.0 分",
            "risk score 25.0 is below the pursue threshold 50.0",
        ),
    )


def test_a_d_deal_with_a_low_score_is_nurtured_with_both_reasons():
    result = decide(score_risk(all_scored(2)), Grade.D)
    assert result.decision is Decision.NURTURE
    assert [r.en for r in result.reasons] == [
        "class D (meets none of the grading rules) is not a priority class (A/B): "
        "keep in touch and nurture it",
        "risk score 25.0 is below the pursue threshold 50.0",
    ]


def test_a_grade_with_neither_rule_nor_fallback_is_named_plainly():
    settings = ScreeningSettings(
        grade_rules=(GradeRule(Grade.A, 3, 0.6),),
        fallback_grade=Grade.C,
        pursue_grades=frozenset({Grade.A}),
    )
    result = decide(score_risk(TYPICAL), Grade.B, settings=settings)
    assert result.reasons == (
        Text(
            "B 类，不是优先投入的 A 类：保持联系，培育机会",
            "class B is not a priority class (A): keep in touch and nurture it",
        ),
    )


def test_a_company_can_set_its_knock_outs_threshold_and_priority_classes():
    settings = ScreeningSettings(
        knockouts=(KnockOut("relationship", Text("没有关系", "no relationship"), at_most=2),),
        pursue_grades=frozenset({Grade.A}),
        pursue_min_score=70,
    )
    assert decide(score_risk(TYPICAL | {"relationship": 2}), Grade.A, settings=settings) == (
        decide(score_risk(all_scored(5, relationship=1)), Grade.A, settings=settings)
    )
    dropped = decide(score_risk(all_scored(5, relationship=2)), Grade.A, settings=settings)
    assert (dropped.decision, dropped.reasons[0].en) == (Decision.DROP, "no relationship")
    assert decide(score_risk(all_scored(5)), Grade.B, settings=settings).decision is (
        Decision.NURTURE
    )
    # funding 1 is no knock-out here: 100 - 20 = 80 >= 70
    assert decide(
        score_risk(all_scored(5, funding_credit=1)), Grade.A, settings=settings
    ).decision is (Decision.PURSUE)
    assert decide(score_risk(TYPICAL), Grade.A, settings=settings).decision is Decision.NURTURE


def test_a_knock_out_on_a_factor_the_scorecard_lacks_is_named():
    other = ScreeningSettings(factors=(RiskFactor("x", Text("x", "x"), 1),), knockouts=())
    with pytest.raises(UnknownFactor, match="'funding_credit'"):
        decide(score_risk({"x": 3}, settings=other), Grade.A)


@pytest.mark.parametrize("bad", [Decimal("-1"), Decimal("NaN"), 1000.0, True])
def test_a_negative_or_non_decimal_amount_is_rejected(bad):
    with pytest.raises(InvalidAmount, match="amount"):
        decide(score_risk(TYPICAL), Grade.A, amount=bad)


@given(
    st.fixed_dictionaries({k: st.integers(1, 5) for k in KEYS}),
    st.sampled_from(list(Grade)),
    st.one_of(st.none(), st.decimals(0, 10**7, places=2)),
    st.one_of(st.none(), st.decimals(0, 10**7, places=2)),
)
def test_every_outcome_carries_at_least_one_reason(scores, g, amount, minimum):
    result = decide(
        score_risk(scores), g, amount=amount, settings=ScreeningSettings(min_amount=minimum)
    )
    assert len(result.reasons) >= 1
    assert all(r.zh and r.en for r in result.reasons)


# ---------------------------------------------------------------------------
# 10-5-3-1
# ---------------------------------------------------------------------------


def test_a_reps_ratios_are_shown_against_10_5_3_1():
    report = funnel_ratios(20, 8, 3, 1)
    rows = [(s.key, s.from_count, s.to_count, s.actual, s.expected, s.below) for s in report.steps]
    assert rows == [
        ("lead_to_potential", 20, 8, 0.4, 0.5, True),  # 8/20 vs 5/10
        ("potential_to_proposal", 8, 3, 0.375, 0.6, True),  # 3/8 vs 3/5
        ("proposal_to_order", 3, 1, 1 / 3, 1 / 3, False),  # 1/3 equals the rule
    ]
    assert [s.gap for s in report.steps] == [pytest.approx(-0.1), pytest.approx(-0.225), 0.0]
    assert report.steps[0].label == Text("线索 → 潜在客户", "lead → potential customer")
    assert (report.overall.actual, report.overall.expected, report.overall.below) == (
        0.05,
        0.1,
        True,
    )


def test_a_rep_above_the_rule_is_not_below_it():
    report = funnel_ratios(10, 6, 4, 2)
    assert [s.below for s in report.steps] == [False, False, False]
    assert report.steps[2].gap == pytest.approx(0.5 - 1 / 3)


def test_steps_nothing_entered_have_no_rate_instead_of_crashing():
    report = funnel_ratios(5, 0, 0, 0)
    assert [(s.actual, s.gap, s.below) for s in report.steps] == [
        (0.0, -0.5, True),
        (None, None, False),
        (None, None, False),
    ]
    empty = funnel_ratios(0, 0, 0, 0)
    assert [s.actual for s in (*empty.steps, empty.overall)] == [None] * 4


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ((-1, 0, 0, 0), "leads must be a whole number"),
        ((10, 5.0, 3, 1), "potentials must be a whole number"),
        ((10, 5, 3, True), "orders must be a whole number"),
        ((10, 11, 3, 1), r"potentials \(11\) cannot exceed leads \(10\)"),
        ((10, 5, 3, 4), r"orders \(4\) cannot exceed proposals \(3\)"),
    ],
)
def test_impossible_funnel_counts_are_named(counts, message):
    with pytest.raises(InvalidFunnelCounts, match=message):
        funnel_ratios(*counts)


def test_a_company_can_set_its_own_ratio_rule():
    settings = ScreeningSettings(ratio_rule=RatioRule(20, 10, 4, 1))
    report = funnel_ratios(20, 10, 4, 1, settings=settings)
    assert [s.expected for s in report.steps] == [0.5, 0.4, 0.25]
    assert [s.below for s in report.steps] == [False, False, False]
    assert settings.ratio_rule.lead_to_order == 0.05
    assert RatioRule().lead_to_order == 0.1


def test_a_target_of_a_million_at_300_thousand_a_order_needs_40_leads():
    needed = leads_needed(Decimal("1000000"), Decimal("300000"))
    # 1,000,000 / 300,000 = 3.33 -> 4 orders; x3 proposals, x5 potentials, x10 leads
    assert (needed.orders, needed.proposals, needed.potentials, needed.leads) == (4, 12, 20, 40)
    assert needed.lead_to_order == 0.1
    assert (needed.target, needed.average_order_value) == (Decimal("1000000"), Decimal("300000"))


def test_a_target_that_divides_exactly_needs_no_extra_order():
    needed = leads_needed(Decimal("900000"), Decimal("300000"))
    assert (needed.orders, needed.leads) == (3, 30)


def test_a_reps_own_lead_to_order_rate_is_taken_as_written():
    # 21 orders at 35%: 21 / 0.35 = 60 exactly, though the float division gives 60.000...01
    needed = leads_needed(Decimal("2100000"), Decimal("100000"), lead_to_order=0.35)
    assert (needed.orders, needed.leads, needed.lead_to_order) == (21, 60, 0.35)
    # the rule would ask 63 proposals and 105 potentials: never more than the 60 leads
    assert (needed.proposals, needed.potentials) == (60, 60)
    assert leads_needed(Decimal(5), Decimal(1), lead_to_order=1).leads == 5


def test_the_leads_needed_follow_a_companys_rule():
    settings = ScreeningSettings(ratio_rule=RatioRule(12, 6, 2, 1))
    needed = leads_needed(Decimal("250"), Decimal("100"), settings=settings)
    assert (needed.orders, needed.proposals, needed.potentials, needed.leads) == (3, 6, 18, 36)


@pytest.mark.parametrize(
    ("target", "average", "message"),
    [
        (Decimal(0), Decimal(1), "target must be more than 0"),
        (Decimal(-5), Decimal(1), "target must be more than 0"),
        (Decimal("Infinity"), Decimal(1), "target must be more than 0"),
        (1000.0, Decimal(1), "target 1000.0 is not a Decimal"),
        (Decimal(100), Decimal(0), "average_order_value must be more than 0"),
        (Decimal(100), Decimal("NaN"), "average_order_value must be more than 0"),
    ],
)
def test_a_target_or_order_value_of_zero_or_less_is_rejected(target, average, message):
    with pytest.raises(InvalidAmount, match=message):
        leads_needed(target, average)


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, math.nan, True, "0.1"])
def test_a_lead_to_order_rate_outside_0_to_1_is_rejected(bad):
    with pytest.raises(InvalidLikelihood, match="lead_to_order"):
        leads_needed(Decimal(100), Decimal(10), lead_to_order=bad)


money = st.decimals(Decimal("0.01"), Decimal("1e9"), places=2)


@given(money, money, money, st.one_of(st.none(), st.floats(0.001, 1)))
def test_a_higher_target_never_needs_fewer_leads(t1, t2, average, rate):
    low, high = sorted((t1, t2))
    a = leads_needed(low, average, lead_to_order=rate)
    b = leads_needed(high, average, lead_to_order=rate)
    for name in ("orders", "proposals", "potentials", "leads"):
        assert getattr(a, name) <= getattr(b, name)
    assert b.orders * average >= high > (b.orders - 1) * average


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def factor(key, weight):
    return RiskFactor(key, Text(key, key), weight)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: factor("competition", -1), r"'competition': weight must be 0 or more"),
        (lambda: factor("competition", math.inf), r"'competition': weight must be 0 or more"),
        (lambda: factor("competition", "10"), r"'competition': weight must be a number"),
        (lambda: ScreeningSettings(factors=(), knockouts=()), "no factors"),
        (
            lambda: ScreeningSettings(factors=(factor("a", 0), factor("b", 0)), knockouts=()),
            "weights of a, b add up to 0",
        ),
        (
            lambda: ScreeningSettings(factors=(factor("a", 1), factor("a", 2)), knockouts=()),
            "listed twice: a",
        ),
        (lambda: ScreeningSettings(min_score=5, max_score=5), "min_score 5 must be below"),
        (
            lambda: ScreeningSettings(knockouts=(KnockOut("price", Text("x", "x")),)),
            "knock-out on unknown factor 'price'",
        ),
        (
            lambda: ScreeningSettings(knockouts=(KnockOut("competition", Text("x", "x"), 0),)),
            "'competition': at_most 0 is off the 1-5 scale",
        ),
        (
            lambda: ScreeningSettings(
                grade_rules=(GradeRule(Grade.B, 6, 0.4), GradeRule(Grade.A, 3, 0.6))
            ),
            r"grade rule 2 \(A\) comes after a rule for grade B",
        ),
        (
            lambda: ScreeningSettings(grade_rules=(GradeRule(Grade.A, -1, 0.6),)),
            r"grade rule 1 \(A\): months -1",
        ),
        (
            lambda: ScreeningSettings(grade_rules=(GradeRule(Grade.A, 3, 1.2),)),
            r"grade rule 1 \(A\): min_likelihood 1.2",
        ),
        (
            lambda: ScreeningSettings(fallback_grade=Grade.B),
            "fallback grade B is better than grade rule C",
        ),
        (lambda: ScreeningSettings(pursue_min_score=101), "pursue_min_score 101"),
        (lambda: ScreeningSettings(min_amount=Decimal(-1)), "min_amount must be 0 or more"),
        (lambda: RatioRule(10, 5, 3, 0), "orders must be a whole number of at least 1"),
        (lambda: RatioRule(10, 5, 6, 1), r"proposals \(6\) cannot exceed potentials \(5\)"),
    ],
)
def test_unusable_settings_are_rejected_with_what_is_wrong(make, message):
    with pytest.raises(InvalidScreeningSettings, match=message):
        make()


def test_the_defaults_are_the_methods():
    s = DEFAULT_SETTINGS
    assert [(r.grade, r.months, r.min_likelihood, r.both) for r in s.grade_rules] == [
        (Grade.A, 3, 0.60, True),
        (Grade.B, 6, 0.40, True),
        (Grade.C, 12, 0.20, False),
    ]
    assert s.fallback_grade is Grade.D
    assert (s.min_score, s.max_score, s.pursue_min_score, s.min_amount) == (1, 5, 50.0, None)
    assert s.pursue_grades == {Grade.A, Grade.B}
    assert [(k.factor, k.at_most) for k in s.knockouts] == [
        ("funding_credit", 1),
        ("technical_fit", 1),
    ]
    assert (s.ratio_rule.leads, s.ratio_rule.potentials, s.ratio_rule.proposals) == (10, 5, 3)
    assert s.ratio_rule.orders == 1
    assert replace(s) == s


def test_a_rep_converting_better_than_the_rule_never_needs_more_potentials_than_leads():
    # 4 orders at the rep's own 30% lead-to-order rate: ceil(4 / 0.3) = 14 leads;
    # the rule would ask 4 x 5 = 20 potentials and 4 x 3 = 12 proposals: potentials cap at 14.
    needed = leads_needed(Decimal("400"), Decimal("100"), lead_to_order=0.3)
    assert (needed.leads, needed.potentials, needed.proposals, needed.orders) == (14, 14, 12, 4)
