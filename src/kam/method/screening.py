"""Screening a lead before investing in it (大客户筛选, METHOD.md §1) and the
10-5-3-1 rule (10-5-3-1 规律, METHOD.md §1 and §4).

Screening has three steps; this module holds the two that can be computed:

1. the risk assessment table (客户风险评估表): each factor scored 1-5, where 5 is
   the most favourable (lowest risk), turned into a 0-100 score
   (``score_risk``);
2. the ABCD priority class (ABCD 类优先排序) from the expected close date and
   the win likelihood (``grade``);

and it ends in pursue / nurture / drop with the reasons kept (``decide``).

The 10-5-3-1 rule compares a rep's conversions with "10 leads, 5 potential
customers, 3 proposals, 1 order" (``funnel_ratios``) and works back from a
target to the leads needed (``leads_needed``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from kam.method.types import Decision, Grade, MethodError, Text


class ScreeningError(MethodError):
    """Base of the errors of this module."""


class InvalidScreeningSettings(ScreeningError):
    """A factor, weight, grade rule, knock-out or threshold of the settings is not usable."""


class UnknownFactor(ScreeningError):
    """A score was given for a factor the risk table does not have."""


class MissingFactorScore(ScreeningError):
    """A factor of the risk table was not scored."""


class InvalidFactorScore(ScreeningError):
    """A factor's score is not a whole number on the table's scale (default 1-5)."""


class InvalidLikelihood(ScreeningError):
    """A win likelihood or conversion ratio is not in 0..1."""


class InvalidAmount(ScreeningError):
    """An amount, target or average order value is not a usable sum of money."""


class InvalidFunnelCounts(ScreeningError):
    """Funnel counts are negative, not whole, or grow down the funnel."""


_COUNT_NAMES = ("leads", "potentials", "proposals", "orders")


def _rank(grade: Grade) -> int:
    return list(Grade).index(grade)


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskFactor:
    """One row of the risk assessment table and its weight (any scale; only shares count)."""

    key: str
    label: Text
    weight: float

    def __post_init__(self) -> None:
        if isinstance(self.weight, bool) or not isinstance(self.weight, int | float):
            raise InvalidScreeningSettings(
                f"factor {self.key!r}: weight must be a number, got {self.weight!r}"
            )
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise InvalidScreeningSettings(
                f"factor {self.key!r}: weight must be 0 or more, got {self.weight!r}"
            )


# Weights sum to 100 so each reads as a percentage of the score. The source names
# scale and budget, funding and credit, and the closeness of the relationship
# first; funding risk and "needs what our product cannot do" are also the reasons
# it gives for dropping a project, so funding and technical fit weigh as much as
# the first-named factors. Clarity of the need, competition and the decision
# process share the rest equally.
DEFAULT_FACTORS = (
    RiskFactor("scale_budget", Text("规模和预算", "Customer scale and budget"), 20),
    RiskFactor("funding_credit", Text("资金状况和信誉", "Funding and credit"), 20),
    RiskFactor("relationship", Text("关系紧密程度", "Closeness of our relationship"), 15),
    RiskFactor("need_clarity", Text("需求明确度", "Clarity of the need"), 10),
    RiskFactor("technical_fit", Text("技术匹配", "Fit of our product and technology"), 15),
    RiskFactor("competition", Text("竞争态势", "Competitive position"), 10),
    RiskFactor("decision_process", Text("决策流程清晰", "Decision process known"), 10),
)


@dataclass(frozen=True)
class KnockOut:
    """Drop a deal whatever its total when ``factor`` is scored ``at_most`` or lower."""

    factor: str
    reason: Text
    at_most: int = 1


DEFAULT_KNOCKOUTS = (
    KnockOut(
        "funding_credit",
        Text(
            "资金风险：客户资金状况和信誉评分最低", "funding risk: funding and credit scored lowest"
        ),
    ),
    KnockOut(
        "technical_fit",
        Text("客户需要的，我们的产品做不到", "our product cannot do what is needed"),
    ),
)


@dataclass(frozen=True)
class GradeRule:
    """A deal gets ``grade`` when it closes within ``months`` calendar months and/or
    its win likelihood is at least ``min_likelihood``: both must hold when
    ``both`` is true, either one when it is false."""

    grade: Grade
    months: int
    min_likelihood: float
    both: bool = True

    def describe(self) -> Text:
        """The rule in words, e.g. "3 个月内成交且赢单可能性不低于 60%"."""
        p = f"{self.min_likelihood:.0%}"
        return Text(
            f"{self.months} 个月内成交{'且' if self.both else '或'}赢单可能性不低于 {p}",
            f"closes within {self.months} months {'and' if self.both else 'or'} "
            f"win likelihood of at least {p}",
        )


# METHOD.md: "C = within 12 months or 20–40%". Read literally as OR: a near deal
# with a poor chance, or a far deal with a fair chance, is still worth a C; the
# upper end of "20–40%" is implied because 40% and more within 6 months is a B.
DEFAULT_GRADE_RULES = (
    GradeRule(Grade.A, 3, 0.60),
    GradeRule(Grade.B, 6, 0.40),
    GradeRule(Grade.C, 12, 0.20, both=False),
)


@dataclass(frozen=True)
class RatioRule:
    """The 10-5-3-1 rule: leads -> potential customers -> proposals -> orders."""

    leads: int = 10
    potentials: int = 5
    proposals: int = 3
    orders: int = 1

    def __post_init__(self) -> None:
        counts = (self.leads, self.potentials, self.proposals, self.orders)
        for name, value in zip(_COUNT_NAMES, counts, strict=True):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidScreeningSettings(
                    f"ratio rule: {name} must be a whole number of at least 1, got {value!r}"
                )
        for i in range(3):
            if counts[i + 1] > counts[i]:
                raise InvalidScreeningSettings(
                    f"ratio rule: {_COUNT_NAMES[i + 1]} ({counts[i + 1]}) cannot exceed "
                    f"{_COUNT_NAMES[i]} ({counts[i]})"
                )

    @property
    def lead_to_order(self) -> float:
        return self.orders / self.leads


@dataclass(frozen=True)
class ScreeningSettings:
    """How a company screens deals. Defaults are METHOD.md's.

    ``factors``: the risk table, scored from ``min_score`` to ``max_score``
    (default 1-5, higher is better). ``knockouts``: factors that drop a deal at
    their lowest scores. ``grade_rules``: tried in order, best grade first; the
    first that holds gives the grade, ``fallback_grade`` when none does.
    ``pursue_grades`` and ``pursue_min_score``: a deal is pursued in one of these
    grades with at least this score (0-100). ``min_amount``: deals below it are
    too small to follow (``None``: no minimum). ``ratio_rule``: 10-5-3-1.
    """

    factors: tuple[RiskFactor, ...] = DEFAULT_FACTORS
    min_score: int = 1
    max_score: int = 5
    knockouts: tuple[KnockOut, ...] = DEFAULT_KNOCKOUTS
    grade_rules: tuple[GradeRule, ...] = DEFAULT_GRADE_RULES
    fallback_grade: Grade = Grade.D
    pursue_grades: frozenset[Grade] = frozenset({Grade.A, Grade.B})
    pursue_min_score: float = 50.0
    min_amount: Decimal | None = None
    ratio_rule: RatioRule = field(default_factory=RatioRule)

    def __post_init__(self) -> None:
        keys = [f.key for f in self.factors]
        if not keys:
            raise InvalidScreeningSettings("the risk table has no factors")
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise InvalidScreeningSettings(f"factor(s) listed twice: {', '.join(duplicates)}")
        if not sum(f.weight for f in self.factors) > 0:
            raise InvalidScreeningSettings(
                f"the weights of {', '.join(keys)} add up to 0; at least one must be positive"
            )
        if not self.min_score < self.max_score:
            raise InvalidScreeningSettings(
                f"min_score {self.min_score} must be below max_score {self.max_score}"
            )
        for k in self.knockouts:
            if k.factor not in keys:
                raise InvalidScreeningSettings(f"knock-out on unknown factor {k.factor!r}")
            if not self.min_score <= k.at_most <= self.max_score:
                raise InvalidScreeningSettings(
                    f"knock-out on {k.factor!r}: at_most {k.at_most} is off the "
                    f"{self.min_score}-{self.max_score} scale"
                )
        self._check_grade_rules()
        if not 0 <= self.pursue_min_score <= 100:
            raise InvalidScreeningSettings(
                f"pursue_min_score {self.pursue_min_score} is not in 0..100"
            )
        if self.min_amount is not None:
            _money(self.min_amount, "min_amount", InvalidScreeningSettings, allow_zero=True)

    def _check_grade_rules(self) -> None:
        # Grades must not improve down the list and every condition only gets
        # easier with an earlier date or a higher likelihood: together these make
        # the grade monotone.
        previous = Grade.A
        for i, rule in enumerate(self.grade_rules):
            where = f"grade rule {i + 1} ({rule.grade})"
            if isinstance(rule.months, bool) or not isinstance(rule.months, int) or rule.months < 0:
                raise InvalidScreeningSettings(f"{where}: months {rule.months!r} is not 0 or more")
            if not 0.0 <= rule.min_likelihood <= 1.0:
                raise InvalidScreeningSettings(
                    f"{where}: min_likelihood {rule.min_likelihood!r} is not in 0..1"
                )
            if _rank(rule.grade) < _rank(previous):
                raise InvalidScreeningSettings(
                    f"{where} comes after a rule for grade {previous}; list the best grade first"
                )
            previous = rule.grade
        if _rank(self.fallback_grade) < _rank(previous):
            raise InvalidScreeningSettings(
                f"fallback grade {self.fallback_grade} is better than grade rule {previous}"
            )

    def _keys(self) -> str:
        return ", ".join(f.key for f in self.factors)


DEFAULT_SETTINGS = ScreeningSettings()


# ---------------------------------------------------------------------------
# 1. Risk assessment table (客户风险评估表)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FactorScore:
    """One scored factor: ``contribution`` is the points it adds to the 0-100
    score, ``max_contribution`` what it would add at the top of the scale."""

    key: str
    label: Text
    weight: float
    score: int
    contribution: float
    max_contribution: float


@dataclass(frozen=True)
class Scorecard:
    """The filled-in risk table: 0-100 (100 = lowest risk) and each factor's part."""

    score: float
    factors: tuple[FactorScore, ...]

    def of(self, key: str) -> FactorScore:
        """The scored factor with this key."""
        for f in self.factors:
            if f.key == key:
                return f
        raise UnknownFactor(
            f"the scorecard has no factor {key!r}; it has {', '.join(f.key for f in self.factors)}"
        )


