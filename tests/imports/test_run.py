"""Importing rows: what is written, what is reported, and what a second run does."""

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from kam.history.models import Change
from kam.imports.run import ImportOptions, ImportRefused, run_import
from kam.sales import actions
from kam.sales.models import Account, Activity, Contact, OffFunnelOrder, Opportunity, StageOverride

pytestmark = pytest.mark.django_db

CHINESE_HEADER = ["客户名称", "商机名称", "金额", "预计成交日期", "阶段", "负责人"]
CHINESE_ROWS = [
    ["华东建工集团", "搅拌站扩建供货", "12.5万", "2026年3月5日", "投标", "王伟"],
    ["中建三局第二建设工程", "防腐涂料年度采购", "￥800,000", "2026/4/30", "赢单", "rep"],
    ["华东建工集团", "二期厂房涂料", "30000", "2026-06-01", "输单", "teammate"],
]


def write_csv(path, rows, *, encoding="utf-8", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as out:
        csv.writer(out, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path, rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def deals(tmp_path, rows=CHINESE_ROWS, header=CHINESE_HEADER, name="deals.csv", **kw):
    return write_csv(tmp_path / name, [header, *rows], **kw)


def run(kind, path, user, dry_run=False, failed_rows=None, **options):
    return run_import(
        kind,
        path,
        acting_user=user,
        options=ImportOptions.from_strings(**options),
        dry_run=dry_run,
        failed_rows=failed_rows,
    )


def state():
    """Everything an import may write, to compare before and after."""
    return {
        "accounts": sorted(
            Account.all_objects.values_list("name", "version", "owner_id", "team_id")
        ),
        "deals": sorted(
            Opportunity.all_objects.values_list(
                "name", "amount", "stage", "outcome", "expected_close", "version"
            )
        ),
        "contacts": sorted(Contact.all_objects.values_list("name", "version")),
        "activities": sorted(Activity.objects.values_list("notes", "version")),
        "orders": sorted(OffFunnelOrder.objects.values_list("amount", "version")),
        "history": Change.objects.count(),
    }


def test_a_chinese_sheet_creates_its_accounts_and_deals(tmp_path, rep, teammate, teams):
    report = run("opportunities", deals(tmp_path), rep)

    assert (report.rows, report.created, report.failed) == (3, 3, 0)
    assert report.accounts_created == 2
    first = Opportunity.objects.get(name="搅拌站扩建供货")
    assert first.account.name == "华东建工集团"
    assert first.amount == Decimal("125000")
    assert first.expected_close == dt.date(2026, 3, 5)
    assert (first.stage, first.outcome) == (4, "open")
    assert first.owner == rep  # 王伟: the rep's full name, family name first
    assert first.team == teams["north"]
    won = Opportunity.objects.get(name="防腐涂料年度采购")
    assert (won.stage, won.outcome, won.amount) == (6, "won", Decimal("800000"))
    assert won.currency == "CNY"
    assert won.closed_on == dt.date(2026, 4, 30)
    lost = Opportunity.objects.get(name="二期厂房涂料")
    assert (lost.outcome, lost.owner) == ("lost", teammate)
    assert "before the import" in lost.close_reason
    assert Account.objects.filter(name="华东建工集团").count() == 1


def _xlsx_rows(tmp_path):
    return write_xlsx(tmp_path / "deals.xlsx", [CHINESE_HEADER, *CHINESE_ROWS])


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: deals(p), id="utf-8"),
        pytest.param(lambda p: deals(p, encoding="utf-8-sig"), id="utf-8-bom"),
        pytest.param(lambda p: deals(p, encoding="gb18030"), id="gb18030"),
        pytest.param(lambda p: deals(p, delimiter=";"), id="semicolon"),
        pytest.param(lambda p: deals(p, delimiter="\t", name="deals.txt"), id="tab"),
        pytest.param(_xlsx_rows, id="xlsx"),
    ],
)
def test_every_format_imports_the_same_records(tmp_path, rep, teammate, make):
    report = run("opportunities", make(tmp_path), rep)

    assert (report.rows, report.created, report.failed) == (3, 3, 0), report.errors
    assert sorted(Opportunity.objects.values_list("name", "amount", "stage", "outcome")) == [
        ("二期厂房涂料", Decimal("30000.00"), 1, "lost"),
        ("搅拌站扩建供货", Decimal("125000.00"), 4, "open"),
        ("防腐涂料年度采购", Decimal("800000.00"), 6, "won"),
    ]


