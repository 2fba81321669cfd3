"""Writing export rows as CSV or XLSX, safe to open in a spreadsheet.

- ``write_csv(rows, stream, *, bom=False)`` writes to a text stream (open it
  with ``newline=""``); ``csv_lines(rows, *, bom=False)`` yields the same text
  line by line for a ``StreamingHttpResponse``. ``bom=True`` starts with a UTF-8
  byte-order mark, which Excel needs to read Chinese text from a CSV file.
- ``write_xlsx(rows, path_or_stream)`` writes one sheet with openpyxl's
  write-only workbook: memory stays flat however many rows.

``rows`` is any iterable of dicts; its ``columns`` attribute (as
``kam.exports.rows.export_rows`` gives) names the header, else the first row's
keys do.

Formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return would be run by a spreadsheet as a formula (or, for tab and
CR, lets one hide in the next cell), so such a cell is written with a single
quote in front: ``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``. Only text
cells are changed: numbers, dates and booleans stay what they are. So a text
field holding ``-5`` or a phone number ``+86 138...`` comes out as ``'-5`` and
``'+86 138...``; amounts cannot be negative in KAM, and a number is written as a
number, never neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import BinaryIO, TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"


def neutralise(value):
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(text: str) -> str:
    """The inverse of ``neutralise``: a cell read back from our own export loses the quote
    that guarded it, so ``'=SUM(A1)`` is imported as the text ``=SUM(A1)`` it was."""
    if isinstance(text, str) and text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def csv_cell(value) -> str:
    """A value as CSV text: dates in ISO form, booleans TRUE/FALSE, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return neutralise(str(value))


def _header_and_rows(rows: Iterable[dict]) -> tuple[list[str], Iterator[dict]]:
    columns = getattr(rows, "columns", None)
    iterator = iter(rows)
    if columns is not None:
        return list(columns), iterator
    first = next(iterator, None)
    if first is None:
        return [], iter(())

    def chained():
        yield first
        yield from iterator

    return list(first), chained()


class _Line:
    """A file-like object that keeps what csv.writer writes last."""

    def __init__(self):
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


def csv_lines(rows: Iterable[dict], *, bom: bool = False) -> Iterator[str]:
    """The CSV text of ``rows``, header first, one line at a time."""
    columns, body = _header_and_rows(rows)
    line = _Line()
    writer = csv.writer(line)
    writer.writerow([neutralise(c) for c in columns])
    yield (BOM if bom else "") + line.text
    for row in body:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
        yield line.text


def write_csv(rows: Iterable[dict], stream: TextIO, *, bom: bool = False) -> int:
    """Write ``rows`` as CSV to ``stream``; returns the count of rows written."""
    lines = -1  # the header is not a row
    for text in csv_lines(rows, bom=bom):
        stream.write(text)
        lines += 1
    return max(lines, 0)


def xlsx_cell(value):
    """A value as an openpyxl cell value: numbers, dates and booleans as such,
    text neutralised and stripped of the control characters XLSX cannot hold."""
    if value is None or isinstance(value, (bool, int, float, Decimal, dt.date, dt.datetime)):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def write_xlsx(rows: Iterable[dict], target: str | BinaryIO, *, sheet: str = "KAM") -> int:
    """Write ``rows`` as a one-sheet XLSX workbook to a path or a binary stream;
    returns the count of rows written."""
    from openpyxl import Workbook

    columns, body = _header_and_rows(rows)
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append([xlsx_cell(c) for c in columns])
    count = 0
    for row in body:
        ws.append([xlsx_cell(row.get(c)) for c in columns])
        count += 1
    book.save(target)
    return count