def score_risk(
    scores: Mapping[str, int], *, settings: ScreeningSettings = DEFAULT_SETTINGS
) -> Scorecard:
    """Score the risk table: the weighted mean of each factor's place on the scale.

    A factor scored ``s`` on ``min_score..max_score`` is worth
    ``(s - min) / (max - min) * 100`` points, weighted by its share of the total
    weight; the score is the sum of the contributions (with the default scale,
    ``(s - 1) / 4 * 100``). Every factor of the table must be scored, with a whole
    number on the scale, and nothing else may be.
    """
    for key in scores:
        if not any(f.key == key for f in settings.factors):
            raise UnknownFactor(f"unknown factor {key!r}; the risk table has {settings._keys()}")
    total = math.fsum(f.weight for f in settings.factors)
    span = settings.max_score - settings.min_score
    rows = []
    for f in settings.factors:
        if f.key not in scores:
            raise MissingFactorScore(f"factor {f.key!r} ({f.label.en}) has no score")
        s = scores[f.key]
        if (
            isinstance(s, bool)
            or not isinstance(s, int)
            or not settings.min_score <= s <= settings.max_score
        ):
            raise InvalidFactorScore(
                f"factor {f.key!r}: score {s!r} is not a whole number from "
                f"{settings.min_score} to {settings.max_score}"
            )
        top = f.weight / total * 100
        rows.append(
            FactorScore(f.key, f.label, f.weight, s, top * (s - settings.min_score) / span, top)
        )
    # fsum rounds once, so the sum is as exact as floats allow; the clamp only
    # absorbs that last rounding when every factor is at the top.
    score = min(100.0, math.fsum(r.contribution for r in rows))
    return Scorecard(score, tuple(rows))


