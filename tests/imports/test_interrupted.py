"""An import killed half-way: real transactions, as in production.

Rows are written in batches, each batch in one transaction: a killed import
leaves whole batches (so whole rows) and nothing of the batch it was writing;
running it again skips the rows already imported (matched by their natural key)
and completes it, to the state an uninterrupted run gives.
"""

import csv

import pytest

from kam.history.models import Change
from kam.imports import run as importer
from kam.imports.run import ImportOptions, run_import
from kam.sales import actions
from kam.sales.models import Account, Opportunity

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = [["客户名称", "商机名称", "金额"]] + [[f"客户{i}", f"商机{i}", "1000"] for i in range(1, 6)]


def _file(tmp_path, rows=ROWS):
    path = tmp_path / "deals.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def _state():
    return (
        sorted(Account.objects.values_list("name", flat=True)),
        sorted(Opportunity.objects.values_list("name", "amount", "version")),
        sorted(Change.objects.values_list("object_repr", "action", "source")),
    )


def test_a_killed_import_leaves_whole_batches_and_running_it_again_completes_it(
    tmp_path, rep, monkeypatch
):
    path = _file(tmp_path)
    insert = importer._insert

    def killed_at_the_third_deal(model, objects):
        # The second batch (rows 3 and 4) has inserted its accounts when the process dies.
        if model is Opportunity and any(o.name == "商机3" for o in objects):
            raise KeyboardInterrupt
        return insert(model, objects)

    monkeypatch.setattr(importer, "_insert", killed_at_the_third_deal)
    with pytest.raises(KeyboardInterrupt):
        run_import("opportunities", path, acting_user=rep, options=ImportOptions(), batch_size=2)

    # The first batch, whole; nothing of the second: no account without its deal, no history.
    assert sorted(Account.objects.values_list("name", flat=True)) == ["客户1", "客户2"]
    assert sorted(Opportunity.objects.values_list("name", flat=True)) == ["商机1", "商机2"]
    assert Change.objects.count() == 4

    monkeypatch.setattr(importer, "_insert", insert)
    report = run_import("opportunities", path, acting_user=rep, options=ImportOptions())

    assert (report.rows, report.skipped, report.created, report.failed) == (5, 2, 3, 0)
    assert Opportunity.objects.count() == 5
    assert Account.objects.count() == 5
    assert Change.objects.count() == 10


def test_a_batch_killed_after_writing_some_of_its_rows_leaves_none_of_them(
    tmp_path, rep, monkeypatch
):
    # Row 3 changes the deal of row 2: rows 1-2 are inserted before its update runs.
    rows = [*ROWS[:3], ["客户2", "商机2", "2000"], *ROWS[3:]]
    path = _file(tmp_path, rows)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(actions, "update_record", killed)
    with pytest.raises(KeyboardInterrupt):
        run_import("opportunities", path, acting_user=rep, options=ImportOptions())
    assert _state() == ([], [], [])
    monkeypatch.undo()

    report = run_import("opportunities", path, acting_user=rep, options=ImportOptions())
    assert (report.rows, report.created, report.updated, report.failed) == (6, 5, 1, 0)
    resumed = _state()

    # The same final state as one uninterrupted run.
    Change.objects.all()._raw_delete(Change.objects.db)
    Opportunity.all_objects.all().delete()
    Account.all_objects.all().delete()
    run_import("opportunities", path, acting_user=rep, options=ImportOptions(), batch_size=2)
    assert _state() == resumed