def test_each_bad_row_is_reported_with_its_line_column_and_reason(tmp_path, rep):
    rows = [
        ["华东建工集团", "好的一行", "1000", "2026-03-05", "1", "rep"],
        ["华东建工集团", "坏日期", "1000", "明天", "1", "rep"],
        ["华东建工集团", "坏金额", "一千", "2026-03-05", "1", "rep"],
        ["华东建工集团", "未知阶段", "1000", "2026-03-05", "Verbal Commit", "rep"],
        ["华东建工集团", "未知负责人", "1000", "2026-03-05", "1", "nobody"],
        ["华东建工集团", "", "1000", "2026-03-05", "1", "rep"],
        ["华东建工集团", "两个错误", "abc", "2026-13-45", "1", "rep"],
        ["华东建工集团", "多一格", "1000", "2026-03-05", "1", "rep", "extra"],
    ]
    report = run("opportunities", deals(tmp_path, rows), rep)

    assert (report.rows, report.created, report.failed) == (8, 1, 7)
    assert report.created + report.updated + report.skipped + report.failed == report.rows
    where = [(p.line, p.column) for p in report.errors]
    assert where == [
        (3, "预计成交日期"),
        (4, "金额"),
        (5, "阶段"),
        (6, "负责人"),
        (7, "商机名称"),
        (8, "金额"),
        (8, "预计成交日期"),
        (9, ""),
    ]
    reasons = {p.line: p.message for p in report.errors}
    assert "明天" in reasons[3] and "not a date" in reasons[3]
    assert "not an amount" in reasons[4]
    assert "--map-value stage:Verbal Commit=VALUE" in reasons[5]
    assert "No user nobody" in reasons[6] and "--owner" in reasons[6]
    assert "name is empty" in reasons[7]
    assert "quotes" in reasons[9]
    assert Opportunity.objects.count() == 1


def test_the_failed_rows_are_written_as_csv_with_an_error_column(tmp_path, rep):
    rows = [
        ["华东建工集团", "好的一行", "1000", "2026-03-05", "1", "rep"],
        ["华东建工集团", "坏金额", "一千", "2026-03-05", "1", "rep"],
    ]
    out = io.StringIO()
    run("opportunities", deals(tmp_path, rows), rep, failed_rows=out)

    written = list(csv.reader(io.StringIO(out.getvalue())))
    assert written[0] == [*CHINESE_HEADER, "error"]
    assert written[1][:6] == rows[1]
    assert written[1][6].startswith("金额: “一千” is not an amount")
    assert len(written) == 2


def test_a_dry_run_gives_the_identical_report_and_writes_nothing(tmp_path, rep, teammate):
    rows = [*CHINESE_ROWS, ["华东建工集团", "坏金额", "一千", "2026-03-05", "1", "rep"]]
    path = deals(tmp_path, rows)
    before = state()

    dry = run("opportunities", path, rep, dry_run=True)

    assert state() == before
    real = run("opportunities", path, rep)
    assert dataclasses.replace(dry, dry_run=False) == real
    assert (dry.created, dry.failed, dry.accounts_created) == (3, 1, 2)
    assert dry.summary()[0] == "Dry run: nothing was written."


def test_a_dry_run_of_a_second_import_reports_the_updates_it_would_make(tmp_path, rep, teammate):
    run("opportunities", deals(tmp_path), rep)
    changed = [[*CHINESE_ROWS[0][:2], "13万", *CHINESE_ROWS[0][3:]], *CHINESE_ROWS[1:]]
    path = deals(tmp_path, changed, name="changed.csv")
    before = state()

    dry = run("opportunities", path, rep, dry_run=True)

    assert state() == before
    assert (dry.updated, dry.skipped) == (1, 2)
    assert dataclasses.replace(dry, dry_run=False) == run("opportunities", path, rep)


