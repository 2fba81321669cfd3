"""Writing rows as CSV and XLSX, with formulas neutralised."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from kam.exports.files import csv_lines, write_csv, write_xlsx

TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]
PAYLOAD = "cmd|' /C calc'!A0"


def _csv(rows, **kwargs):
    out = io.StringIO(newline="")
    write_csv(rows, out, **kwargs)
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


def _xlsx(rows):
    out = io.BytesIO()
    write_xlsx(rows, out)
    out.seek(0)
    return [list(r) for r in load_workbook(out).active.iter_rows(values_only=True)]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_csv_cell_starting_as_a_formula_gets_a_single_quote(trigger):
    rows = _csv([{"notes": trigger + PAYLOAD}])

    assert rows == [["notes"], ["'" + trigger + PAYLOAD]]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_an_xlsx_cell_starting_as_a_formula_is_text_with_a_single_quote(trigger):
    rows = _xlsx([{"notes": trigger + PAYLOAD}])

    # XML reads a carriage return back as a line feed; the quote is what matters.
    assert rows == [["notes"], [("'" + trigger + PAYLOAD).replace("\r", "\n")]]


def test_an_xlsx_workbook_holds_no_formula_at_all():
    out = io.BytesIO()
    write_xlsx([{"a": "=1+2", "b": "@SUM(A1)"}], out)
    out.seek(0)

    cells = [c for row in load_workbook(out).active.iter_rows() for c in row]

    assert all(c.data_type != "f" for c in cells)


def test_numbers_stay_numbers_and_text_that_looks_negative_is_neutralised():
    row = {"amount": Decimal("-5"), "count": -3, "text": "-5", "phone": "+86 138 0000 0000"}

    assert _csv([row])[1] == ["-5", "-3", "'-5", "'+86 138 0000 0000"]
    assert _xlsx([row])[1] == [-5, -3, "'-5", "'+86 138 0000 0000"]


def test_a_formula_in_a_header_is_neutralised_too():
    assert _csv([{"=x": 1}])[0] == ["'=x"]


def test_text_in_the_middle_of_a_cell_is_left_alone():
    assert _csv([{"notes": "a=b, c-d"}])[1] == ["a=b, c-d"]


def test_dates_booleans_and_empty_values_are_written_as_the_importer_reads_them():
    row = {"on": dt.date(2026, 3, 5), "yes": True, "no": False, "none": None}

    assert _csv([row])[1] == ["2026-03-05", "TRUE", "FALSE", ""]
    assert _xlsx([row])[1] == [dt.datetime(2026, 3, 5), True, False, None]


def test_the_bom_is_written_only_when_asked():
    assert "".join(csv_lines([{"名称": "宝钢"}], bom=True)).startswith("\ufeff名称")
    assert "".join(csv_lines([{"名称": "宝钢"}])).startswith("名称")


def test_plain_dicts_take_their_header_from_the_first_row_and_nothing_gives_nothing():
    assert _csv([{"a": 1, "b": 2}, {"a": 3, "b": 4}]) == [["a", "b"], ["1", "2"], ["3", "4"]]
    assert _csv([]) == [[]]


def test_characters_xlsx_cannot_hold_are_dropped_not_fatal():
    assert _xlsx([{"notes": "bell\x07 here"}])[1] == ["bell here"]


def test_the_writers_count_the_rows_written():
    rows = [{"a": i} for i in range(3)]

    assert write_csv(rows, io.StringIO()) == 3
    assert write_xlsx(rows, io.BytesIO()) == 3
    assert write_csv([], io.StringIO()) == 0
