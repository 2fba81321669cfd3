import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kam.history.record import Source
from kam.org.models import CompanySettings, Membership
from kam.sales import actions, insights
from kam.sales.models import Opportunity, Target
from kam.web.sections.funnel import quarter_label
from tests.sales import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
QUARTER = insights.current_quarter(TODAY)


def _deal(user, account, name, amount="200000", **fields):
    # Entered as an import brings an existing deal: with the day it entered its stage.
    return actions.create_record(
        Opportunity,
        acting_user=user,
        source=Source.SYSTEM,
        account=account,
        name=name,
        amount=Decimal(amount),
        expected_close=QUARTER.end,
        **fields,
    )


def _won(user, account, name, amount):
    return actions.create_record(
        Opportunity,
        acting_user=user,
        source=Source.SYSTEM,
        account=account,
        name=name,
        amount=Decimal(amount),
        stage=6,
        outcome="won",
        closed_on=TODAY,
        expected_close=TODAY,
    )


@pytest.fixture
def deals(rep, teammate, outsider):
    north = factories.account(rep, name="北方水泥")
    _deal(rep, north, "北方搅拌站")
    _won(rep, north, "北方已交付", "100000")
    _deal(teammate, factories.account(teammate, name="北方钢厂"), "北方钢厂改造")
    _deal(outsider, factories.account(outsider, name="南方港口"), "南方港口机械")


def _page(client, user, **params):
    client.force_login(user)
    response = client.get("/funnel/", params)
    assert response.status_code == 200
    return response.content.decode()


def _in_stage_1(page: str) -> int:
    return int(re.search(r'data-stage="1" data-count="(\d+)"', page)[1])


def test_a_manager_sees_the_figures_of_both_managed_teams(client, deals, manager, teams):
    easterner = get_user_model().objects.create_user("easterner", password="x")
    Membership.objects.create(user=easterner, team=teams["east"])
    _deal(easterner, factories.account(easterner, name="东方化工"), "东方化工涂料")

    page = _page(client, manager)

    assert _in_stage_1(page) == 3  # two in north, one in east; not the south's
    # one forecast per rep of the teams managed, the east's rep among them
    reps = page[page.index('id="rep-forecasts"') :]
    for name in ("王伟", "李芳", "easterner"):
        assert name in reps
    assert "刘静" not in page


def test_a_manager_narrows_the_funnel_to_one_team(client, deals, manager, teams):
    page = _page(client, manager, team=teams["east"].pk)
    assert _in_stage_1(page) == 0


def test_a_rep_sees_only_their_own_funnel(client, deals, rep):
    page = _page(client, rep)
    assert 'name="owner"' not in page  # nothing to choose
    assert 'id="rep-forecasts"' not in page
    assert _in_stage_1(page) == 1  # their own deal, not the teammate's
    won = insights.forecast(rep, owner=rep, period=QUARTER, today=TODAY).won.amount
    assert f'data-amount="{won}"' in page


def test_a_rep_cannot_look_at_a_teammate_by_asking_for_them(client, deals, rep, teammate):
    page = _page(client, rep, owner=teammate.pk)
    assert "北方钢厂" not in page


def test_an_outsider_sees_nothing_of_other_teams(client, deals, outsider, rep, teams):
    page = _page(client, outsider, owner=rep.pk, team=teams["north"].pk)
    assert "北方" not in page
    assert _in_stage_1(page) == 1  # their own deal in the south


def test_a_manager_of_another_team_cannot_choose_a_rep_they_do_not_manage(
    client, deals, outsider, rep, teams
):
    Membership.objects.filter(user=outsider).update(role=Membership.Role.MANAGER)
    page = _page(client, outsider, owner=rep.pk, team=teams["north"].pk)
    assert "北方" not in page
    assert "王伟" not in page
    assert _in_stage_1(page) == 1  # the choice is refused on its fields; the south remains
    assert page.count("Select a valid choice") == 2


