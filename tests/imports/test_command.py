"""``kam import KIND FILE``: the command line around ``run_import``."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kam.history.models import Change
from kam.sales.models import Opportunity

pytestmark = pytest.mark.django_db

HEADER = ["客户名称", "商机名称", "金额", "预计成交日期", "阶段"]


def _file(tmp_path, *rows):
    path = tmp_path / "deals.csv"
    with open(path, "w", encoding="gb18030", newline="") as out:
        csv.writer(out).writerows([HEADER, *rows])
    return path


def _kam_import(*args):
    out = io.StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_import_prints_the_report_and_writes_the_rows(tmp_path, rep):
    path = _file(tmp_path, ["华东建工集团", "搅拌站", "12万", "03/25/26", "Negotiation/Review"])

    output = _kam_import("opportunities", str(path), "--user", "rep")

    assert "1 rows: 1 created, 0 updated, 0 unchanged, 0 failed." in output
    deal = Opportunity.objects.get()
    assert (deal.stage, deal.amount) == (5, 120000)
    assert Change.objects.filter(source="import").count() == 2


def test_dry_run_writes_nothing(tmp_path, rep):
    path = _file(tmp_path, ["华东建工集团", "搅拌站", "12万", "2026-03-25", "1"])

    output = _kam_import("opportunities", str(path), "--user", "rep", "--dry-run")

    assert output.startswith("Dry run: nothing was written.")
    assert "1 created" in output
    assert not Opportunity.objects.exists()


def test_options_reach_the_import(tmp_path, rep):
    path = _file(tmp_path, ["华东建工集团", "搅拌站", "12万", "03/05/26", "Verbal"])

    _kam_import(
        "opportunities",
        str(path),
        "--user=rep",
        "--encoding=gb18030",
        "--date-format=dmy",
        "--map-value=stage:Verbal=5",
        "--map=金额=",
        "--default=amount=1",
    )

    deal = Opportunity.objects.get()
    assert (deal.stage, str(deal.expected_close), deal.amount) == (5, "2026-05-03", 1)


def test_failed_rows_exit_with_3_and_go_to_the_failed_rows_file(tmp_path, rep):
    path = _file(
        tmp_path,
        ["华东建工集团", "搅拌站", "12万", "2026-03-25", "1"],
        ["华东建工集团", "涂料", "很多", "2026-03-25", "1"],
    )
    failed = tmp_path / "failed.csv"

    with pytest.raises(CommandError) as caught:
        _kam_import("opportunities", str(path), "--user", "rep", "--failed-rows", str(failed))

    assert caught.value.returncode == 3
    rows = list(csv.reader(failed.open(encoding="utf-8-sig")))
    assert rows[0] == [*HEADER, "error"]
    assert rows[1][1] == "涂料"
    assert Opportunity.objects.count() == 1


def test_a_refused_file_exits_with_1_and_writes_nothing(tmp_path, rep):
    path = tmp_path / "x.csv"
    path.write_text("金额\n1\n", encoding="utf-8")

    with pytest.raises(CommandError, match="No column gives") as caught:
        _kam_import("opportunities", str(path), "--user", "rep")

    assert caught.value.returncode == 1


def test_an_unknown_user_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="ghost") as caught:
        _kam_import("accounts", str(tmp_path / "x.csv"), "--user", "ghost")
    assert caught.value.returncode == 1
