"""An import killed half-way: real transactions, as in production."""

import csv

import pytest

from kam.history.models import Change
from kam.imports.run import ImportOptions, run_import
from kam.sales import actions
from kam.sales.models import Account, Opportunity

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = [["客户名称", "商机名称", "金额"]] + [[f"客户{i}", f"商机{i}", "1000"] for i in range(1, 6)]


def test_a_killed_import_leaves_whole_rows_and_running_it_again_completes_it(
    tmp_path, rep, monkeypatch
):
    path = tmp_path / "deals.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(ROWS)
    create = actions.create_record

    def killed_at_the_third_deal(model, **kwargs):
        # The third row has created its account when the process dies.
        if model is Opportunity and kwargs["fields"]["name"] == "商机3":
            raise KeyboardInterrupt
        return create(model, **kwargs)

    monkeypatch.setattr(actions, "create_record", killed_at_the_third_deal)
    with pytest.raises(KeyboardInterrupt):
        run_import("opportunities", path, acting_user=rep, options=ImportOptions())

    # Two whole rows, nothing of the third: no account without its deal, no stray history.
    assert sorted(Account.objects.values_list("name", flat=True)) == ["客户1", "客户2"]
    assert sorted(Opportunity.objects.values_list("name", flat=True)) == ["商机1", "商机2"]
    assert Change.objects.count() == 4

    monkeypatch.setattr(actions, "create_record", create)
    report = run_import("opportunities", path, acting_user=rep, options=ImportOptions())

    assert (report.rows, report.skipped, report.created, report.failed) == (5, 2, 3, 0)
    assert Opportunity.objects.count() == 5
    assert Account.objects.count() == 5
