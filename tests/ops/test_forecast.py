"""``kam forecast``: the forecast's parts for a period, as text or JSON."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kam.history.record import Source
from kam.sales import actions, insights
from kam.sales.models import Opportunity
from tests.sales import factories as f

pytestmark = pytest.mark.django_db

PARTS = ("won", "off_funnel", "weighted_open", "off_funnel_run_rate")


def _kam_forecast(*args):
    out = io.StringIO()
    call_command("forecast", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def quarter(rep, manager, teams):
    """This quarter: a won deal, an open deal closing in it, an order, a team target."""
    today = timezone.localdate()
    period = insights.current_quarter(today)
    account = f.account(rep)
    actions.create_record(
        Opportunity,
        acting_user=rep,
        source=Source.SYSTEM,
        fields={
            "account": account,
            "name": "已签",
            "amount": Decimal("500000"),
            "stage": 6,
            "outcome": "won",
            "closed_on": today,
        },
    )
    f.opportunity(rep, account, name="在谈", amount=Decimal("400000"), expected_close=period.end)
    actions.add_off_funnel_order(
        account, amount=Decimal("12345.67"), on=today, acting_user=rep, source=Source.PAGE
    )
    actions.set_target(
        team=teams["north"],
        start=period.start,
        end=period.end,
        amount=Decimal("2000000"),
        acting_user=manager,
        source=Source.PAGE,
    )
    return period


def test_json_gives_every_part_as_a_string_and_the_parts_add_up(quarter):
    result = json.loads(_kam_forecast("--user", "manager", "--json"))

    parts = [Decimal(result[name]) for name in PARTS]
    assert sum(parts) == Decimal(result["forecast"])
    assert result["won"] == "500000.00"
    assert result["off_funnel"] == "12345.67"
    assert Decimal(result["weighted_open"]) > 0
    assert result["target"] == "2000000.00"
    assert result["progress"] == pytest.approx(512345.67 / 2000000)
    assert result["period"] == {"start": str(quarter.start), "end": str(quarter.end)}


def test_the_text_shows_each_part_with_its_label_and_the_progress(quarter):
    output = _kam_forecast("--user", "manager")

    for name in (*PARTS, "forecast", "target", "progress"):
        assert f"\n{name} " in output
    assert "500,000.00" in output
    assert "Won in the funnel" in output
    assert "26%" in output


def test_the_labels_follow_the_language(quarter):
    assert "漏斗内已成交" in _kam_forecast("--user", "manager", "--language", "zh-hans")


def test_an_outsider_forecasts_none_of_the_reps_deals(quarter, outsider):
    result = json.loads(_kam_forecast("--user", "outsider", "--json"))

    assert Decimal(result["forecast"]) == 0
    assert result["target"] is None


def test_a_named_period_and_an_owner_narrow_the_forecast(quarter, teammate):
    past = json.loads(_kam_forecast("--user", "manager", "--json", "--period", "1999"))
    theirs = json.loads(_kam_forecast("--user", "manager", "--json", "--owner", "teammate"))

    assert past["period"] == {"start": "1999-01-01", "end": "1999-12-31"}
    assert Decimal(past["won"]) == 0
    assert Decimal(theirs["won"]) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--user", "nobody"],
        ["--user", "rep", "--owner", "outsider"],
        ["--user", "rep", "--team", "south"],
        ["--user", "rep", "--period", "2026-Q5"],
    ],
)
def test_what_cannot_be_forecast_exits_with_1(args, rep, outsider):
    with pytest.raises(CommandError) as caught:
        _kam_forecast(*args)

    assert caught.value.returncode == 1


def test_a_period_of_another_year_starts_at_the_fiscal_start(rep):
    assert dt.date(2026, 1, 1).isoformat() in _kam_forecast("--user", "rep", "--period", "2026")
