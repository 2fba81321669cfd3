"""The plan of coming visits (METHOD.md §5: "relationships are walked out").

Every visit leaves the pretext and the date of the next one (下次拜访的借口).
``planned_visits`` turns the activities into an agenda: each promised next
visit not yet kept, overdue ones first, then the coming ones by date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from kam.method.types import VISIT_KINDS, Activity


@dataclass(frozen=True)
class PlannedVisit:
    """A next visit promised by ``activity``; ``days_late`` > 0 when it is overdue."""

    activity: Activity
    on: dt.date
    days_late: int

    @property
    def overdue(self) -> bool:
        return self.days_late > 0


def is_kept(planned: Activity, visits: Iterable[Activity]) -> bool:
    """Whether a later visit met any of the same people (any visit, when the plan
    named nobody): the promise is then kept, early or late."""
    return any(
        v.kind in VISIT_KINDS
        and v.on > planned.on
        and (not planned.contact_ids or v.contact_ids & planned.contact_ids)
        for v in visits
    )


def planned_visits(
    activities: Iterable[Activity], *, today: dt.date, horizon_days: int | None = None
) -> tuple[PlannedVisit, ...]:
    """The next visits promised and not kept, overdue first (most overdue first),
    then the coming ones by date; ``horizon_days`` leaves out those further ahead."""
    activities = tuple(activities)
    visits = [a for a in activities if a.kind in VISIT_KINDS and a.on <= today]
    plan = []
    for a in activities:
        if a.next_on is None or is_kept(a, visits):
            continue
        if horizon_days is not None and (a.next_on - today).days > horizon_days:
            continue
        plan.append(PlannedVisit(a, a.next_on, max(0, (today - a.next_on).days)))
    plan.sort(key=lambda p: (not p.overdue, p.on, p.activity.id))
    return tuple(plan)