def test_a_badly_written_period_is_shown_on_the_period_field_with_what_was_typed(
    client, deals, manager
):
    client.force_login(manager)
    page = client.get(
        "/funnel/", {"period": "Q4 2026"}, headers={"accept-language": "en"}
    ).content.decode()
    assert "Write the period as 2026, 2026-Q4, 2026-H1 or 2026-03." in page
    assert 'value="Q4 2026"' in page
    assert 'aria-invalid="true"' in page


def test_the_forecast_parts_on_the_page_are_the_insights_forecast(client, deals, manager, rep):
    actions.add_off_funnel_order(
        Opportunity.objects.get(name="北方搅拌站").account,
        amount=Decimal("12345.67"),
        on=TODAY,
        acting_user=rep,
        source=Source.PAGE,
    )
    Target.objects.create(
        team=factories.account(rep).team,
        start=QUARTER.start,
        end=QUARTER.end,
        amount=Decimal("1000000"),
    )
    page = _page(client, manager, period=quarter_label(TODAY, fiscal_start_month=1))
    forecast = insights.forecast(manager, period=QUARTER, today=TODAY)
    for part in (*forecast.parts, forecast.total):
        assert f'data-amount="{part.amount}"' in page
    assert forecast.off_funnel.amount == Decimal("12345.67")
    assert forecast.target == Decimal("1000000")


def test_the_quarter_label_names_the_current_fiscal_quarter():
    for month in range(1, 13):
        today = dt.date(2026, month, 15)
        for start in (1, 4, 10):
            label = quarter_label(today, fiscal_start_month=start)
            assert insights.parse_period(label, fiscal_start_month=start) == (
                insights.current_quarter(today, fiscal_start_month=start)
            )


def test_stuck_and_overdue_deals_link_to_their_opportunity(client, rep, manager):
    account = factories.account(rep)
    late = actions.create_record(
        Opportunity,
        acting_user=rep,
        source=Source.SYSTEM,
        account=account,
        name="逾期的标",
        amount=Decimal("300000"),
        expected_close=TODAY - dt.timedelta(days=40),
        stage_entered_on=TODAY - dt.timedelta(days=400),
    )
    page = _page(client, manager)
    assert page.count(f'href="/opportunities/{late.pk}/"') == 2  # stuck and overdue


def test_the_workbook_opens_and_neutralises_formulas(client, rep, manager):
    account = factories.account(rep, name='=HYPERLINK("http://evil")')
    _deal(rep, account, "+cmd|' /C calc'!A0", stage_entered_on=TODAY - dt.timedelta(days=400))
    client.force_login(manager)
    response = client.get("/funnel/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [
        c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row
    ]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert "'+cmd|' /C calc'!A0" in cells
    assert not any(isinstance(c, str) and c.startswith(("=", "+", "@")) for c in cells)


def _add_deals(user, n):
    account = factories.account(user)
    for i in range(n):
        deal = _deal(user, account, f"deal {i}", stage_entered_on=TODAY - dt.timedelta(days=200))
        factories.contact(user, account, name=f"联系人 {i}")
        actions.add_off_funnel_order(
            account, amount=Decimal("1000"), on=TODAY, acting_user=user, source=Source.PAGE
        )
        del deal


def test_the_page_costs_the_same_queries_for_two_records_or_twenty(client, rep, teammate, manager):
    CompanySettings.load()
    _add_deals(rep, 2)
    client.force_login(manager)
    client.get("/funnel/")
    with CaptureQueriesContext(connection) as few:
        client.get("/funnel/")
    _add_deals(rep, 9)
    _add_deals(teammate, 9)
    for i in range(5):  # more reps in the per-rep table
        newcomer = get_user_model().objects.create_user(f"newcomer{i}")
        Membership.objects.create(user=newcomer, team=rep.memberships.get().team)
        _add_deals(newcomer, 1)
    with CaptureQueriesContext(connection) as many:
        client.get("/funnel/")
    assert len(many) == len(few)
