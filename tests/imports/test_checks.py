"""New records are checked by field checks compiled once (``kam.imports.run._field_check``)
instead of each record's ``full_clean()``: they must refuse exactly what ``full_clean``
refuses, and a refused row must be reported with ``full_clean``'s own messages."""

import csv
import datetime as dt
from decimal import Decimal

import pytest
from django.core import validators

from kam.imports import run as importer
from kam.imports.run import ImportOptions, run_import
from kam.sales import actions
from kam.sales.models import Account, Activity, Contact, OffFunnelOrder, Opportunity

pytestmark = pytest.mark.django_db

SAMPLES = [
    None,
    "",
    " ",
    "x",
    "A",
    "E",
    "x" * 3,
    "x" * 4,
    "x" * 100,
    "x" * 101,
    "x" * 200,
    "x" * 201,
    "open",
    "won",
    "visit",
    "referral",
    "nonsense",
    "1",
    0,
    1,
    6,
    7,
    -1,
    2**40,
    True,
    False,
    Decimal("0"),
    Decimal("1000"),
    Decimal("1000.50"),
    Decimal("0.001"),
    Decimal("-1"),
    Decimal("99999999999999.99"),
    Decimal("999999999999999"),
    Decimal("1e20"),
    Decimal("NaN"),
    Decimal("Infinity"),
    1000.5,
    dt.date(2026, 3, 5),
    dt.date(1990, 1, 1),
    dt.date(1989, 12, 31),
    dt.date(2100, 12, 31),
    dt.date(2101, 1, 1),
    dt.datetime(2026, 3, 5, 10, 0),
    "2026-03-05",
    "5 March",
    [],
    {},
]


def _full_clean_verdict(field, value, obj):
    """What ``Model.clean_fields`` does with one field's value: (refused, cleaned)."""
    if field.blank and value in field.empty_values:
        return False, value
    try:
        return False, field.clean(value, obj)
    except Exception:
        return True, None


def _compiled_verdict(check, value, obj):
    try:
        return False, check(value, obj)
    except (importer._Refused, Exception):
        return True, None


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
@pytest.mark.parametrize("model", [Account, Contact, Opportunity, Activity, OffFunnelOrder])
def test_the_compiled_field_checks_refuse_exactly_what_full_clean_refuses(model):
    obj = model()
    checked = 0
    for field in model._meta.concrete_fields:
        if field.is_relation:
            continue  # links come from the batch's look-ups, never checked by full_clean here
        check = importer._field_check(field)
        for value in SAMPLES:
            expected = _full_clean_verdict(field, value, obj)
            got = _compiled_verdict(check, value, obj)
            assert got[0] == expected[0], (field.name, value, expected)
            if not got[0]:
                assert got[1] == expected[1] and type(got[1]) is type(expected[1])
            checked += 1
    assert checked > 100


def test_empty_values_are_those_django_knows():
    assert tuple(validators.EMPTY_VALUES) == importer._EMPTY_VALUES


def _file(tmp_path, rows):
    path = tmp_path / "deals.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["客户名称", "商机名称", "金额", "预计成交日期", "阶段"], *rows])
    return path


def test_rows_the_record_refuses_are_reported_with_full_cleans_messages(tmp_path, rep):
    rows = [
        ["华东建工集团", "x" * 201, "1000", "2026-03-05", "1"],
        ["华东建工集团", "好", "1000000000000000", "2026-03-05", "1"],
        ["华东建工集团", "好", "1000", "1989-12-31", "1"],
        ["华东建工集团", "y" * 201, "1000000000000000", "2101-01-01", "2"],
        ["华东建工集团", "好的", "1000", "2026-03-05", "3"],
    ]
    report = run_import("opportunities", _file(tmp_path, rows), acting_user=rep)
    assert (report.created, report.failed) == (1, 4)

    # The same records through the action, one by one: the same fields, the same words.
    account = Account.objects.get()
    expected = []
    for name, amount, close in [
        ("x" * 201, "1000", dt.date(2026, 3, 5)),
        ("好", "1000000000000000", dt.date(2026, 3, 5)),
        ("好", "1000", dt.date(1989, 12, 31)),
        ("y" * 201, "1000000000000000", dt.date(2101, 1, 1)),
    ]:
        with pytest.raises(actions.ValidationError) as refused:
            actions.create_record(
                Opportunity,
                acting_user=rep,
                source="import",
                fields={
                    "account": account,
                    "name": name,
                    "amount": Decimal(amount),
                    "expected_close": close,
                },
            )
        expected.append(
            sorted(
                (field, " ".join(messages))
                for field, messages in refused.value.message_dict.items()
            )
        )
    got = [
        sorted((p.field, p.message) for p in report.errors if p.line == line)
        for line in (2, 3, 4, 5)
    ]
    assert got == expected
    assert all(got)


def test_a_new_account_and_its_deal_are_checked_together(tmp_path, rep):
    report = run_import(
        "opportunities",
        _file(tmp_path, [["z" * 201, "好", "1000", "2026-03-05", "1"]]),
        acting_user=rep,
        options=ImportOptions(),
    )
    assert report.failed == 1
    assert [p.column for p in report.errors] == ["客户名称"]
    assert "200 characters" in report.errors[0].message
    assert not Account.objects.exists() and not Opportunity.objects.exists()
