"""Reading a spreadsheet row by row, whatever wrote it.

``open_table(source)`` opens a CSV or XLSX file and gives its header and its
rows as ``(line, {column: text})``, streaming: one row is in memory at a time
however long the file. ``line`` is the row number the user sees in their
spreadsheet, the header being line 1; blank rows are numbered but not given.

- CSV: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"),
  and GB18030 as Chinese Excel writes it (a superset of GBK and GB2312). Without
  ``encoding``, a BOM decides; else the first MiB is tried as UTF-8 and the
  file is read as GB18030 when they are not UTF-8. The delimiter (comma,
  semicolon or tab) is sniffed from the first lines unless given.
- XLSX: the first sheet (or ``sheet``), read with openpyxl in read-only mode.
  Cells become text the way a user reads them: dates as ISO ``2026-03-05``,
  whole numbers without ``.0``, booleans as ``TRUE``/``FALSE``.

Cells past the header's last column that hold something are given under the
key ``None`` (as ``csv.DictReader`` does): a row longer than its header usually
means a value with an unquoted delimiter, and the importer refuses it.
"""

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _

from kam.exports.files import unneutralise

SNIFF_BYTES = 64 * 1024
# Enough to reach the Chinese text of a file whose first rows are ASCII only.
ENCODING_SNIFF_BYTES = 1024 * 1024
DELIMITERS = ",;\t"
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"

# csv refuses fields over 128 KiB by default; notes pasted from mail can be longer.
csv.field_size_limit(16 * 1024 * 1024)


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message says why, in the user's language."""


@dataclass
class Table:
    """An open table: its columns, how it was read, and its rows (iterate once)."""

    columns: list[str]
    format: str  # "csv" or "xlsx"
    rows: Iterator[tuple[int, dict]] = field(repr=False)
    encoding: str = ""
    delimiter: str = ""
    header_line: int = 1

    def __iter__(self):
        return self.rows


@contextmanager
def open_table(
    source: str | Path | BinaryIO,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    format: str | None = None,
):
    """Open ``source`` (a path or a binary file object that can seek) as a ``Table``.

    ``format`` is ``"csv"`` or ``"xlsx"``; by default the file's first bytes
    decide (an XLSX file is a ZIP archive). Raises ``UnreadableFile``.
    """
    with _binary(source) as raw:
        start = raw.read(len(XLSX_MAGIC))
        raw.seek(0)
        if format is None and start == XLS_MAGIC:
            raise UnreadableFile(
                _("This is an old Excel .xls file: save it as .xlsx or as CSV and import that.")
            )
        if format is None:
            format = "xlsx" if start == XLSX_MAGIC else "csv"
        if format == "xlsx":
            with _open_xlsx(raw, sheet) as table:
                yield table
        elif format == "csv":
            with _open_csv(raw, encoding=encoding, delimiter=delimiter) as table:
                yield table
        else:
            raise UnreadableFile(
                _("Unknown file format %(format)s: use csv or xlsx.") % {"format": format}
            )


