"""The forecast and the funnel against one hand-written SQL statement each.

For a rep, a manager of three teams and the admin, ``insights.forecast`` and
``insights.funnel_rows`` (what every page, the API and ``kam forecast`` call)
are timed against one raw SQL statement that gives the same numbers over the
same rows: the floor the database sets. The numbers are asserted equal before
anything is timed. Target: at most 1.5x the statement, or at most 20 ms when
the statement itself takes under 5 ms.

    .venv/bin/python bench/forecast.py --preset small
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ADMIN, MANAGER, REP, Result, best_of, data_dir, setup_django

RATIO, FLOOR, FAST = 1.5, 0.020, 0.005


def _visibility(user, own: bool) -> tuple[str, list, str, list]:
    """``(where, params, insider_seen, params)`` of ``scoping.visible`` (narrowed to
    the user's own records when ``own``) and ``may_see_insider``, written by hand."""
    where, params = ("o.owner_id = %s AND ", [user.pk]) if own else ("", [])
    if user.is_superuser:
        return where + "1 = 1", params, "1 = 1", []
    teams = "SELECT team_id FROM org_membership WHERE user_id = %s"
    managed = f"{teams} AND role = 'manager'"
    return (
        where + f"(o.owner_id = %s OR o.team_id IN ({teams}))",
        [*params, user.pk, user.pk],
        f"(o.owner_id = %s OR o.team_id IN ({managed}))",
        [user.pk, user.pk],
    )


def _cents(column: str) -> str:
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def forecast_sql(user, period, today, own: bool):
    """Won, weighted open and off-funnel sums (in cents) and the target, in one statement."""
    where, where_params, seen, seen_params = _visibility(user, own)
    weighted = f"CASE WHEN {seen} THEN f.weighted_amount ELSE f.discreet_weighted_amount END"
    order_where = where.replace("o.", "x.")
    target = (
        "(SELECT SUM(t.amount) FROM sales_target t WHERE t.start >= %s AND t.end <= %s AND "
        + (
            "t.team_id IS NOT NULL)"
            if user.is_superuser
            else "t.team_id IN (SELECT team_id FROM org_membership WHERE user_id = %s "
            "AND role = 'manager'))"
            if not own
            else "t.user_id = %s)"
        )
    )
    target_params = [period.start, period.end] + ([] if user.is_superuser else [user.pk])
    sql = f"""
        SELECT
          SUM(CASE WHEN f.won_on BETWEEN %s AND %s THEN {_cents("o.amount")} END),
          SUM(CASE WHEN f.in_funnel AND o.expected_close <= %s THEN {_cents(weighted)} END),
          (SELECT SUM({_cents("x.amount")}) FROM sales_offfunnelorder x
            WHERE x.on BETWEEN %s AND %s AND {order_where}),
          {target}
        FROM sales_opportunity o JOIN sales_dealfigures f ON f.opportunity_id = o.id
        WHERE o.deleted_at IS NULL AND {where}
    """
    params = [
        period.start,
        period.end,
        period.end,
        *seen_params,
        period.start,
        min(today, period.end),
        *where_params,
        *target_params,
        *where_params,
    ]
    return sql.replace("x.on", 'x."on"').replace("t.end", 't."end"'), params


def funnel_sql(user, today, vendor: str, own: bool):
    where, where_params, seen, seen_params = _visibility(user, own)
    weighted = f"CASE WHEN {seen} THEN f.weighted_amount ELSE f.discreet_weighted_amount END"
    if vendor == "sqlite":
        day = "CAST(julianday({}) AS INTEGER)"
        age = f"MAX({day.format('%s')} - {day.format('o.stage_entered_on')}, 0)"
    else:
        age = "GREATEST((%s::date - o.stage_entered_on), 0)"
    sql = f"""
        SELECT o.stage, COUNT(*), SUM({_cents("o.amount")}), SUM({_cents(weighted)}),
               SUM({age}), COUNT(o.stage_entered_on), MAX({age})
        FROM sales_opportunity o JOIN sales_dealfigures f ON f.opportunity_id = o.id
        WHERE o.deleted_at IS NULL AND f.in_funnel AND {where}
        GROUP BY o.stage ORDER BY o.stage
    """
    return sql, [*seen_params, today, today, *where_params]


def run(data: Path) -> list[Result]:
    setup_django(data)
    from django.contrib.auth import get_user_model
    from django.db import connection

    from kam.sales import insights

    today = dt.date.today()
    period = insights.current_quarter(today)
    vendor = connection.vendor
    results = []
    for username in (REP, MANAGER, ADMIN):
        results += _user(get_user_model().objects.get(username=username), today, period, vendor)
    return results


def _user(user, today, period, vendor) -> list[Result]:
    from django.db import connection

    from kam.sales import insights

    money = insights.money
    username = user.username
    narrow = {"owner": user} if username == REP else {}
    results = []

    # The forecast: equality, then time.
    own = username == REP
    got = insights.forecast(user, period=period, today=today, **narrow)
    sql, params = forecast_sql(user, period, today, own)

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    won, weighted, off, target = raw()
    assert (money(won), money(weighted), money(off)) == (
        got.won.amount,
        got.weighted_open.amount,
        got.off_funnel.amount,
    ), (username, won, weighted, off, got)
    assert (target is None and got.target is None) or Decimal(str(target)).quantize(
        Decimal("0.01")
    ) == got.target, (username, target, got.target)
    results.append(
        _compare(
            "forecast",
            username,
            lambda: insights.forecast(user, period=period, today=today, **narrow),
            raw,
        )
    )

    # The funnel.
    rows = insights.funnel_rows(user, today=today, **narrow)
    fsql, fparams = funnel_sql(user, today, vendor, own)

    def raw_funnel():
        with connection.cursor() as cursor:
            cursor.execute(fsql, fparams)
            return cursor.fetchall()

    by_stage = {r[0]: r for r in raw_funnel()}
    for row in rows:
        mine = by_stage.get(int(row.stage))
        if mine is None:
            assert row.count == 0, (username, row)
            continue
        assert (mine[1], money(mine[2]), money(mine[3]), mine[4] / mine[5], mine[6]) == (
            row.count,
            row.value,
            row.weighted_value,
            row.average_age_days,
            row.max_age_days,
        ), (username, mine, row)
    results.append(
        _compare(
            "funnel",
            username,
            lambda: insights.funnel_rows(user, today=today, **narrow),
            raw_funnel,
        )
    )
    return results


def _compare(name: str, who: str, ours, floor) -> Result:
    seconds = best_of(ours, repeat=7)
    baseline = best_of(floor, repeat=7)
    passed = seconds <= RATIO * baseline or (baseline < FAST and seconds <= FLOOR)
    return Result(
        f"{name} vs one SQL statement",
        who,
        seconds,
        f"<= {RATIO}x, or <= {FLOOR * 1000:.0f} ms if SQL < {FAST * 1000:.0f} ms",
        passed,
        baseline,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    args = parser.parse_args()
    results = run(data_dir(args.preset))
    from run import print_table

    print_table(results)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
