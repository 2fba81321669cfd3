import datetime as dt

from kam.method.agenda import planned_visits
from kam.method.types import Activity, ActivityKind

TODAY = dt.date(2026, 5, 10)


def _visit(id, on, *, next_on=None, contacts=(), kind=ActivityKind.VISIT):
    return Activity(id, kind, on, frozenset(contacts), next_on=next_on)


def test_overdue_visits_come_first_then_the_coming_ones_by_date():
    plan = planned_visits(
        [
            _visit("soon", dt.date(2026, 5, 1), next_on=dt.date(2026, 5, 20), contacts={"1"}),
            _visit("late", dt.date(2026, 4, 1), next_on=dt.date(2026, 5, 2), contacts={"2"}),
            _visit("later", dt.date(2026, 5, 3), next_on=dt.date(2026, 5, 12), contacts={"3"}),
        ],
        today=TODAY,
    )

    assert [p.activity.id for p in plan] == ["late", "later", "soon"]
    assert [p.days_late for p in plan] == [8, 0, 0]
    assert plan[0].overdue and not plan[1].overdue


def test_a_later_visit_to_the_same_person_keeps_the_promise():
    plan = planned_visits(
        [
            _visit("promise", dt.date(2026, 4, 1), next_on=dt.date(2026, 4, 20), contacts={"1"}),
            _visit("kept", dt.date(2026, 4, 22), contacts={"1"}),
        ],
        today=TODAY,
    )

    assert plan == ()


def test_a_call_or_a_visit_to_someone_else_does_not_keep_it():
    plan = planned_visits(
        [
            _visit("promise", dt.date(2026, 4, 1), next_on=dt.date(2026, 4, 20), contacts={"1"}),
            _visit("call", dt.date(2026, 4, 22), contacts={"1"}, kind=ActivityKind.CALL),
            _visit("other", dt.date(2026, 4, 23), contacts={"2"}),
        ],
        today=TODAY,
    )

    assert [p.activity.id for p in plan] == ["promise"]


def test_the_horizon_leaves_out_visits_far_ahead():
    far = _visit("far", TODAY, next_on=dt.date(2026, 8, 1))

    assert planned_visits([far], today=TODAY, horizon_days=30) == ()
    assert len(planned_visits([far], today=TODAY)) == 1


def test_many_visits_are_judged_without_comparing_each_pair():
    # 20,000 promises, each kept by the next visit to the same person but the last:
    # a pass over every visit for each promise would take minutes.
    n = 20_000
    start = dt.date(2020, 1, 1)
    activities = [
        _visit(
            str(i),
            start + dt.timedelta(days=i // 100),
            next_on=start + dt.timedelta(days=i // 100 + 7),
            contacts={str(i % 100)},
        )
        for i in range(n)
    ]

    plan = planned_visits(activities, today=dt.date(2026, 1, 1))

    assert sorted(int(p.activity.id) for p in plan) == list(range(n - 100, n))
