"""An export re-imports cleanly: ``kam import`` reads back what ``kam export`` wrote."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from kam.exports.files import write_csv, write_xlsx
from kam.exports.rows import export_rows
from kam.history.record import Source
from kam.imports.run import run_import
from kam.sales import actions
from kam.sales.models import Account, Opportunity

pytestmark = pytest.mark.django_db

NOT_IMPORTED = {"traits", "proposal_emphasis", "insider"}


def _book(rep):
    """Accounts and deals in every state, with the awkward values a file meets."""

    def create(model, **fields):
        return actions.create_record(model, acting_user=rep, source=Source.SYSTEM, fields=fields)

    hubei = create(
        Account,
        name="中建三局, 第二公司",
        external_id="SF-001",
        industry="建筑",
        region="湖北",
        scale="group",
        ownership="central_soe",
        collective_decision=True,
        grade="A",
        lifecycle="cooperation",
        relationship_type="supplier",
        relationship_level=2,
        business='房建 "总承包"\n市政',
    )
    steel = create(Account, name="宝钢", industry="钢铁", region="上海", grade="B")
    create(
        Opportunity,
        account=hubei,
        name="搅拌站扩建",
        external_id="OPP-9",
        amount=Decimal("800000.50"),
        stage=3,
        expected_close=dt.date(2026, 12, 20),
        stage_entered_on=dt.date(2026, 9, 1),
        source="trade_show",
        grade="A",
        competitors="华彩\n海虹",
    )
    create(
        Opportunity,
        account=hubei,
        name="涂料年度框架",
        amount=Decimal("1200000"),
        stage=6,
        outcome="won",
        expected_close=dt.date(2026, 6, 30),
        closed_on=dt.date(2026, 6, 18),
        stage_entered_on=dt.date(2026, 6, 18),
    )
    create(
        Opportunity,
        account=steel,
        name="管道外防腐",
        amount=Decimal("300000"),
        stage=2,
        outcome="lost",
        expected_close=dt.date(2026, 5, 1),
        closed_on=dt.date(2026, 4, 20),
        stage_entered_on=dt.date(2026, 3, 1),
        close_reason="价格高 15%, 对方压价",
    )


def _file(kind, user, fmt):
    if fmt == "csv":
        text = io.StringIO(newline="")
        write_csv(export_rows(kind, user), text, bom=True)
        return io.BytesIO(text.getvalue().encode("utf-8"))
    data = io.BytesIO()
    write_xlsx(export_rows(kind, user), data)
    data.seek(0)
    return data


def _comparable(kind, user):
    return [
        {k: v for k, v in row.items() if k not in NOT_IMPORTED} for row in export_rows(kind, user)
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_importing_an_export_again_changes_nothing(fmt, rep):
    _book(rep)
    accounts, deals = _file("accounts", rep, fmt), _file("opportunities", rep, fmt)

    for kind, data, rows in (("accounts", accounts, 2), ("opportunities", deals, 3)):
        report = run_import(kind, data, acting_user=rep)
        assert (report.rows, report.skipped, report.failed) == (rows, rows, 0), report.summary()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_rebuilds_the_same_records_in_an_empty_database(fmt, rep):
    _book(rep)
    before = {kind: _comparable(kind, rep) for kind in ("accounts", "opportunities")}
    files = {kind: _file(kind, rep, fmt) for kind in before}
    Opportunity.all_objects.all().delete()
    Account.all_objects.all().delete()

    for kind, data in files.items():
        report = run_import(kind, data, acting_user=rep)
        assert (report.created, report.failed) == (report.rows, 0), report.summary()

    after = {kind: _comparable(kind, rep) for kind in before}
    for kind in before:
        for a, b in zip(after[kind], before[kind], strict=True):
            assert {k: v for k, v in a.items() if b[k] != v} == {}, (kind, b)


def test_a_neutralised_cell_reads_back_without_its_quote(rep):
    _book(rep)
    actions.update_record(
        Account.objects.get(name="宝钢"),
        acting_user=rep,
        source=Source.PAGE,
        expected_version=1,
        changes={"latent_needs": "=需要防腐", "business": "-5%"},
    )

    report = run_import("accounts", _file("accounts", rep, "csv"), acting_user=rep)

    assert (report.skipped, report.failed) == (2, 0), report.summary()