def test_running_the_same_file_again_duplicates_nothing_and_writes_nothing(tmp_path, rep, teammate):
    path = deals(tmp_path)
    run("opportunities", path, rep)
    before = state()

    again = run("opportunities", path, rep)

    assert (again.rows, again.created, again.updated, again.skipped) == (3, 0, 0, 3)
    assert again.accounts_created == 0
    assert state() == before


def test_a_changed_file_updates_the_records_it_matches_with_history(tmp_path, rep, teammate):
    run("opportunities", deals(tmp_path), rep)
    changed = [["华东建工集团", "搅拌站扩建供货", "13万", "2026-03-31", "4", "王伟"]]

    report = run("opportunities", deals(tmp_path, changed, name="v2.csv"), rep)

    assert (report.updated, report.created) == (1, 0)
    deal = Opportunity.objects.get(name="搅拌站扩建供货")
    assert (deal.amount, deal.expected_close, deal.version) == (
        Decimal("130000"),
        dt.date(2026, 3, 31),
        2,
    )
    last = Change.objects.filter(object_id=str(deal.pk), action="update").get()
    assert last.source == Change.Source.IMPORT
    assert last.user == rep
    assert set(last.changes) == {"amount", "expected_close"}


def test_every_write_is_in_history_as_an_import_by_the_importing_user(tmp_path, rep, teammate):
    run("opportunities", deals(tmp_path), rep)

    rows = Change.objects.all()
    assert rows.count() == 5  # two accounts, three deals
    assert set(rows.values_list("source", "user", "action")) == {("import", rep.pk, "create")}


def test_the_natural_key_is_named_in_the_report(tmp_path, rep):
    header = ["name", "account"]
    report = run("contacts", write_csv(tmp_path / "c.csv", [header, ["张工", "华东"]]), rep)
    assert "account + name" in report.natural_key
    report = run("opportunities", deals(tmp_path, CHINESE_ROWS[:1]), rep)
    assert report.natural_key == "external id, else account + name"


def test_deals_are_matched_by_external_id_before_name(tmp_path, rep):
    header = ["Id", "Account Name", "Name", "Amount"]
    run(
        "opportunities",
        write_csv(tmp_path / "a.csv", [header, ["006A", "Acme", "Pumps", "10"]]),
        rep,
    )

    renamed = write_csv(tmp_path / "b.csv", [header, ["006A", "Acme", "Pumps, phase 1", "10"]])
    report = run("opportunities", renamed, rep)

    assert (report.updated, report.created) == (1, 0)
    assert Opportunity.objects.get().name == "Pumps, phase 1"


def test_an_unknown_owner_fails_its_row_unless_owner_gives_a_default(tmp_path, rep, teammate):
    rows = [["华东建工集团", "搅拌站扩建供货", "1000", "2026-03-05", "1", "base.user_admin"]]
    path = deals(tmp_path, rows)

    without = run("opportunities", path, rep)
    assert (without.failed, without.errors[0].column) == (1, "负责人")

    with_default = run("opportunities", path, rep, owner="teammate")
    assert with_default.created == 1
    assert Opportunity.objects.get().owner == teammate
    assert "base.user_admin" in with_default.warnings[0].message


def test_owners_are_matched_by_username_full_name_or_email(tmp_path, rep, teammate):
    teammate.email = "li.fang@example.com"
    teammate.save()
    rows = [
        ["A", "by username", "1", "", "", "TEAMMATE"],
        ["A", "by full name", "1", "", "", "李芳"],
        ["A", "by name given first", "1", "", "", "芳 李"],
        ["A", "by email", "1", "", "", "Li.Fang@example.com"],
    ]
    report = run("opportunities", deals(tmp_path, rows), rep)

    assert report.created == 4, report.errors
    assert set(Opportunity.objects.values_list("owner", flat=True)) == {teammate.pk}


def test_a_rep_cannot_import_records_for_an_owner_outside_their_teams(tmp_path, rep, outsider):
    rows = [["华东建工集团", "搅拌站扩建供货", "1000", "2026-03-05", "1", "outsider"]]
    report = run("opportunities", deals(tmp_path, rows), rep)

    assert report.failed == 1
    assert "not in your teams" in report.errors[0].message
    assert not Opportunity.objects.exists()


