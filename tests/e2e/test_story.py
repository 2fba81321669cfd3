"""The whole story of issue 5, in Debian's headless Chromium, as a new user would live it.

A rep signs in (Chinese UI), screens a lead with the risk scorecard and converts it,
adds the customer's people, maps the buying center (an insider, an opposed technical
person, the decision maker) and sees the coach warn of the veto risk; tries to advance
without the key nodes and is stopped, records the evidence, advances, logs a visit with
the pretext for the next one and sees My day and the funnel change. The manager then
reviews the team's forecast; the language switches to English and back.

Screenshots are numbered in story order (screenshots/NN-name.png): the user guide in
docs/guide/ shows them.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kam.history.record import Source
from kam.sales import actions, insights
from kam.sales.models import Opportunity, Stage
from tests.e2e.test_sign_in import sign_in
from tests.sales import factories

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.date.today()
QUARTER = insights.current_quarter(TODAY)
CLOSE = min(TODAY + dt.timedelta(days=30), QUARTER.end)
NEXT_VISIT = TODAY + dt.timedelta(days=3)
AMOUNT = 1_200_000

LEAD = "搅拌站扩建供货"
COMPANY = "中建三局第二建设工程"
GM = "赵建国"
ENGINEER = "钱总工"
ASSISTANT = "孙秘书"
PRETEXT = "送第三方检测报告给钱总工"


def _targets(manager, rep, team):
    """The quarter's targets, as a manager sets them on the settings page."""
    for holder in ({"user": rep}, {"team": team}):
        actions.set_target(
            **holder,
            start=QUARTER.start,
            end=QUARTER.end,
            amount=Decimal("3000000") if "user" in holder else Decimal("8000000"),
            acting_user=manager,
            source=Source.PAGE,
        )


def _teammates_deal(teammate):
    """Another deal in the north team, so that the manager's view has two reps."""
    account = factories.account(teammate, name="华东化工园区管委会")
    deal = factories.opportunity(
        teammate, account, name="防腐涂料年度采购", amount=Decimal("600000"), expected_close=CLOSE
    )
    factories.evidence(teammate, deal, *factories.STAGE_1_NODES)
    actions.advance_stage(deal, on=TODAY, acting_user=teammate, source=Source.PAGE)
    actions.add_off_funnel_order(
        account,
        amount=Decimal("30000"),
        on=TODAY,
        note="备件零星订单",
        acting_user=teammate,
        source=Source.PAGE,
    )


def _row(page, section_title):
    """A page section (a landmark named by its heading)."""
    return page.get_by_role("region", name=section_title)


def _add_contact(page, name, title, department):
    page.get_by_role("link", name="添加联系人").click()
    page.get_by_label("名称").fill(name)
    page.get_by_label("职位").fill(title)
    page.get_by_label("部门").fill(department)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def _reports_to(page, boss):
    reporting = _row(page, "汇报关系")
    reporting.get_by_label("直属上级").select_option(label=boss)
    reporting.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("汇报关系已保存")


def _map(page, contact, *, roles=(), influence, attitude, strength, insider=False):
    mapped = page.locator("#people .person")
    count = mapped.count()
    form = _row(page, "向采购决策圈添加人员")
    form.get_by_label("联系人").select_option(label=contact)
    for role in roles:
        form.get_by_label(role).check()
    form.get_by_label("影响力").select_option(label=influence)
    form.get_by_label("态度").select_option(label=attitude)
    form.get_by_label("关系强度").select_option(label=strength)
    if insider:
        form.get_by_label("内线").check()
    form.get_by_role("button", name="添加").click()
    expect(mapped).to_have_count(count + 1)


def _wait_for_charts(page, *ids):
    for chart in ids:
        expect(page.locator(f"#{chart} canvas").first).to_be_attached()


def _number(text: str) -> Decimal:
    """A number as the page writes it, whatever the locale's grouping."""
    return Decimal(re.sub(r"[^\d.]", "", text))


def _forecast_total(page) -> str:
    return page.locator("#forecast-title ~ .table-wrap tr.total td").inner_text()


