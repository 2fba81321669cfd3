"""The sales funnel (销售漏斗) and the forecast (销售预计, METHOD.md §4).

Opportunities at or above a threshold amount are deals in the funnel; smaller
orders stay outside it as off-funnel sales (漏斗外销售额), recorded as simple
orders. Because of that threshold the forecast and progress (销售进展) add
the off-funnel sales in, and every part is shown on its own, never only the sum.

"Open" here means an open deal in stages 1-5: an open deal recorded in stage 6
contradicts the process (reaching stage 6 wins the order) and is left out of
every list. Weighted values and the run rate are rounded to cents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from kam.method import process
from kam.method.process import KeyNode, ProcessSettings
from kam.method.types import (
    Deal,
    MethodError,
    OffFunnelOrder,
    Outcome,
    Override,
    Period,
    Stage,
    Text,
)

_CENT = Decimal("0.01")
FUNNEL_STAGES = tuple(s for s in Stage if s is not Stage.IMPLEMENTATION)


class InvalidFunnelSettings(MethodError):
    """A threshold or stuck limit of ``FunnelSettings`` is not usable."""


class InvalidProbability(MethodError):
    """A probability handed in for a deal is not in 0..1."""


class InvalidAmount(MethodError):
    """A deal or off-funnel order has a negative amount."""


class InvalidTarget(MethodError):
    """The sales target is negative."""


@dataclass(frozen=True)
class FunnelSettings:
    """Thresholds of the funnel.

    ``off_funnel_threshold``: orders strictly below it stay outside the funnel.
    ``stuck_days``: an open deal longer than this in one stage is stuck;
    ``stuck_days_by_stage`` overrides it for single stages (a development stage
    may rightly last longer than a tender). ``count_overdue_in_forecast``: an open
    deal whose expected close lies before the current period still counts in
    the current period's forecast, since if it closes at all it closes now.
    """

    off_funnel_threshold: Decimal = Decimal("50000")
    stuck_days: int = 90
    stuck_days_by_stage: Mapping[Stage, int] = field(default_factory=dict)
    count_overdue_in_forecast: bool = True

    def __post_init__(self) -> None:
        if self.off_funnel_threshold < 0:
            raise InvalidFunnelSettings(
                f"off_funnel_threshold {self.off_funnel_threshold} is negative"
            )
        limits = {"stuck_days": self.stuck_days}
        limits.update(
            {f"stuck_days_by_stage[{k!r}]": v for k, v in self.stuck_days_by_stage.items()}
        )
        for name, days in limits.items():
            if days < 0:
                raise InvalidFunnelSettings(f"{name} {days} is negative")
        for stage in self.stuck_days_by_stage:
            if stage not in FUNNEL_STAGES:
                raise InvalidFunnelSettings(f"stuck_days_by_stage: {stage!r} is not a stage 1-5")

    def stuck_limit(self, stage: Stage) -> int:
        """Days an open deal may spend in ``stage`` before it counts as stuck."""
        return self.stuck_days_by_stage.get(stage, self.stuck_days)


DEFAULT_SETTINGS = FunnelSettings()


@dataclass(frozen=True)
class StageRow:
    """One stage of the funnel: open deals, their value and their age in the stage.

    Ages are in days since ``stage_entered_on``; deals without that date are left
    out of the ages (None when no deal has one).
    """

    stage: Stage
    name: Text
    count: int
    value: Decimal
    weighted_value: Decimal
    average_age_days: float | None
    max_age_days: int | None
    deal_ids: tuple[str, ...]


@dataclass(frozen=True)
class ForecastPart:
    """One part of the forecast, with the deals it is made of (none for off-funnel parts)."""

    label: Text
    amount: Decimal
    deal_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Forecast:
    """The forecast of a period, part by part.

    ``total`` is the sum of the four parts. ``progress`` = (won + off_funnel) /
    target and ``expected_progress`` = total / target; both None without a
    positive target.
    """

    period: Period
    won: ForecastPart
    off_funnel: ForecastPart
    weighted_open: ForecastPart
    off_funnel_run_rate: ForecastPart
    total: ForecastPart
    target: Decimal | None
    progress: float | None
    expected_progress: float | None

    @property
    def parts(self) -> tuple[ForecastPart, ...]:
        """The four parts in the order they add up to the total."""
        return (self.won, self.off_funnel, self.weighted_open, self.off_funnel_run_rate)


@dataclass(frozen=True)
class StuckDeal:
    """An open deal longer in its stage than the limit."""

    deal_id: str
    stage: Stage
    days: int
    limit: int
    reason: Text


@dataclass(frozen=True)
class OverdueDeal:
    """An open deal past its expected close date."""

    deal_id: str
    expected_close: dt.date
    days: int
    reason: Text


@dataclass(frozen=True)
class ForcedDeal:
    """An open deal pushed on without its key nodes.

    ``missing`` are the key nodes still unevidenced below its stage (empty when
    a forced deal has since caught up); ``overrides`` the forced advances recorded.
    """

    deal_id: str
    stage: Stage
    customer_step: Stage
    missing: tuple[KeyNode, ...]
    overrides: tuple[Override, ...]
    reason: Text


@dataclass(frozen=True)
class StageConversion:
    """How many deals reached a stage and how many of them reached the next one."""

    stage: Stage
    reached: int
    reached_next: int | None
    rate: float | None


def is_off_funnel(amount: Decimal, *, settings: FunnelSettings = DEFAULT_SETTINGS) -> bool:
    """Whether an order of ``amount`` stays outside the funnel (strictly below the threshold)."""
    return amount < settings.off_funnel_threshold


def in_funnel(deal: Deal) -> bool:
    """Whether the deal counts in the funnel: open and in stages 1-5."""
    return deal.is_open and deal.stage is not Stage.IMPLEMENTATION


def won_on(deal: Deal) -> dt.date | None:
    """The day a won deal counts as won: its close date, else its expected close
    (a won deal recorded without its close date). None for any other deal."""
    if deal.outcome is not Outcome.WON:
        return None
    return deal.closed_on if deal.closed_on is not None else deal.expected_close


def close_window(
    period: Period, today: dt.date, *, settings: FunnelSettings = DEFAULT_SETTINGS
) -> tuple[dt.date | None, dt.date] | None:
    """The expected-close dates ``(first, last)`` of the open deals that count in
    ``period``'s forecast as seen on ``today``; ``first`` is None when every earlier
    date counts too (overdue deals while the period is current), and the result is
    None once the period has ended (an open deal can no longer close in it)."""
    if today > period.end:
        return None
    if settings.count_overdue_in_forecast and today in period:
        return None, period.end
    return period.start, period.end


def weighted_amount(amount: Decimal, probability: float) -> Decimal:
    """A deal's weighted value: its amount times its probability, rounded to the cent.

    Each deal is rounded on its own so that the weighted values shown beside the
    deals add up to the funnel's and the forecast's totals, and so that a database
    can sum stored values to the same cent.
    """
    if not 0.0 <= probability <= 1.0:
        raise InvalidProbability(f"probability {probability!r} is not in 0..1")
    return (amount * Decimal(repr(float(probability)))).quantize(_CENT, rounding=ROUND_HALF_UP)


def _check_amount(amount: Decimal, where: str) -> None:
    if amount < 0:
        raise InvalidAmount(f"{where}: amount {amount} is negative")


def _probability(
    deal: Deal, probabilities: Mapping[str, float] | None, process_settings: ProcessSettings
) -> float:
    if probabilities is not None and deal.id in probabilities:
        p = probabilities[deal.id]
        if not 0.0 <= p <= 1.0:
            raise InvalidProbability(f"deal {deal.id!r}: probability {p!r} is not in 0..1")
        return p
    return process.deal_probability(deal, settings=process_settings)


def _weighted(
    deals: list[Deal], probabilities: Mapping[str, float] | None, settings: ProcessSettings
) -> Decimal:
    return sum(
        (weighted_amount(d.amount, _probability(d, probabilities, settings)) for d in deals),
        Decimal(0),
    )


def _age(deal: Deal, today: dt.date) -> int | None:
    if deal.stage_entered_on is None:
        return None
    # A back-dated report can predate the entry; such a deal has not aged yet.
    return max(0, (today - deal.stage_entered_on).days)


@dataclass(frozen=True)
class StageTotals:
    """What a funnel row is made of, as a database can sum it: the open deals of a
    stage, their value and weighted value, the sum of their ages in the stage (days,
    each at least 0), how many had an age, and the oldest age."""

    count: int = 0
    value: Decimal = Decimal(0)
    weighted_value: Decimal = Decimal(0)
    age_sum: int = 0
    aged: int = 0
    max_age: int | None = None
    deal_ids: tuple[str, ...] = ()


def stage_rows(
    totals: Mapping[Stage, StageTotals],
    *,
    process_settings: ProcessSettings = process.DEFAULT_SETTINGS,
) -> tuple[StageRow, ...]:
    """The funnel's rows, stages 1-5 with empty stages included, from each stage's totals."""
    rows = []
    for stage in FUNNEL_STAGES:
        t = totals.get(stage, StageTotals())
        rows.append(
            StageRow(
                stage=stage,
                name=process_settings.definition(stage).name,
                count=t.count,
                value=t.value,
                weighted_value=t.weighted_value,
                average_age_days=t.age_sum / t.aged if t.aged else None,
                max_age_days=t.max_age,
                deal_ids=t.deal_ids,
            )
        )
    return tuple(rows)


def funnel(
    deals: Iterable[Deal],
    *,
    today: dt.date,
    probabilities: Mapping[str, float] | None = None,
    process_settings: ProcessSettings = process.DEFAULT_SETTINGS,
    settings: FunnelSettings = DEFAULT_SETTINGS,
) -> tuple[StageRow, ...]:
    """One row per stage 1-5 of the open deals, empty stages included.

    The weighted value uses ``probabilities[deal.id]`` when given (the
    application passes the buying-center-adjusted ones), else
    ``process.deal_probability`` (the stage default, lowered for forced gates).
    """
    open_deals = [d for d in deals if in_funnel(d)]
    for deal in open_deals:
        _check_amount(deal.amount, f"deal {deal.id!r}")
    totals = {}
    for stage in FUNNEL_STAGES:
        in_stage = [d for d in open_deals if d.stage is stage]
        ages = [a for a in (_age(d, today) for d in in_stage) if a is not None]
        totals[stage] = StageTotals(
            count=len(in_stage),
            value=sum((d.amount for d in in_stage), Decimal(0)),
            weighted_value=_weighted(in_stage, probabilities, process_settings),
            age_sum=sum(ages),
            aged=len(ages),
            max_age=max(ages) if ages else None,
            deal_ids=tuple(d.id for d in in_stage),
        )
    return stage_rows(totals, process_settings=process_settings)


def _closes_in(deal: Deal, period: Period, today: dt.date, settings: FunnelSettings) -> bool:
    window = close_window(period, today, settings=settings)
    if not in_funnel(deal) or deal.expected_close is None or window is None:
        return False
    first, last = window
    return (first is None or first <= deal.expected_close) and deal.expected_close <= last


def forecast(
    deals: Iterable[Deal],
    off_funnel_orders: Iterable[OffFunnelOrder],
    *,
    period: Period,
    today: dt.date,
    target: Decimal | None = None,
    probabilities: Mapping[str, float] | None = None,
    process_settings: ProcessSettings = process.DEFAULT_SETTINGS,
    settings: FunnelSettings = DEFAULT_SETTINGS,
) -> Forecast:
    """The forecast of ``period`` as seen on ``today`` (销售预计 = 已成交 + 漏斗外销售额
    + 在途加权 + 漏斗外预计).

    - won: deals won with ``closed_on`` in the period (``expected_close`` when
      ``closed_on`` is missing, see ``won_on``);
    - off_funnel: off-funnel orders in the period dated on or before today;
    - weighted_open: open deals expected to close in the period, times their
      probability (as in ``funnel``), plus, while the period is current, open
      deals already overdue from before it (``count_overdue_in_forecast``);
      nothing once the period has ended, since an open deal can no longer close
      in it (``close_window``);
    - off_funnel_run_rate: off_funnel / days elapsed (today included) x days
      left after today; 0 before the period starts and after it ends.

    Raises ``InvalidTarget`` for a negative target, ``InvalidAmount`` for a
    negative amount and ``InvalidProbability`` for a probability outside 0..1.
    """
    deals = list(deals)
    for deal in deals:
        _check_amount(deal.amount, f"deal {deal.id!r}")
    orders = [o for o in off_funnel_orders if o.on in period and o.on <= today]
    for order in orders:
        _check_amount(order.amount, f"off-funnel order of {order.on}")
    won_deals = [d for d in deals if won_on(d) is not None and won_on(d) in period]
    open_deals = [d for d in deals if _closes_in(d, period, today, settings)]
    return forecast_from_parts(
        period=period,
        today=today,
        won=sum((d.amount for d in won_deals), Decimal(0)),
        off_funnel=sum((o.amount for o in orders), Decimal(0)),
        weighted_open=_weighted(open_deals, probabilities, process_settings),
        target=target,
        won_ids=tuple(d.id for d in won_deals),
        open_ids=tuple(d.id for d in open_deals),
    )


def forecast_from_parts(
    *,
    period: Period,
    today: dt.date,
    won: Decimal,
    off_funnel: Decimal,
    weighted_open: Decimal,
    target: Decimal | None = None,
    won_ids: tuple[str, ...] = (),
    open_ids: tuple[str, ...] = (),
) -> Forecast:
    """The forecast from its three summed parts (see ``forecast``, which sums them
    from deals; a database may sum them instead): adds the off-funnel run rate,
    the total and the progress against ``target``."""
    if target is not None and target < 0:
        raise InvalidTarget(f"target {target} is negative")
    run_rate = Decimal(0)
    if today in period:
        elapsed = (today - period.start).days + 1
        remaining = (period.end - today).days
        run_rate = (off_funnel * remaining / elapsed).quantize(_CENT, rounding=ROUND_HALF_UP)
    total = won + off_funnel + weighted_open + run_rate

    def ratio(amount: Decimal) -> float | None:
        return float(amount / target) if target else None

    return Forecast(
        period=period,
        won=ForecastPart(Text("漏斗内已成交", "Won in the funnel"), won, won_ids),
        off_funnel=ForecastPart(Text("漏斗外销售额(至今)", "Off-funnel sales so far"), off_funnel),
        weighted_open=ForecastPart(
            Text("在途商机加权预计", "Open funnel, probability-weighted"), weighted_open, open_ids
        ),
        off_funnel_run_rate=ForecastPart(
            Text(
                "漏斗外销售额预计(本期剩余天数)", "Off-funnel run rate for the rest of the period"
            ),
            run_rate,
        ),
        total=ForecastPart(Text("销售预计", "Forecast"), total),
        target=target,
        progress=ratio(won + off_funnel),
        expected_progress=ratio(total),
    )


def stuck(
    deals: Iterable[Deal],
    *,
    today: dt.date,
    process_settings: ProcessSettings = process.DEFAULT_SETTINGS,
    settings: FunnelSettings = DEFAULT_SETTINGS,
) -> tuple[StuckDeal, ...]:
    """Open deals longer in their stage than its limit, longest first.

    Deals without ``stage_entered_on`` cannot be judged and are left out.
    """
    found = []
    for deal in deals:
        days = _age(deal, today)
        limit = settings.stuck_limit(deal.stage) if in_funnel(deal) else None
        if limit is None or days is None or days <= limit:
            continue
        name = process_settings.definition(deal.stage).name
        reason = Text(
            f"在{name.zh}已停留{days}天,超过{limit}天的期限",
            f"{days} days in {name.en}, over the {limit}-day limit",
        )
        found.append(StuckDeal(deal.id, deal.stage, days, limit, reason))
    return tuple(sorted(found, key=lambda s: (-s.days, s.deal_id)))


def overdue(
    deals: Iterable[Deal], *, today: dt.date, settings: FunnelSettings = DEFAULT_SETTINGS
) -> tuple[OverdueDeal, ...]:
    """Open deals whose expected close date is before ``today``, most overdue first."""
    found = []
    for deal in deals:
        close = deal.expected_close
        if not in_funnel(deal) or close is None or close >= today:
            continue
        days = (today - close).days
        reason = Text(
            f"已超过预计成交日期({close.isoformat()}){days}天",
            f"{days} days past its expected close date ({close.isoformat()})",
        )
        found.append(OverdueDeal(deal.id, close, days, reason))
    return tuple(sorted(found, key=lambda o: (-o.days, o.deal_id)))


def forced(
    deals: Iterable[Deal],
    *,
    process_settings: ProcessSettings = process.DEFAULT_SETTINGS,
    settings: FunnelSettings = DEFAULT_SETTINGS,
) -> tuple[ForcedDeal, ...]:
    """Open deals advanced without their key nodes, most missing nodes first.

    A deal is listed when it has recorded overrides or its stage runs ahead of
    the customer's evidenced step (``process.stage_drift``), e.g. after an import.
    """
    found = []
    for deal in deals:
        if not in_funnel(deal):
            continue
        drift = process.stage_drift(deal, settings=process_settings)
        if drift is None and not deal.overrides:
            continue
        if drift is not None:
            reason = drift.message
        else:
            n = len(deal.overrides)
            reason = Text(
                f"曾强行推进{n}次,缺的关键节点已补齐",
                f"Forced past a gate {n} time(s); the missing key nodes have since been evidenced",
            )
        found.append(
            ForcedDeal(
                deal.id,
                deal.stage,
                process.customer_step(deal, settings=process_settings),
                drift.missing if drift else (),
                deal.overrides,
                reason,
            )
        )
    return tuple(sorted(found, key=lambda f: (-len(f.missing), f.deal_id)))


def stage_conversion(
    deals: Iterable[Deal], *, settings: FunnelSettings = DEFAULT_SETTINGS
) -> tuple[StageConversion, ...]:
    """How many deals reached each stage 1-6 and the share of them that reached the next.

    The highest stage a deal reached is its stage: open and won deals are where
    they stand, lost and abandoned ones keep the stage they closed in. Stage 6
    has no next stage; a rate is None when no deal reached the stage.
    """
    counts: dict[Stage, int] = {}
    for deal in deals:
        counts[deal.stage] = counts.get(deal.stage, 0) + 1
    return stage_conversion_from_counts(counts)


def stage_conversion_from_counts(
    deals_by_stage: Mapping[Stage, int],
) -> tuple[StageConversion, ...]:
    """``stage_conversion`` from the number of deals standing in each stage."""
    reached = {stage: sum(n for s, n in deals_by_stage.items() if s >= stage) for stage in Stage}
    rows = []
    for stage in Stage:
        if stage is Stage.IMPLEMENTATION:
            rows.append(StageConversion(stage, reached[stage], None, None))
            continue
        following = reached[Stage(stage + 1)]
        rate = following / reached[stage] if reached[stage] else None
        rows.append(StageConversion(stage, reached[stage], following, rate))
    return tuple(rows)