def test_an_admin_imports_for_anyone_naming_the_team(tmp_path, admin, outsider, teams):
    rows = [["华东建工集团", "搅拌站扩建供货", "1000", "2026-03-05", "1", "outsider"]]
    report = run("opportunities", deals(tmp_path, rows), admin, team="south")

    assert report.created == 1, report.errors
    deal = Opportunity.objects.get()
    assert (deal.owner, deal.team, deal.account.team) == (outsider, teams["south"], teams["south"])


def test_a_team_outside_the_users_teams_is_refused_before_any_row(tmp_path, rep):
    with pytest.raises(ImportRefused, match="south"):
        run("opportunities", deals(tmp_path), rep, team="south")


def test_a_user_in_several_teams_is_asked_which_team_a_new_account_goes_to(tmp_path, manager):
    report = run(
        "accounts", write_csv(tmp_path / "a.csv", [["客户名称"], ["华东建工集团"]]), manager
    )
    assert report.failed == 1
    assert report.errors[0].field == "team" and "--team" in report.errors[0].message

    report = run("accounts", tmp_path / "a.csv", manager, team="east")
    assert report.created == 1
    assert Account.objects.get().team.name == "east"


def test_rows_match_only_records_the_user_may_see(tmp_path, rep, outsider):
    actions.create_record(Account, acting_user=outsider, source="page", name="华东建工集团")
    report = run("accounts", write_csv(tmp_path / "a.csv", [["客户名称"], ["华东建工集团"]]), rep)

    assert report.created == 1
    assert Account.objects.filter(name="华东建工集团").count() == 2


def test_a_date_that_reads_both_ways_fails_naming_row_and_column_unless_a_format_is_given(
    tmp_path, rep
):
    rows = [["Acme", "Pumps", "1000", "03/05/26", "1", "rep"]]
    path = deals(tmp_path, rows)

    report = run("opportunities", path, rep)
    assert (report.failed, report.errors[0].line, report.errors[0].column) == (1, 2, "预计成交日期")
    assert "--date-format" in report.errors[0].message

    report = run("opportunities", path, rep, date_format="us")
    assert report.created == 1
    assert Opportunity.objects.get().expected_close == dt.date(2026, 3, 5)


def test_the_other_dates_of_a_column_settle_its_ambiguous_ones(tmp_path, rep):
    rows = [
        ["Acme", "Pumps", "1000", "03/05/26", "1", "rep"],
        ["Acme", "Valves", "1000", "03/25/26", "1", "rep"],
    ]
    report = run("opportunities", deals(tmp_path, rows), rep)

    assert report.created == 2, report.errors
    assert Opportunity.objects.get(name="Pumps").expected_close == dt.date(2026, 3, 5)


def test_a_missing_required_column_refuses_the_file_before_writing(tmp_path, rep):
    path = write_csv(tmp_path / "d.csv", [["金额"], ["1000"]])
    with pytest.raises(ImportRefused) as refused:
        run("opportunities", path, rep)
    assert "account or account_external_id, name" in refused.value.messages[0]
    assert not Account.objects.exists()


def test_bad_options_are_refused_before_any_row(tmp_path, rep):
    path = deals(tmp_path)
    for options, field in [
        ({"map": ["no equals sign"]}, "map"),
        ({"map": ["Nope=name"]}, "map"),
        ({"map_value": ["stage=5"]}, "map_value"),
        ({"map_value": ["colour:red=5"]}, "map_value"),
        ({"default": ["nothing"]}, "default"),
        ({"date_format": "julian"}, "date_format"),
        ({"owner": "ghost"}, "owner"),
        ({"team": "ghost"}, "team"),
    ]:
        with pytest.raises(ImportRefused) as refused:
            run("opportunities", path, rep, **options)
        assert field in refused.value.message_dict, options
    with pytest.raises(ImportRefused):
        run("leads", path, rep)
    assert not Account.objects.exists()


def test_map_value_maps_a_name_kam_does_not_know(tmp_path, rep):
    rows = [["Acme", "Pumps", "1000", "2026-03-05", "Verbal Commit", "rep"]]
    report = run("opportunities", deals(tmp_path, rows), rep, map_value=["stage:verbal commit=5"])

    assert report.created == 1
    assert Opportunity.objects.get().stage == 5