# ---------------------------------------------------------------------------
# 2. ABCD priority class (ABCD 类优先排序)
# ---------------------------------------------------------------------------


def months_later(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, or the month's last day if
    it is shorter (31 Jan + 1 month = 28 or 29 Feb); ``date.max`` past year 9999."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + years
    if year > dt.MAXYEAR:
        return dt.date.max
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def grade(
    expected_close: dt.date,
    *,
    today: dt.date,
    win_likelihood: float,
    settings: ScreeningSettings = DEFAULT_SETTINGS,
) -> Grade:
    """The ABCD class of a deal.

    "Closes within N months" means ``expected_close <= months_later(today, N)``:
    on or before the same day N calendar months on (15 Mar + 3 months = 15 Jun,
    30 Nov + 3 months = 28 Feb). A close date already past counts as closing now.
    ``win_likelihood`` is in 0..1. The first rule of ``settings.grade_rules``
    that holds gives the grade, ``settings.fallback_grade`` when none does.
    """
    if (
        isinstance(win_likelihood, bool)
        or not isinstance(win_likelihood, int | float)
        or not 0.0 <= win_likelihood <= 1.0
    ):
        raise InvalidLikelihood(f"win_likelihood {win_likelihood!r} is not in 0..1")
    for rule in settings.grade_rules:
        soon = expected_close <= months_later(today, rule.months)
        likely = win_likelihood >= rule.min_likelihood
        if (soon and likely) if rule.both else (soon or likely):
            return rule.grade
    return settings.fallback_grade


# ---------------------------------------------------------------------------
# 3. Pursue / nurture / drop
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningDecision:
    """How screening ends, with at least one reason."""

    decision: Decision
    reasons: tuple[Text, ...]


def _grade_text(g: Grade, settings: ScreeningSettings) -> Text:
    for rule in settings.grade_rules:
        if rule.grade is g:
            d = rule.describe()
            return Text(f"{g} 类（{d.zh}）", f"class {g} ({d.en})")
    if g is settings.fallback_grade:
        return Text(f"{g} 类（不满足任何分级条件）", f"class {g} (meets none of the grading rules)")
    return Text(f"{g} 类", f"class {g}")


def decide(
    scorecard: Scorecard,
    grade: Grade,
    *,
    amount: Decimal | None = None,
    settings: ScreeningSettings = DEFAULT_SETTINGS,
) -> ScreeningDecision:
    """Pursue, nurture or drop a screened deal, with the reasons.

    Drop when a knock-out factor is at or below its limit, or ``amount`` is below
    ``settings.min_amount``; every such cause is a reason. Otherwise pursue when
    the grade is in ``settings.pursue_grades`` and the score is at least
    ``settings.pursue_min_score``; otherwise nurture, saying which fell short.
    Without an ``amount`` the minimum is not checked.
    """
    if amount is not None:
        amount = _money(amount, "amount", allow_zero=True)

    drop = [k.reason for k in settings.knockouts if scorecard.of(k.factor).score <= k.at_most]
    if amount is not None and settings.min_amount is not None and amount < settings.min_amount:
        drop.append(
            Text(
                f"金额 {amount:,} 低于值得跟进的最低金额 {settings.min_amount:,}",
                f"amount {amount:,} is below the minimum worth following ({settings.min_amount:,})",
            )
        )
    if drop:
        return ScreeningDecision(Decision.DROP, tuple(drop))

    score = f"{scorecard.score:.1f}"
    threshold = f"{settings.pursue_min_score:.1f}"
    good_grade = grade in settings.pursue_grades
    good_score = scorecard.score >= settings.pursue_min_score
    g = _grade_text(grade, settings)
    if good_grade and good_score:
        return ScreeningDecision(
            Decision.PURSUE,
            (
                Text(
                    f"{g.zh}，风险评分 {score} 分（门槛 {threshold} 分）：优先投入时间和资源",
                    f"{g.en}, risk score {score} (threshold {threshold}): "
                    "put time and resources on it first",
                ),
            ),
        )
    reasons = []
    if not good_grade:
        priority = "/".join(sorted(settings.pursue_grades))
        reasons.append(
            Text(
                f"{g.zh}，不是优先投入的 {priority} 类：保持联系，培育机会",
                f"{g.en} is not a priority class ({priority}): keep in touch and nurture it",
            )
        )
    if not good_score:
        reasons.append(
            Text(
                f"风险评分 {score} 分，低于跟进门槛 {threshold} 分",
                f"risk score {score} is below the pursue threshold {threshold}",
            )
        )
    return ScreeningDecision(Decision.NURTURE, tuple(reasons))


# ---------------------------------------------------------------------------
# 4. The 10-5-3-1 rule (10-5-3-1 规律)
# ---------------------------------------------------------------------------


_STEP_LABELS = {
    "lead_to_potential": Text("线索 → 潜在客户", "lead → potential customer"),
    "potential_to_proposal": Text("潜在客户 → 提案", "potential customer → proposal"),
    "proposal_to_order": Text("提案 → 订单", "proposal → order"),
    "lead_to_order": Text("线索 → 订单", "lead → order"),
}


@dataclass(frozen=True)
class RatioStep:
    """One conversion: ``actual`` is ``to_count / from_count`` (``None`` when
    nothing entered the step), ``expected`` the rule's, ``gap`` = actual - expected."""

    key: str
    label: Text
    from_count: int
    to_count: int
    actual: float | None
    expected: float

    @property
    def gap(self) -> float | None:
        return None if self.actual is None else self.actual - self.expected

    @property
    def below(self) -> bool:
        """Whether the actual rate is below the rule's; ``False`` without data."""
        return self.actual is not None and self.actual < self.expected


@dataclass(frozen=True)
class RatioReport:
    """The three step conversions of 10-5-3-1 and the overall lead -> order one."""

    steps: tuple[RatioStep, ...]
    overall: RatioStep


def _step(key: str, a: int, b: int, rule_a: int, rule_b: int) -> RatioStep:
    return RatioStep(key, _STEP_LABELS[key], a, b, b / a if a else None, rule_b / rule_a)


def funnel_ratios(
    leads: int,
    potentials: int,
    proposals: int,
    orders: int,
    *,
    settings: ScreeningSettings = DEFAULT_SETTINGS,
) -> RatioReport:
    """A rep's conversions down the funnel against the 10-5-3-1 rule.

    Counts are whole numbers, 0 or more, and never grow down the funnel (each
    order came through a proposal, each proposal from a potential customer...).
    """
    counts = (leads, potentials, proposals, orders)
    for name, value in zip(_COUNT_NAMES, counts, strict=True):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidFunnelCounts(f"{name} must be a whole number, 0 or more, got {value!r}")
    for i in range(3):
        if counts[i + 1] > counts[i]:
            raise InvalidFunnelCounts(
                f"{_COUNT_NAMES[i + 1]} ({counts[i + 1]}) cannot exceed "
                f"{_COUNT_NAMES[i]} ({counts[i]})"
            )
    r = settings.ratio_rule
    rule = (r.leads, r.potentials, r.proposals, r.orders)
    keys = ("lead_to_potential", "potential_to_proposal", "proposal_to_order")
    steps = tuple(_step(keys[i], counts[i], counts[i + 1], rule[i], rule[i + 1]) for i in range(3))
    return RatioReport(steps, _step("lead_to_order", leads, orders, r.leads, r.orders))


@dataclass(frozen=True)
class LeadsNeeded:
    """What it takes to reach ``target``: orders, then proposals and potential
    customers by the rule, and leads at ``lead_to_order``."""

    target: Decimal
    average_order_value: Decimal
    lead_to_order: float
    orders: int
    proposals: int
    potentials: int
    leads: int


def _money(
    value: object, name: str, error: type[ScreeningError] = InvalidAmount, allow_zero: bool = False
) -> Decimal:
    """``value`` as a Decimal sum of money: more than 0 (or 0 or more with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise error(f"{name} {value!r} is not a Decimal sum of money")
    money = Decimal(value)
    if not money.is_finite() or money < 0 or (money == 0 and not allow_zero):
        raise error(f"{name} must be {'0 or more' if allow_zero else 'more than 0'}, got {value}")
    return money


def _ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


def leads_needed(
    target: Decimal,
    average_order_value: Decimal,
    *,
    lead_to_order: float | None = None,
    settings: ScreeningSettings = DEFAULT_SETTINGS,
) -> LeadsNeeded:
    """How many leads it takes to reach a sales target.

    orders = ceil(target / average_order_value); leads = ceil(orders /
    lead_to_order), where ``lead_to_order`` (0 < x <= 1) is the rep's own rate or,
    by default, the rule's (1/10). Proposals and potential customers needed follow
    the rule (1 order from 3 proposals from 5 potential customers) but never exceed
    the leads: a rep who converts better than the rule needs fewer at every step.
    ``lead_to_order`` is taken as the decimal it is written as, so 0.3 means 3/10
    exactly and 3 orders need 10 leads, not 11.
    """
    target = _money(target, "target")
    average = _money(average_order_value, "average_order_value")
    r = settings.ratio_rule
    if lead_to_order is None:
        rate = Fraction(r.orders, r.leads)
    elif (
        isinstance(lead_to_order, bool)
        or not isinstance(lead_to_order, int | float)
        or not 0 < lead_to_order <= 1
    ):
        raise InvalidLikelihood(f"lead_to_order {lead_to_order!r} is not in 0 < x <= 1")
    else:
        rate = Fraction(repr(float(lead_to_order)))
    orders = _ceil(Fraction(target) / Fraction(average))
    leads = _ceil(orders / rate)
    return LeadsNeeded(
        target=target,
        average_order_value=average,
        lead_to_order=float(rate),
        orders=orders,
        proposals=min(leads, _ceil(Fraction(orders * r.proposals, r.orders))),
        potentials=min(leads, _ceil(Fraction(orders * r.potentials, r.orders))),
        leads=leads,
    )