def test_a_new_rep_takes_a_lead_to_an_advanced_deal_and_the_manager_sees_it(
    page, shoot, rep, teammate, manager, teams
):
    _targets(manager, rep, teams["north"])
    _teammates_deal(teammate)

    # --- My day before: an empty funnel ------------------------------------------------
    sign_in(page, "rep")
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的工作台")
    _wait_for_charts(page, "funnel-chart", "forecast-chart")
    before = _forecast_total(page)
    shoot("04-my-day-empty")

    # --- A lead, screened with the risk scorecard ---------------------------------------
    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="线索").click()
    page.get_by_role("link", name="录入线索").click()
    page.get_by_label("名称").fill(LEAD)
    page.get_by_label("公司").fill(COMPANY)
    page.get_by_label("来源").select_option("trade_show")
    page.get_by_label("已知情况").fill("搅拌站扩建，需要两台大型搅拌主机，明年一季度投产。")
    page.get_by_label("预估金额").fill(str(AMOUNT))
    shoot("05-lead-new")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LEAD)

    score = page.locator("[data-score]")
    grade = page.locator("[data-grade]")
    scores = {
        "规模和预算": "5",
        "资金状况和信誉": "4",
        "关系紧密程度": "3",
        "需求明确度": "5",
        "技术匹配": "5",
        "竞争态势": "3",
        "决策流程清晰": "4",
    }
    for factor, value in list(scores.items())[:-1]:
        page.get_by_label(factor).select_option(value)
    expect(page.get_by_text("尚未打分")).to_be_visible()  # the live result names what is left
    page.get_by_label("决策流程清晰").select_option(scores["决策流程清晰"])
    expect(score).to_have_text(re.compile(r"\d+\.\d / 100"))  # computed live by the server
    expect(grade).to_have_text("—")
    page.get_by_label("预计成交日期").fill(CLOSE.isoformat())
    page.get_by_label("赢单可能性（%）").fill("70")
    page.get_by_label("赢单可能性（%）").press("Tab")
    expect(grade).to_have_text("A")  # closes within 3 months, likely won: class A
    shoot("06-lead-screening")
    page.get_by_role("button", name="保存筛选").click()
    expect(page.locator(".messages")).to_contain_text("线索已筛选")

    # --- Converted in one step to an account and an opportunity -------------------------
    convert = _row(page, "转化为客户和商机")
    expect(convert.get_by_label("新客户名称")).to_have_value(COMPANY)
    expect(convert.get_by_label("商机名称")).to_have_value(LEAD)
    convert.get_by_role("button", name="转化").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY)
    opportunity = Opportunity.objects.get(name=LEAD)
    assert opportunity.amount == AMOUNT and opportunity.grade == "A"

    # --- The customer's people ------------------------------------------------------------
    _add_contact(page, GM, "总经理", "总经理办公室")
    gm_label = f"{GM} · 总经理"
    page.get_by_role("link", name=COMPANY).click()
    _add_contact(page, ENGINEER, "总工程师", "技术部")
    _reports_to(page, gm_label)
    for phrase in ("一样样拆开来", "批判式分析", "知道底线在哪里"):
        page.get_by_label(phrase).check()
    page.get_by_role("button", name="保存口头禅").click()
    expect(page.locator(".messages")).to_contain_text("全脑画像已更新")
    shoot("07-contact-whole-brain")
    page.get_by_role("link", name=COMPANY).click()
    _add_contact(page, ASSISTANT, "总经理助理", "总经理办公室")
    _reports_to(page, gm_label)
    page.get_by_role("link", name=COMPANY).click()
    expect(_row(page, "联系人").get_by_role("link")).to_have_count(3)
    shoot("08-account")

    # --- The buying center: insider, opposed technical person, decision maker -------------
    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="商机").click()
    page.get_by_role("link", name=LEAD).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LEAD)
    page.get_by_role("link", name="采购决策圈").click()
    _map(
        page,
        f"{ASSISTANT} · 总经理助理",
        influence="低",
        attitude="支持",
        strength="关系良好",
        insider=True,
    )
    _map(
        page,
        f"{ENGINEER} · 总工程师",
        roles=("技术选型人",),
        influence="高",
        attitude="反对",
        strength="认识",
    )
    _map(page, gm_label, roles=("决策人",), influence="高", attitude="中立", strength="认识")
    people = page.locator("#people")
    expect(people.locator(".person")).to_have_count(3)
    expect(people.locator(".badge-insider")).to_have_count(1)
    expect(page.locator(f"#person-{_contact_pk(ASSISTANT)} .badge-insider")).to_be_visible()
    warnings = _row(page, "教练提醒")
    expect(warnings).to_contain_text("BC-TECH-OPPOSED")
    expect(warnings).to_contain_text("否决")  # the veto risk, in the user's language
    _wait_for_charts(page, "org-chart", "brain-radar")
    shoot("09-buying-center")

    # --- The gate: no advance without the key nodes ------------------------------------
    page.get_by_role("link", name=LEAD).click()
    gate = _row(page, "推进")
    advance = gate.get_by_role("button", name="推进到下一阶段")
    expect(advance).to_be_disabled()
    missing = gate.locator("ul.missing li")
    expect(missing).to_have_count(4)
    expect(missing.first).to_have_text("需求已确认")
    shoot("10-opportunity-gate-closed")

    # Even a request that gets past the disabled button is refused by the server.
    advance.evaluate(
        "button => { button.disabled = false; button.removeAttribute('aria-disabled') }"
    )
    advance.click()
    expect(page.get_by_role("alert")).to_contain_text("需求已确认")
    opportunity.refresh_from_db()
    assert opportunity.stage == Stage.DEVELOPMENT
    shoot("11-opportunity-advance-refused")

    # --- The evidence of stage 1's key nodes, then the advance ----------------------------
    notes = {
        "需求已确认": "技术部提交扩建需求，两台 4 方搅拌主机",
        "预算已确认": "集团已批复 120 万设备预算",
        "项目进度已确认": "明年一季度投产，本季度定供应商",
        "已判断客户级别": "筛选评为 A 类",
    }
    for node, note in notes.items():
        form = _row(page, "记录关键节点的证据")
        form.get_by_label("关键节点").select_option(label=f"1 · {node}")
        form.get_by_label("备注").fill(note)
        form.get_by_role("button", name="记录证据").click()
        expect(page.locator(".stage-current .checklist .done")).to_contain_text([node])
    expect(advance).to_be_enabled()
    shoot("12-opportunity-evidence")
    _row(page, "推进").get_by_role("button", name="推进到下一阶段").click()
    expect(page.locator(".stage-current")).to_contain_text("销售进入阶段")
    opportunity.refresh_from_db()
    assert opportunity.stage == Stage.ENTRY
    shoot("13-opportunity-advanced")

    # --- A visit, with the pretext for the next one ------------------------------------
    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="客户").click()
    page.get_by_role("link", name=COMPANY).first.click()
    page.get_by_role("link", name="记录活动").click()
    expect(page.get_by_label("客户")).to_have_value(str(opportunity.account_id))
    page.get_by_label("商机").select_option(label=f"{LEAD} · {COMPANY}")
    page.get_by_label("见到的联系人").select_option(
        label=[f"{ENGINEER} · {COMPANY}", f"{ASSISTANT} · {COMPANY}"]
    )
    page.get_by_label("费用").fill("300")
    page.get_by_label("备注").fill("钱总工担心搅拌主机的耐磨性，孙秘书透露下周三开技术评审会。")
    page.get_by_label("下一步").fill("请钱总工参观在用的同型号搅拌站")
    page.get_by_label("下次拜访的借口").fill(PRETEXT)
    expect(page.get_by_label(re.compile(r"^日期"))).to_have_value(TODAY.isoformat())
    page.get_by_label("下次拜访日期").fill(NEXT_VISIT.isoformat())
    shoot("14-activity-new")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY)
    expect(_row(page, "时间线")).to_contain_text(PRETEXT)
    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="活动").click()
    expect(page.get_by_text(PRETEXT).first).to_be_visible()
    shoot("15-activities-plan")

    # --- My day and the funnel have changed ----------------------------------------------
    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="我的工作台").click()
    expect(_row(page, "待拜访")).to_contain_text(PRETEXT)
    funnel = _row(page, "我的销售漏斗")
    entry_row = funnel.get_by_role("row", name=re.compile("销售进入阶段"))
    expect(entry_row.get_by_role("cell").nth(0)).to_have_text("1")
    assert _number(entry_row.get_by_role("cell").nth(1).inner_text()) == AMOUNT
    _wait_for_charts(page, "funnel-chart", "forecast-chart")
    assert _forecast_total(page) != before
    expect(_row(page, "教练建议")).to_contain_text(LEAD)
    shoot("16-my-day")

    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="销售漏斗").click()
    stage_2 = page.locator('tr[data-stage="2"]')
    expect(stage_2).to_have_attribute("data-count", "1")
    assert Decimal(stage_2.get_attribute("data-value")) == AMOUNT
    _wait_for_charts(page, "funnel-chart", "forecast-chart")
    shoot("17-funnel-rep")

    # --- Phone-sized screens ----------------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    _wait_for_charts(page, "funnel-chart")
    shoot("30-phone-my-day")
    page.goto(f"/opportunities/{opportunity.pk}/")
    shoot("31-phone-opportunity")
    page.goto(f"/opportunities/{opportunity.pk}/buying-center/")
    _wait_for_charts(page, "org-chart")
    shoot("32-phone-buying-center")
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- The manager reviews the team's forecast ---------------------------------------
    page.get_by_role("button", name="退出登录").click()
    sign_in(page, "manager")
    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="销售漏斗").click()
    filters = page.get_by_role("form", name=re.compile("谁的漏斗"))
    filters.get_by_label("团队").select_option(label="north")
    filters.get_by_role("button", name="显示").click()
    expect(page.locator(".lede")).to_contain_text("north")
    reps = page.locator("#rep-forecasts")
    expect(reps.get_by_role("row", name=re.compile("王伟"))).to_be_visible()
    expect(reps.get_by_role("row", name=re.compile("李芳"))).to_be_visible()
    expect(page.locator('tr[data-stage="2"]')).to_have_attribute("data-count", "2")
    target = page.locator("#forecast-parts tfoot").get_by_role("row", name=re.compile("^目标 "))
    assert _number(target.get_by_role("cell").inner_text()) == 8_000_000
    _wait_for_charts(page, "funnel-chart", "forecast-chart")
    shoot("18-funnel-manager")

    # --- English and back ------------------------------------------------------------
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Funnel and forecast")
    _wait_for_charts(page, "funnel-chart", "forecast-chart")
    shoot("19-funnel-manager-en")
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("销售漏斗与销售预计")