def test_default_fills_empty_cells_and_missing_columns(tmp_path, rep):
    rows = [["", "Pumps", "1000", "2026-03-05", "1", "rep"]]
    report = run(
        "opportunities",
        deals(tmp_path, rows),
        rep,
        default=["account=散客", "currency=USD", "source=trade_show"],
    )

    assert report.created == 1, report.errors
    deal = Opportunity.objects.get()
    assert (deal.account.name, deal.currency, deal.source) == ("散客", "USD", "trade_show")


def test_an_amount_in_dollars_gives_the_currency_and_a_contradiction_fails(tmp_path, rep):
    header = ["客户", "商机", "金额", "币种"]
    rows = [["Acme", "Pumps", "$15,000", ""], ["Acme", "Valves", "$15,000", "CNY"]]
    report = run("opportunities", write_csv(tmp_path / "d.csv", [header, *rows]), rep)

    assert (report.created, report.failed) == (1, 1)
    assert Opportunity.objects.get().currency == "USD"
    assert report.errors[0].column == "币种"


def test_a_deal_without_an_amount_counts_as_zero_with_a_warning(tmp_path, rep):
    rows = [["Acme", "Pumps", "", "2026-03-05", "1", "rep"]]
    report = run("opportunities", deals(tmp_path, rows), rep)

    assert report.created == 1
    assert Opportunity.objects.get().amount == 0
    assert (report.warnings[0].line, report.warnings[0].column) == (2, "金额")


def test_columns_that_disagree_on_the_outcome_fail_the_row(tmp_path, rep):
    header = ["Account Name", "Name", "StageName", "IsWon", "IsClosed"]
    rows = [
        ["Acme", "Pumps", "Closed Won", "TRUE", "TRUE"],
        ["Acme", "Valves", "Closed Won", "FALSE", "TRUE"],
        ["Acme", "Seals", "Prospecting", "FALSE", "TRUE"],
        ["Acme", "Gears", "Prospecting", "FALSE", "FALSE"],
    ]
    report = run("opportunities", write_csv(tmp_path / "d.csv", [header, *rows]), rep)

    assert (report.created, report.failed) == (3, 1)
    assert "StageName, IsWon" in report.errors[0].message
    assert Opportunity.objects.get(name="Seals").outcome == "lost"
    assert Opportunity.objects.get(name="Gears").outcome == "open"


def test_a_re_import_moves_a_deal_through_the_verbs_recording_forced_gates(tmp_path, rep):
    header = ["客户", "商机", "阶段", "丢单原因"]
    run("opportunities", write_csv(tmp_path / "a.csv", [header, ["Acme", "Pumps", "1", ""]]), rep)

    moved = run(
        "opportunities", write_csv(tmp_path / "b.csv", [header, ["Acme", "Pumps", "3", ""]]), rep
    )
    deal = Opportunity.objects.get()
    assert (moved.updated, deal.stage) == (1, 3)
    override = StageOverride.objects.get()
    assert (override.from_stage, override.to_stage) == (1, 3)
    assert "import" in override.reason

    rows = [header, ["Acme", "Pumps", "丢单", "价格高于竞争对手"]]
    lost = run("opportunities", write_csv(tmp_path / "c.csv", rows), rep)
    deal.refresh_from_db()
    assert (lost.updated, deal.outcome, deal.stage) == (1, "lost", 3)
    assert deal.close_reason == "价格高于竞争对手"

    again = run("opportunities", tmp_path / "c.csv", rep)
    assert again.skipped == 1


def test_a_deal_kam_has_as_won_is_not_changed_by_an_import(tmp_path, rep):
    header = ["客户", "商机", "阶段"]
    run("opportunities", write_csv(tmp_path / "a.csv", [header, ["Acme", "Pumps", "赢单"]]), rep)

    report = run(
        "opportunities", write_csv(tmp_path / "b.csv", [header, ["Acme", "Pumps", "2"]]), rep
    )

    assert report.failed == 1
    assert "won" in report.errors[0].message
    assert Opportunity.objects.get().outcome == "won"


def test_no_create_accounts_fails_rows_whose_account_does_not_exist(tmp_path, rep):
    report = run("opportunities", deals(tmp_path, CHINESE_ROWS[:1]), rep, create_accounts=False)

    assert report.failed == 1
    assert "No account 华东建工集团" in report.errors[0].message