@contextmanager
def _binary(source):
    if isinstance(source, (str, Path)):
        try:
            handle = open(source, "rb")  # noqa: SIM115 (closed below, after the caller's loop)
        except OSError as exc:
            raise UnreadableFile(
                _("Cannot open %(file)s: %(error)s") % {"file": source, "error": exc.strerror}
            ) from exc
        with handle:
            yield handle
    else:
        yield source


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    """The encoding of a CSV file from its first bytes: a BOM decides, else UTF-8
    when ``head`` is valid UTF-8 (a character cut at the end is allowed), else GB18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def sniff_delimiter(sample: str) -> str:
    """Comma, semicolon or tab, from the first lines of a CSV file.

    ``csv.Sniffer`` first; when it cannot tell, the one of the three found most
    often in the header line; a file of one column reads with a comma.
    """
    lines = sample.splitlines()
    if len(sample) >= SNIFF_BYTES // 2 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut mid-field
    sample = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


@contextmanager
def _open_csv(raw: BinaryIO, *, encoding: str | None, delimiter: str | None):
    head = raw.read(ENCODING_SNIFF_BYTES)
    raw.seek(0)
    if encoding is None:
        encoding = detect_encoding(head)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise UnreadableFile(
                _("Unknown encoding %(encoding)s: try utf-8 or gb18030.") % {"encoding": encoding}
            ) from exc
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and head.startswith(
            codecs.BOM_UTF8
        ):
            encoding = "utf-8-sig"
    if delimiter is None:
        sample = head[:SNIFF_BYTES].decode(encoding, errors="ignore")
        delimiter = sniff_delimiter(sample)
    elif delimiter in ("tab", "\\t"):
        delimiter = "\t"
    if len(delimiter) != 1:
        raise UnreadableFile(
            _("The delimiter must be one character (comma, semicolon or tab), not %(d)s.")
            % {"d": delimiter}
        )
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    try:
        numbered = _numbered(csv.reader(text, delimiter=delimiter), encoding)
        header_line, header = _header(numbered)
        columns = _columns(header)
        yield Table(
            columns=columns,
            format="csv",
            rows=_rows(numbered, columns),
            encoding=encoding,
            delimiter=delimiter,
            header_line=header_line,
        )
    finally:
        # The caller's file stays open: only the text layer goes.
        text.detach()


def _numbered(reader, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """Records numbered as a spreadsheet shows them: a quoted cell spanning lines is one row."""
    line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                _(
                    "The file is not valid %(encoding)s after line %(line)s: give its "
                    "encoding (for example --encoding gb18030 or --encoding utf-8)."
                )
                % {"line": line, "encoding": encoding}
            ) from exc
        except csv.Error as exc:
            raise UnreadableFile(
                _("Line %(line)s cannot be read as CSV: %(error)s")
                % {"line": line + 1, "error": exc}
            ) from exc
        line += 1
        yield line, cells


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


@contextmanager
def _open_xlsx(raw: BinaryIO, sheet: str | None):
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(raw, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(_("This is not an XLSX workbook: %(error)s") % {"error": exc}) from exc
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise UnreadableFile(
                _("The workbook has no sheet %(sheet)s; its sheets: %(sheets)s.")
                % {"sheet": sheet, "sheets": ", ".join(book.sheetnames)}
            )
        # Files written by other tools often state a wrong size: read what is there.
        ws.reset_dimensions()
        numbered = (
            (line, [cell_text(v) for v in values])
            for line, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1)
        )
        header_line, header = _header(numbered)
        columns = _columns(header)
        yield Table(
            columns=columns, format="xlsx", rows=_rows(numbered, columns), header_line=header_line
        )
    finally:
        book.close()


def cell_text(value) -> str:
    """A spreadsheet cell as the text a user reads in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


# ---------------------------------------------------------------------------
# Shared
# ---------------------------------------------------------------------------


def _blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def _header(numbered) -> tuple[int, list[str]]:
    for line, cells in numbered:
        if not _blank(cells):
            return line, cells
    raise UnreadableFile(_("The file is empty: the first row must name the columns."))


def _columns(header: list[str]) -> list[str]:
    """Column names, trimmed; an unnamed column is called by its position and a
    repeated name gets its position too, so every column keeps its values."""
    header = list(header)
    while header and not header[-1].strip():
        header.pop()  # Excel's trailing delimiters
    columns, seen = [], set()
    for position, name in enumerate(header, start=1):
        name = unneutralise(name.strip().lstrip("\ufeff").strip())
        if not name or name in seen:
            name = f"{name or _('column')} ({position})"
        seen.add(name)
        columns.append(name)
    return columns


def _rows(numbered, columns: list[str]) -> Iterator[tuple[int, dict]]:
    width = len(columns)
    for line, cells in numbered:
        if _blank(cells):
            continue
        row = dict(zip(columns, (unneutralise(c) for c in cells), strict=False))
        if len(cells) < width:
            row.update({c: "" for c in columns[len(cells) :]})
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            row[None] = extra
        yield line, row