def _contact_pk(name):
    from kam.sales.models import Contact

    return Contact.objects.get(name=name).pk


NODES_TO_NEGOTIATION = (
    *factories.STAGE_1_NODES,
    "insider_found",
    "key_people_identified",
    "criteria_reflect_strengths",
    "proposal_accepted_by_technical",
    "bid_submitted",
    "shortlisted",
)


def test_the_signed_contract_wins_the_deal_and_my_day_counts_it_as_won(page, shoot, rep):
    account = factories.account(rep, name=COMPANY)
    deal = factories.opportunity(
        rep, account, name=LEAD, amount=Decimal(AMOUNT), expected_close=CLOSE
    )
    factories.evidence(rep, deal, *NODES_TO_NEGOTIATION)
    for _stage in range(4):  # development -> business negotiation, every gate met
        deal.refresh_from_db()
        actions.advance_stage(deal, on=TODAY, acting_user=rep, source=Source.PAGE)

    sign_in(page, "rep")
    page.get_by_role("link", name=LEAD).first.click()
    expect(page.locator(".stage-current")).to_contain_text("商务谈判阶段")
    form = _row(page, "记录关键节点的证据")
    form.get_by_label("关键节点").select_option(label="5 · 双方合同已签订")
    form.get_by_label("备注").fill("合同编号 ZJ-2026-118，首付 30%")
    form.get_by_role("button", name="记录证据").click()
    expect(page.locator(".stage-current .checklist .done")).to_contain_text(["双方合同已签订"])
    _row(page, "推进").get_by_role("button", name="推进到下一阶段").click()
    expect(page.get_by_text("赢单").first).to_be_visible()
    deal.refresh_from_db()
    assert deal.outcome == "won" and deal.stage == Stage.IMPLEMENTATION
    shoot("23-opportunity-won")

    page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="我的工作台").click()
    won = _row(page, "我的销售预计").get_by_role("row", name=re.compile("漏斗内已成交"))
    assert _number(won.get_by_role("cell").inner_text()) == AMOUNT
    _wait_for_charts(page, "forecast-chart")
    shoot("24-my-day-won")