def test_an_account_name_shared_by_two_visible_accounts_fails_the_row(tmp_path, rep):
    for _ in range(2):
        actions.create_record(Account, acting_user=rep, source="page", name="华东建工集团")
    report = run("opportunities", deals(tmp_path, CHINESE_ROWS[:1]), rep)

    assert report.failed == 1
    assert "Several accounts" in report.errors[0].message


def test_accounts_import_their_file_fields_and_update_by_name(tmp_path, rep):
    header = ["客户名称", "行业", "地区", "企业性质", "三重一大", "客户等级"]
    rows = [["华东建工集团", "建筑", "上海", "央企", "是", "A"]]
    path = write_csv(tmp_path / "a.csv", [header, *rows])

    assert run("accounts", path, rep).created == 1
    account = Account.objects.get()
    assert (account.industry, account.region, account.ownership) == ("建筑", "上海", "central_soe")
    assert (account.collective_decision, account.grade) == (True, "A")

    rows = [["华东建工集团", "建筑", "江苏", "央企", "是", "A"]]
    report = run("accounts", write_csv(tmp_path / "b.csv", [header, *rows]), rep)
    assert (report.updated, Account.objects.get().region) == (1, "江苏")


def test_contacts_import_at_their_account_and_match_by_name(tmp_path, rep):
    header = ["客户名称", "姓名", "职务", "手机", "邮箱"]
    rows = [
        ["华东建工集团", "张工", "总工程师", "13800000000", "zhang@example.com"],
        ["华东建工集团", "李经理", "采购经理", "", "not an email"],
    ]
    report = run("contacts", write_csv(tmp_path / "c.csv", [header, *rows]), rep)

    assert (report.created, report.failed) == (1, 1)
    assert report.errors[0].column == "邮箱"
    contact = Contact.objects.get()
    assert (contact.account.name, contact.title, contact.phone) == (
        "华东建工集团",
        "总工程师",
        "13800000000",
    )
    assert run("contacts", tmp_path / "c.csv", rep).skipped == 1


def test_activities_import_with_their_contacts_and_deal_and_are_not_duplicated(tmp_path, rep):
    account = actions.create_record(Account, acting_user=rep, source="page", name="华东建工集团")
    actions.create_record(Contact, acting_user=rep, source="page", account=account, name="张工")
    actions.create_record(
        Opportunity, acting_user=rep, source="page", account=account, name="搅拌站", amount=1
    )
    header = [
        "客户名称",
        "拜访日期",
        "拜访方式",
        "联系人",
        "商机",
        "拜访内容",
        "费用",
        "下次拜访日期",
    ]
    rows = [
        [
            "华东建工集团",
            "2026-03-05",
            "拜访",
            "张工",
            "搅拌站",
            "介绍新产品",
            "¥350",
            "2026-03-20",
        ],
        ["华东建工集团", "2026-03-06", "电话", "王五", "", "电话跟进", "", ""],
    ]
    path = write_csv(tmp_path / "v.csv", [header, *rows])

    report = run("activities", path, rep)

    assert (report.created, report.failed) == (1, 1)
    assert "No contact 王五" in report.errors[0].message
    visit = Activity.objects.get()
    assert (visit.kind, visit.cost, visit.opportunity.name) == ("visit", Decimal("350"), "搅拌站")
    assert [c.name for c in visit.contacts.all()] == ["张工"]
    assert visit.next_on == dt.date(2026, 3, 20)
    again = run("activities", path, rep)
    assert (again.skipped, again.failed) == (1, 1)
    assert Activity.objects.count() == 1


def test_off_funnel_orders_import_and_match_by_account_date_and_amount(tmp_path, rep):
    header = ["客户名称", "下单日期", "订单金额", "备注"]
    rows = [
        ["华东建工集团", "2026-03-05", "8,500", "补货"],
        ["华东建工集团", "2026-03-06", "50万", "太大"],
    ]
    path = write_csv(tmp_path / "o.csv", [header, *rows])

    report = run("off-funnel-orders", path, rep)

    assert (report.created, report.failed) == (1, 1)
    assert report.errors[0].column == "订单金额"
    assert "threshold" in report.errors[0].message
    assert OffFunnelOrder.objects.get().amount == Decimal("8500")
    rows[0][3] = "补货(改)"
    changed = run("off-funnel-orders", write_csv(tmp_path / "o2.csv", [header, rows[0]]), rep)
    assert changed.updated == 1
    assert OffFunnelOrder.objects.get().note == "补货(改)"


