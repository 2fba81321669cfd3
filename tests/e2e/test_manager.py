"""A manager's weekly funnel review, in Debian's headless Chromium.

The north team's funnel holds a stuck deal, an overdue one and one forced past its key
nodes; the manager finds each under "deals to look at", opens the forced one to see what
forcing cost, narrows the review to one rep and downloads the figures as XLSX. A deal of
the south team, which the manager does not manage, is never shown.
"""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from kam.history.record import Source
from kam.sales import actions, insights
from kam.sales.models import Opportunity
from tests.e2e.test_sign_in import sign_in
from tests.sales import factories

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.date.today()
QUARTER = insights.current_quarter(TODAY)
CLOSE = min(TODAY + dt.timedelta(days=20), QUARTER.end)

STUCK = "老厂区输送线改造"
OVERDUE = "二期料仓钢结构"
FORCED = "搅拌主机备件年度框架"
HEALTHY = "防腐涂料年度采购"
SOUTH = "南方水泥窑协同处置"


@pytest.fixture
def team_funnel(rep, teammate, manager, outsider, teams):
    """The north team's quarter: three deals needing a look, one healthy, a small
    order outside the funnel, the targets; and the south team's deal next door."""
    plant = factories.account(rep, name="中建三局第二建设工程")
    # Brought in by an import, with the day it entered its stage long ago.
    actions.create_record(
        Opportunity,
        acting_user=rep,
        source=Source.SYSTEM,
        account=plant,
        name=STUCK,
        amount=Decimal("900000"),
        expected_close=CLOSE,
        stage_entered_on=TODAY - dt.timedelta(days=130),
    )
    factories.opportunity(
        rep,
        plant,
        name=OVERDUE,
        amount=Decimal("650000"),
        expected_close=TODAY - dt.timedelta(days=12),
    )
    forced = factories.opportunity(
        rep, plant, name=FORCED, amount=Decimal("400000"), expected_close=CLOSE
    )
    actions.advance_stage(
        forced,
        force_reason="客户催得急，先报价",
        on=TODAY,
        acting_user=rep,
        source=Source.PAGE,
    )

    park = factories.account(teammate, name="华东化工园区管委会")
    healthy = factories.opportunity(
        teammate, park, name=HEALTHY, amount=Decimal("600000"), expected_close=CLOSE
    )
    factories.evidence(teammate, healthy, *factories.STAGE_1_NODES)
    actions.advance_stage(healthy, on=TODAY, acting_user=teammate, source=Source.PAGE)
    actions.add_off_funnel_order(
        park, amount=Decimal("30000"), on=TODAY, acting_user=teammate, source=Source.PAGE
    )

    south = factories.account(outsider, name="华南建材集团")
    factories.opportunity(outsider, south, name=SOUTH, amount=Decimal("5000000"))

    for holder, amount in (({"user": rep}, "3000000"), ({"team": teams["north"]}, "6000000")):
        actions.set_target(
            **holder,
            start=QUARTER.start,
            end=QUARTER.end,
            amount=Decimal(amount),
            acting_user=manager,
            source=Source.PAGE,
        )


def test_the_manager_finds_the_deals_to_look_at_and_drills_down_to_one_rep(
    page, shoot, team_funnel
):
    sign_in(page, "manager")
    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="销售漏斗").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("销售漏斗与销售预计")

    expect(page.locator("#stuck")).to_contain_text(STUCK)
    expect(page.locator("#overdue")).to_contain_text(OVERDUE)
    expect(page.locator("#forced")).to_contain_text(FORCED)
    expect(page.locator("#rep-forecasts").get_by_role("row")).to_have_count(3)  # head + 2 reps
    expect(page.get_by_text(SOUTH)).to_have_count(0)
    expect(page.locator("#funnel-chart canvas").first).to_be_attached()
    shoot("20-manager-review")

    # The forced deal: what forcing cost, and why the rep did it.
    page.locator("#forced").get_by_role("link", name=FORCED).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FORCED)
    expect(page.locator(".stage-current")).to_contain_text("销售进入阶段")
    expect(page.locator(".factors")).to_be_visible()  # what lowers the probability
    shoot("21-manager-forced-deal")
    page.go_back()

    # One rep's funnel, through the link in the by-rep table.
    page.locator("#rep-forecasts").get_by_role("link", name="王伟").click()
    expect(page.locator(".lede")).to_contain_text("王伟")
    expect(page.get_by_text(HEALTHY)).to_have_count(0)
    expect(page.locator('tr[data-stage="1"]')).to_have_attribute("data-count", "2")
    expect(page.locator('tr[data-stage="2"]')).to_have_attribute("data-count", "1")
    shoot("22-manager-one-rep")

    # The same figures as a workbook for the weekly meeting.
    with page.expect_download() as download:
        page.get_by_role("link", name="下载为 XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as workbook:
        book = openpyxl.load_workbook(workbook)
    cells = {
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    }
    assert {STUCK, OVERDUE, FORCED} <= cells
    assert SOUTH not in cells and HEALTHY not in cells


def test_a_rep_of_another_team_sees_only_their_own_funnel(page, team_funnel, outsider):
    sign_in(page, "outsider")
    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="销售漏斗").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("销售漏斗与销售预计")
    stage_1 = page.locator('tr[data-stage="1"]')
    expect(stage_1).to_have_attribute("data-count", "1")  # the south deal, nothing of north
    assert Decimal(stage_1.get_attribute("data-value")) == Decimal("5000000")
    for name in (STUCK, OVERDUE, FORCED, HEALTHY):
        expect(page.get_by_text(name)).to_have_count(0)
