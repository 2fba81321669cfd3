"""``kam recompute`` and ``kam refresh``: what they rebuild and what they say."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from kam.sales.demo import load_demo
from kam.sales.models import Account, AccountFigures, DealFigures, Opportunity

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


@pytest.fixture
def demo():
    load_demo(today=TODAY)


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_recompute_in_two_parts_rebuilds_every_figure_once(demo):
    DealFigures.objects.all().delete()
    AccountFigures.objects.all().delete()
    first = _run("recompute", "--part", "0/2")
    second = _run("recompute", "--part", "1/2")
    deals, accounts = Opportunity.objects.count(), Account.objects.count()
    assert DealFigures.objects.count() == deals
    assert AccountFigures.objects.count() == accounts
    counted = [[int(w) for w in out.split() if w.isdigit()][:2] for out in (first, second)]
    assert [sum(c[0] for c in counted), sum(c[1] for c in counted)] == [deals, accounts]


def test_refresh_computes_what_is_missing_and_then_has_nothing_to_do(demo):
    gone = list(Opportunity.objects.filter(outcome="won").values_list("pk", flat=True)[:3])
    DealFigures.objects.filter(pk__in=gone).delete()
    assert "Refreshed the figures of 3 deals and 0 accounts" in _run("refresh")
    assert DealFigures.objects.filter(pk__in=gone).count() == 3
    assert "of 0 deals and 0 accounts" in _run("refresh")


def test_refresh_tomorrow_recomputes_the_open_deals_and_every_account(demo):
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    out = _run("refresh", "--today", tomorrow)
    open_deals = Opportunity.objects.filter(outcome="open").count()
    assert f"of {open_deals} deals and {Account.objects.count()} accounts" in out
    assert set(
        DealFigures.objects.filter(opportunity__outcome="open").values_list(
            "computed_for", flat=True
        )
    ) == {TODAY + dt.timedelta(days=1)}
