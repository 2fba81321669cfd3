from decimal import Decimal

import pytest

from kam.method.segmentation import NegativeRevenue, pareto, vital_few


def test_accounts_are_ranked_by_revenue_with_their_cumulative_share():
    rows = pareto([("b", Decimal(100)), ("a", Decimal(700)), ("c", Decimal(200))])

    assert [r.key for r in rows] == ["a", "c", "b"]
    assert [r.rank for r in rows] == [1, 2, 3]
    assert [r.share for r in rows] == [Decimal("0.7"), Decimal("0.2"), Decimal("0.1")]
    assert [r.cumulative_share for r in rows] == [Decimal("0.7"), Decimal("0.9"), Decimal(1)]


def test_the_vital_few_are_those_that_make_the_first_eighty_percent():
    rows = pareto([("a", Decimal(700)), ("c", Decimal(200)), ("b", Decimal(100))])

    assert [r.vital for r in rows] == [True, True, False]
    assert vital_few(rows) == (2, 3)


def test_a_customer_without_revenue_is_last_and_never_vital():
    rows = pareto([("none", Decimal(0)), ("some", Decimal(5))])

    assert [(r.key, r.vital) for r in rows] == [("some", True), ("none", False)]


def test_no_revenue_at_all_gives_zero_shares():
    rows = pareto([("a", Decimal(0)), ("b", Decimal(0))])

    assert all(r.share == 0 and r.cumulative_share == 0 and not r.vital for r in rows)


def test_equal_revenues_keep_their_order():
    rows = pareto([("x", Decimal(1)), ("y", Decimal(1))])

    assert [r.key for r in rows] == ["x", "y"]


def test_a_negative_revenue_is_refused():
    with pytest.raises(NegativeRevenue):
        pareto([("a", Decimal(-1))])


def test_the_cutoff_is_a_share():
    with pytest.raises(ValueError):
        pareto([("a", Decimal(1))], cutoff=Decimal("1.5"))
