"""Segmentation (METHOD.md §0, §7): the 20/80 rule (20/80 法则).

A few customers bring most of the revenue. ``pareto`` ranks customers by
revenue and gives each one's share and the cumulative share down the ranking,
so a page can show which accounts make the first ``cutoff`` (80%) of revenue.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from kam.method.types import MethodError

DEFAULT_CUTOFF = Decimal("0.8")


class NegativeRevenue(MethodError):
    """A customer's revenue is below zero."""


@dataclass(frozen=True)
class ParetoRow:
    """One customer in the ranking.

    ``share`` and ``cumulative_share`` are 0-1 (0 when there is no revenue at
    all); ``vital`` says the customer is among the few that make the first
    ``cutoff`` of revenue: the cumulative share before it is below the cutoff.
    """

    rank: int
    key: Hashable
    revenue: Decimal
    share: Decimal
    cumulative_share: Decimal
    vital: bool


def pareto(
    revenues: Iterable[tuple[Hashable, Decimal]], *, cutoff: Decimal = DEFAULT_CUTOFF
) -> tuple[ParetoRow, ...]:
    """Rank ``(key, revenue)`` pairs by revenue, highest first (ties keep their order).

    Customers with no revenue are ranked last and are never vital. A negative
    revenue raises ``NegativeRevenue``; a cutoff outside (0, 1] raises ``ValueError``.
    """
    cutoff = Decimal(cutoff)
    if not Decimal(0) < cutoff <= Decimal(1):
        raise ValueError(f"cutoff must be in (0, 1], got {cutoff}")
    pairs = [(key, Decimal(revenue)) for key, revenue in revenues]
    for key, revenue in pairs:
        if revenue < 0:
            raise NegativeRevenue(f"revenue of {key!r} is negative: {revenue}")
    ranked = sorted(pairs, key=lambda pair: -pair[1])
    total = sum((revenue for _, revenue in ranked), Decimal(0))
    rows = []
    running = Decimal(0)
    for rank, (key, revenue) in enumerate(ranked, start=1):
        before = running / total if total else Decimal(0)
        running += revenue
        rows.append(
            ParetoRow(
                rank=rank,
                key=key,
                revenue=revenue,
                share=revenue / total if total else Decimal(0),
                cumulative_share=running / total if total else Decimal(0),
                vital=revenue > 0 and before < cutoff,
            )
        )
    return tuple(rows)


def vital_few(rows: Iterable[ParetoRow]) -> tuple[int, int]:
    """How many customers are vital, out of how many."""
    rows = tuple(rows)
    return sum(1 for r in rows if r.vital), len(rows)
