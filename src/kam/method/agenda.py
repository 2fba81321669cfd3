"""The plan of coming visits (METHOD.md §5: "relationships are walked out").

Every visit leaves the pretext and the date of the next one (下次拜访的借口).
``planned_visits`` turns the activities into an agenda: each promised next
visit not yet kept, overdue ones first, then the coming ones by date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
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


def kept_by(visits: Iterable[Activity]) -> Callable[[Activity], bool]:
    """``is_kept`` against the same ``visits`` for many plans: the visits are read once
    (the latest visit, and the latest visit of each person met), each plan then costs
    as many look-ups as it names people, not a pass over every visit."""
    latest: dt.date | None = None
    latest_with: dict[str, dt.date] = {}
    for v in visits:
        if v.kind not in VISIT_KINDS:
            continue
        if latest is None or v.on > latest:
            latest = v.on
        for c in v.contact_ids:
            if c not in latest_with or v.on > latest_with[c]:
                latest_with[c] = v.on

    def kept(planned: Activity) -> bool:
        if not planned.contact_ids:
            return latest is not None and latest > planned.on
        return any(
            (on := latest_with.get(c)) is not None and on > planned.on for c in planned.contact_ids
        )

    return kept


def is_kept(planned: Activity, visits: Iterable[Activity]) -> bool:
    """Whether a later visit met any of the same people (any visit, when the plan
    named nobody): the promise is then kept, early or late.

    This is the rule. The activities page asks the database the same question to
    pick its candidates (``kam.web.sections.activities.coming_visits``: a later
    visit of the same account, since the people met work there) and then judges
    them here; tests/web/test_activities.py checks that both agree."""
    return kept_by(visits)(planned)


def planned_visits(
    activities: Iterable[Activity], *, today: dt.date, horizon_days: int | None = None
) -> tuple[PlannedVisit, ...]:
    """The next visits promised and not kept, overdue first (most overdue first),
    then the coming ones by date; ``horizon_days`` leaves out those further ahead."""
    activities = tuple(activities)
    kept = kept_by(a for a in activities if a.kind in VISIT_KINDS and a.on <= today)
    plan = []
    for a in activities:
        if a.next_on is None or kept(a):
            continue
        if horizon_days is not None and (a.next_on - today).days > horizon_days:
            continue
        plan.append(PlannedVisit(a, a.next_on, max(0, (today - a.next_on).days)))
    plan.sort(key=lambda p: (not p.overdue, p.on, p.activity.id))
    return tuple(plan)