def test_a_row_refused_by_the_record_is_reported_with_the_field_at_fault(
    tmp_path, rep, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ValidationError({"name": "这个名字不行。"})

    # The checks of the record itself (``full_clean``), as ``actions.create_record`` runs them.
    monkeypatch.setattr(Account, "clean", refuse)
    report = run("accounts", write_csv(tmp_path / "a.csv", [["客户名称"], ["华东"]]), rep)

    assert (report.errors[0].column, report.errors[0].message) == ("客户名称", "这个名字不行。")


def test_the_report_summary_lists_counts_columns_and_problems(tmp_path, rep):
    rows = [["Acme", "Pumps", "abc", "2026-03-05", "1", "rep"]]
    path = write_csv(tmp_path / "d.csv", [[*CHINESE_HEADER, "Probability"], [*rows[0], "10"]])
    lines = run("opportunities", path, rep).summary()

    assert lines[0] == "1 rows: 0 created, 0 updated, 0 unchanged, 1 failed."
    assert any("amount ← 金额" in line for line in lines)
    assert any("Probability" in line and "--map" in line for line in lines)
    assert any(line.startswith("error: line 2, 金额:") for line in lines)


def test_the_import_reads_a_file_object_as_well_as_a_path(tmp_path, rep, teammate):
    data = io.BytesIO(deals(tmp_path).read_bytes())
    assert run("opportunities", data, rep).created == 3


def test_a_file_that_cannot_be_read_is_refused_before_any_row(tmp_path, rep):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(ImportRefused) as refused:
        run("accounts", path, rep)
    assert "xlsx" in refused.value.message_dict["file"][0]


def test_a_file_whose_encoding_breaks_mid_way_keeps_the_rows_before_and_says_why(tmp_path, rep):
    good = "".join(f"Customer {i:03},{'x' * 200}\n" for i in range(60)).encode()
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"name,note\n" + good + "华东建工集团,x\n".encode("gb18030"))

    report = run("accounts", path, rep, encoding="utf-8")

    assert "--encoding gb18030" in report.stopped
    assert 0 < report.rows == report.created < 60
    assert Account.objects.count() == report.created
    assert report.summary()[-1].startswith("Reading stopped before the end of the file")


def test_a_row_is_reported_with_every_reason_found_in_it(tmp_path, rep):
    rows = [
        ["华东建工集团", "", "一千", "明天", "Verbal Commit", "nobody"],
        ["华东建工集团", "x" * 201, "一千", "2026-03-05", "1", "rep"],
    ]
    out = io.StringIO()
    report = run("opportunities", deals(tmp_path, rows), rep, failed_rows=out)

    assert (report.rows, report.failed) == (2, 2)
    assert [(p.line, p.column) for p in report.errors] == [
        # what cannot be read, then what the row says wrong
        (2, "金额"),
        (2, "预计成交日期"),
        (2, "阶段"),
        (2, "商机名称"),
        (2, "负责人"),
        # a value refused by the record itself, beside the one that cannot be read
        (3, "金额"),
        (3, "商机名称"),
    ]
    assert "No user nobody" in report.errors[4].message
    assert "200 characters" in report.errors[6].message
    written = list(csv.reader(io.StringIO(out.getvalue())))
    for column in ("金额", "预计成交日期", "阶段", "商机名称", "负责人"):
        assert f"{column}: " in written[1][-1]
    assert not Opportunity.objects.exists() and not Account.objects.exists()


