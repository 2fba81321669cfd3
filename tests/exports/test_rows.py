"""``export_rows``: what a user may see, narrowed by the list filters, as rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.exports.rows import KINDS, ExportRefused, export_rows
from kam.history.record import Source
from kam.imports.mapping import KINDS as IMPORT_KINDS
from kam.imports.mapping import map_columns
from kam.sales import actions
from kam.sales.models import Activity, Lead, OffFunnelOrder, Opportunity
from tests.sales import factories as f

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 3, 5)


def _records_of(user, n=1):
    """One record of every kind owned by ``user``, ``n`` times over."""
    for i in range(n):
        account = f.account(user, name=f"中建三局{i}", industry="建筑", region="湖北", grade="A")
        person = f.contact(user, account, name=f"张工{i}", title="总工")
        deal = f.opportunity(user, account, name=f"搅拌站{i}")
        actions.log_activity(
            account=account,
            kind="visit",
            on=ON,
            contacts=[person],
            opportunity=deal,
            notes="看现场",
            acting_user=user,
            source=Source.PAGE,
        )
        actions.add_off_funnel_order(
            account, amount=Decimal("5000"), on=ON, acting_user=user, source=Source.PAGE
        )
        f.lead(user, name=f"线索{i}")


def _rows(kind, user, filters=None):
    return list(export_rows(kind, user, filters))


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_exports_the_users_records_under_its_columns(kind, rep):
    _records_of(rep)

    rows = _rows(kind, rep)

    assert len(rows) == 1
    assert list(rows[0]) == list(KINDS[kind].columns)
    assert rows[0]["owner"] == "rep"
    assert rows[0]["team"] == "north"


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_outsider_exports_nothing_of_the_reps(kind, rep, outsider):
    _records_of(rep)

    assert _rows(kind, outsider) == []


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_empty_export_still_has_its_columns(kind, rep):
    export = export_rows(kind, rep)

    assert list(export) == []
    assert export.columns == list(KINDS[kind].columns)


@pytest.mark.parametrize("kind", list(IMPORT_KINDS))
def test_every_column_the_importer_knows_is_read_back_as_the_same_field(kind):
    columns = list(KINDS[kind].columns)

    mapped = map_columns(IMPORT_KINDS[kind], columns, {})

    assert {name: cols for name, cols in mapped.fields.items()} == {
        c: [c] for c in columns if c not in mapped.unknown
    }
    # What the importer cannot set is reported, never read as another field.
    assert set(mapped.unknown) <= {"traits", "proposal_emphasis", "insider"}


def test_values_keep_their_types(rep):
    _records_of(rep)

    deal = _rows("opportunities", rep)[0]
    activity = _rows("activities", rep)[0]

    assert deal["amount"] == Decimal("800000.00")
    assert deal["stage"] == 1
    assert deal["outcome"] == "open"
    assert activity["on"] == ON
    assert activity["contacts"] == "张工0"
    assert activity["opportunity"] == "搅拌站0"


def test_the_insider_is_named_to_the_owner_only_not_to_a_teammate(rep, teammate, manager):
    account = f.account(rep)
    person = f.contact(rep, account, name="内线老李")
    deal = f.opportunity(rep, account)
    actions.set_buying_center_entry(deal, person, insider=True, acting_user=rep, source=Source.PAGE)

    assert _rows("opportunities", rep)[0]["insider"] == "内线老李"
    assert _rows("opportunities", manager)[0]["insider"] == "内线老李"
    assert _rows("opportunities", teammate)[0]["insider"] == ""


def test_records_in_the_recycle_bin_are_left_out(rep):
    _records_of(rep)
    account = f.account(rep, name="已删除客户")
    f.opportunity(rep, account, name="已删除商机")
    actions.delete_record(account, acting_user=rep, source=Source.PAGE)

    assert [r["name"] for r in _rows("accounts", rep)] == ["中建三局0"]
    assert [r["name"] for r in _rows("opportunities", rep)] == ["搅拌站0"]


def test_filters_narrow_the_rows_as_the_list_pages_do(rep, teammate):
    _records_of(rep, n=2)
    other = f.account(teammate, name="宝钢", industry="钢铁")
    f.opportunity(teammate, other, name="涂料框架", grade="B")

    assert [r["name"] for r in _rows("accounts", rep, {"owner": "teammate"})] == ["宝钢"]
    assert [r["name"] for r in _rows("accounts", rep, {"industry": "钢铁"})] == ["宝钢"]
    assert [r["name"] for r in _rows("opportunities", rep, {"grade": "b"})] == ["涂料框架"]
    assert [r["name"] for r in _rows("opportunities", rep, {"q": "搅拌站1"})] == ["搅拌站1"]
    assert len(_rows("opportunities", rep, {"stage": "1", "outcome": "open"})) == 3
    assert _rows("opportunities", rep, {"stage": "2"}) == []
    assert len(_rows("contacts", rep, {"region": "湖北"})) == 2
    # Empty values, as a form sends them, filter nothing.
    assert len(_rows("accounts", rep, {"owner": "", "q": ""})) == 3


@pytest.mark.parametrize(
    ("kind", "filters", "field"),
    [
        ("accounts", {"stage": "3"}, "stage"),
        ("opportunities", {"stage": "7"}, "stage"),
        ("opportunities", {"outcome": "maybe"}, "outcome"),
        ("accounts", {"owner": "outsider"}, "owner"),
        ("accounts", {"team": "south"}, "team"),
        ("leads", {"region": "湖北"}, "region"),
        ("invoices", {}, "kind"),
    ],
)
def test_a_filter_that_cannot_apply_is_refused_naming_it(kind, filters, field, rep, outsider):
    with pytest.raises(ExportRefused) as refused:
        export_rows(kind, rep, filters)

    assert field in refused.value.message_dict


@pytest.mark.parametrize("kind", ["opportunities", "activities", "contacts", "leads"])
def test_an_export_costs_the_same_queries_for_2_or_20_records(kind, rep):
    _records_of(rep, n=2)
    with CaptureQueriesContext(connection) as few:
        assert len(_rows(kind, rep)) == 2
    _records_of(rep, n=18)
    with CaptureQueriesContext(connection) as many:
        assert len(_rows(kind, rep)) == 20

    assert len(many) == len(few)


def test_progress_is_told_after_each_row(rep):
    _records_of(rep, n=3)
    seen = []

    list(export_rows("accounts", rep, progress=seen.append))

    assert seen == [1, 2, 3]


def test_the_kinds_models_are_the_ones_exported(rep):
    # Guard: a kind added to KINDS without a queryset would fail here, not in production.
    _records_of(rep)
    models = {
        "opportunities": Opportunity,
        "activities": Activity,
        "off-funnel-orders": OffFunnelOrder,
        "leads": Lead,
    }
    for kind, model in models.items():
        assert len(_rows(kind, rep)) == model.objects.count()