def test_a_batch_reads_the_same_queries_however_many_rows_it_has(
    tmp_path, rep, teammate, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kam.imports import run as importer

    monkeypatch.setattr(importer, "_recompute_figures", lambda ids: None)  # queued, not here

    def queries(rows: int, name: str) -> int:
        lines = [
            [f"客户{n % 7}", f"{name}{n}", "1000", "2026-03-05", str(n % 5 + 1), owner]
            for n, owner in zip(range(rows), ["rep", "teammate", "王伟"] * rows, strict=False)
        ]
        path = deals(tmp_path, lines, name=f"{name}.csv")
        with CaptureQueriesContext(connection) as captured:
            report = run_import("opportunities", path, acting_user=rep, batch_size=500)
        assert report.created == rows, report.errors
        # One executemany per table (a new account's, the deals', their history's).
        # (Django logs an executemany as "N times INSERT INTO ...".)
        inserts = [
            q["sql"].split("INSERT INTO ")[1].split()[0] for q in captured if "INSERT" in q["sql"]
        ]
        inserts = [t for t in inserts if t != '"org_companysettings"']
        assert len(inserts) == len(set(inserts)) and '"sales_opportunity"' in inserts
        return len([q for q in captured if q["sql"].startswith("SELECT")])

    queries(10, "a")  # creates the accounts; the next files find them
    # The look-ups, and for each table inserted the two that read back the new keys.
    assert queries(10, "b") == queries(300, "c") <= 12
    assert Opportunity.objects.count() == 320
    assert Change.objects.filter(action="create").count() == 320 + 7


def test_rows_of_one_batch_see_the_records_the_rows_before_them_create(tmp_path, rep):
    rows = [
        ["华东建工集团", "搅拌站", "1000", "2026-03-05", "1", "rep"],
        ["华东建工集团", "涂料", "2000", "2026-03-05", "1", "rep"],
        ["华东建工集团", "搅拌站", "1500", "2026-03-05", "2", "rep"],
        ["华东建工集团", "涂料", "2000", "2026-03-05", "1", "rep"],
    ]
    report = run("opportunities", deals(tmp_path, rows), rep)

    assert (report.created, report.updated, report.skipped) == (2, 1, 1)
    assert report.accounts_created == 1
    deal = Opportunity.objects.get(name="搅拌站")
    assert (deal.amount, deal.stage, deal.version) == (Decimal("1500"), 2, 3)
    assert Account.objects.count() == 1


def test_created_records_have_the_history_create_record_writes(tmp_path, rep, teammate):
    run("opportunities", deals(tmp_path), rep)
    imported = {
        (c.object_repr, c.action, c.version): c.changes
        for c in Change.objects.exclude(object_repr="")
    }
    Change.objects.all()._raw_delete(Change.objects.db)
    account = Account.objects.get(name="华东建工集团")
    deal = Opportunity.objects.get(name="搅拌站扩建供货")

    # The same records written one by one through the action.
    Opportunity.all_objects.all().delete()
    Account.all_objects.all().delete()
    again = actions.create_record(
        Account, acting_user=rep, source="import", name=account.name, owner=rep, team=account.team
    )
    fields = {
        f: getattr(deal, f)
        for f in ("name", "amount", "currency", "expected_close", "stage", "outcome")
    }
    fields["stage_entered_on"] = deal.stage_entered_on
    one = actions.create_record(
        Opportunity,
        acting_user=rep,
        source="import",
        fields={**fields, "account": again, "owner": rep.pk},
    )

    for obj, old_pk in ((again, account.pk), (one, deal.pk)):
        written = Change.objects.get(
            object_id=str(obj.pk), content_type__model=obj._meta.model_name
        )
        expected = imported[(str(obj), "create", 1)]
        assert {k: v for k, v in written.changes.items() if k not in ("id", "account")} == {
            k: v for k, v in expected.items() if k not in ("id", "account")
        }
        assert expected["id"] == [None, old_pk]


def test_the_figures_of_the_accounts_the_rows_touch_are_recomputed_once(
    tmp_path, rep, teammate, monkeypatch
):
    from kam.imports import run as importer

    calls = []
    monkeypatch.setattr(importer, "_recompute_figures", lambda ids: calls.append(set(ids)))
    run("opportunities", deals(tmp_path), rep)

    accounts = set(Account.objects.values_list("pk", flat=True))
    assert calls == [accounts]
    run("opportunities", deals(tmp_path), rep, dry_run=True)
    assert len(calls) == 1  # a dry run writes nothing, so changes no figure
