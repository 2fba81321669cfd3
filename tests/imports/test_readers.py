import codecs
import io
import tracemalloc

import pytest
from openpyxl import Workbook

from kam.imports.readers import UnreadableFile, detect_encoding, open_table

HEADER = ["客户名称", "金额", "备注"]
ROWS = [["华东建工集团", "12.5万", "首次拜访"], ["Edge Communications, Inc.", "1,200", "含逗号"]]


def _csv(rows, *, delimiter=",", encoding="utf-8", bom=b"") -> bytes:
    buffer = io.StringIO()
    import csv

    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return bom + buffer.getvalue().encode(encoding)


def _read(data, **options):
    with open_table(io.BytesIO(data), **options) as table:
        return table, list(table)


@pytest.mark.parametrize(
    ("encoding", "bom", "detected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("gb18030", b"", "gb18030"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
    ],
)
def test_every_encoding_excel_writes_is_read_without_being_told(encoding, bom, detected):
    table, rows = _read(_csv([HEADER, *ROWS], encoding=encoding, bom=bom))
    assert table.encoding == detected
    assert table.columns == HEADER
    assert rows[0] == (2, dict(zip(HEADER, ROWS[0], strict=True)))
    assert rows[1][1]["客户名称"] == "Edge Communications, Inc."


def test_an_encoding_given_is_used():
    _table, rows = _read(_csv([HEADER, *ROWS], encoding="gb18030"), encoding="gb18030")
    assert rows[0][1]["客户名称"] == "华东建工集团"


def test_a_bom_is_dropped_even_when_utf_8_is_given():
    table, _rows = _read(_csv([HEADER], bom=codecs.BOM_UTF8), encoding="utf-8")
    assert table.columns[0] == "客户名称"


def test_an_unknown_encoding_is_refused():
    with pytest.raises(UnreadableFile, match="gb18030"):
        _read(_csv([HEADER]), encoding="klingon")


def test_a_file_that_turns_out_not_to_be_utf_8_past_the_sniffed_part_says_which_line():
    ascii_rows = [["name", "note"]] + [["a" * 50, "b" * 50]] * 12_000
    data = _csv([*ascii_rows, ["华东", "建工"]], encoding="utf-8")[:-20]
    data += "华东,建工\r\n".encode("gb18030")
    with pytest.raises(UnreadableFile, match="--encoding"):
        _read(data)


def test_gb18030_is_detected_from_the_first_chunk():
    assert detect_encoding("客户".encode("gb18030")) == "gb18030"
    # A character cut by the end of the chunk is still UTF-8.
    assert detect_encoding("客户".encode()[:-1]) == "utf-8"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab_are_sniffed(delimiter):
    table, rows = _read(_csv([HEADER, *ROWS], delimiter=delimiter))
    assert table.delimiter == delimiter
    assert rows[1][1]["金额"] == "1,200"


def test_a_delimiter_given_is_used():
    _table, rows = _read(b"a;b\n1;2\n", delimiter=";")
    assert rows == [(2, {"a": "1", "b": "2"})]
    _table, rows = _read(b"a\tb\n1\t2\n", delimiter="tab")
    assert rows == [(2, {"a": "1", "b": "2"})]


def test_a_one_column_file_reads():
    _table, rows = _read(b"name\nAcme\n")
    assert rows == [(2, {"name": "Acme"})]


def test_line_numbers_are_the_spreadsheet_rows_blank_rows_counted_and_skipped():
    data = b'name,note\nA,"two\nlines"\n\n,\nB,x\n'
    _table, rows = _read(data)
    assert [(line, row["name"]) for line, row in rows] == [(2, "A"), (5, "B")]
    assert rows[0][1]["note"] == "two\nlines"


def test_leading_blank_rows_come_before_the_header():
    table, rows = _read(b"\n,,\nname\nA\n")
    assert table.header_line == 3
    assert rows == [(4, {"name": "A"})]


def test_short_rows_are_filled_and_extra_cells_are_kept_apart():
    _table, rows = _read(b"a,b,c\n1\n1,2,3,4,\n1,2,3,,\n")
    assert rows[0][1] == {"a": "1", "b": "", "c": ""}
    assert rows[1][1][None] == ["4"]
    assert None not in rows[2][1]


def test_unnamed_and_repeated_columns_keep_their_values():
    table, rows = _read(b"name,,name,\nA,x,B,\n")
    assert table.columns == ["name", "column (2)", "name (3)"]
    assert rows[0][1] == {"name": "A", "column (2)": "x", "name (3)": "B"}


def test_an_empty_file_is_refused():
    with pytest.raises(UnreadableFile, match="empty"):
        _read(b"\n\n")


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(UnreadableFile, match=r"nope\.csv"), open_table(tmp_path / "nope.csv"):
        pass


def test_the_callers_file_stays_open_after_reading():
    data = io.BytesIO(_csv([HEADER, *ROWS]))
    with open_table(data) as table:
        list(table)
    assert not data.closed


def test_xlsx_is_read_with_spreadsheet_line_numbers_and_cells_as_text(tmp_path):
    import datetime as dt

    book = Workbook()
    sheet = book.active
    sheet.append(["客户名称", "金额", "预计成交日期", "赢单", "数量"])
    sheet.append(["华东建工集团", 125000, dt.datetime(2026, 3, 5), True, 2.5])
    sheet.append([])
    sheet.append(["Edge", 1200.0, dt.date(2026, 4, 1), False, None])
    path = tmp_path / "deals.xlsx"
    book.save(path)
    with open_table(path) as table:
        rows = list(table)
    assert table.format == "xlsx"
    assert rows[0] == (
        2,
        {
            "客户名称": "华东建工集团",
            "金额": "125000",
            "预计成交日期": "2026-03-05",
            "赢单": "TRUE",
            "数量": "2.5",
        },
    )
    assert rows[1][0] == 4
    assert rows[1][1]["金额"] == "1200"
    assert rows[1][1]["数量"] == ""


def test_an_xlsx_sheet_is_chosen_by_name(tmp_path):
    book = Workbook()
    book.active.append(["ignored"])
    other = book.create_sheet("商机")
    other.append(["name"])
    other.append(["A"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    with open_table(path, sheet="商机") as table:
        assert list(table) == [(2, {"name": "A"})]
    with pytest.raises(UnreadableFile, match="商机"), open_table(path, sheet="nope"):
        pass


def test_an_old_xls_file_is_refused_saying_what_to_do():
    with pytest.raises(UnreadableFile, match="xlsx"):
        _read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)


def test_a_broken_xlsx_is_refused():
    with pytest.raises(UnreadableFile, match="XLSX"):
        _read(b"PK\x03\x04 not really a zip")


def _long_csv(rows: int):
    """A file-like object producing ``rows`` rows without holding them."""

    class Stream(io.RawIOBase):
        def __init__(self):
            self.chunks = self._chunks()
            self.pending = b""

        def _chunks(self):
            yield "客户名称,金额,备注\r\n".encode()
            line = "华东建工集团第{}分公司,125000,".encode()
            for i in range(rows):
                yield line.replace(b"{}", str(i).encode()) + b"x" * 200 + b"\r\n"

        def readable(self):
            return True

        def seekable(self):
            return True

        def seek(self, offset, whence=0):
            self.chunks, self.pending = self._chunks(), b""
            return 0

        def readinto(self, buffer):
            while len(self.pending) < len(buffer):
                try:
                    self.pending += next(self.chunks)
                except StopIteration:
                    break
            n = min(len(buffer), len(self.pending))
            buffer[:n] = self.pending[:n]
            self.pending = self.pending[n:]
            return n

    return io.BufferedReader(Stream())


def _peak_while_reading(rows: int) -> int:
    tracemalloc.start()
    try:
        with open_table(_long_csv(rows)) as table:
            count = sum(1 for _row in table)
        assert count == rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_streams_memory_stays_flat_however_long_the_file():
    # 10,000 rows are 2.5 MB, past the first MiB read to detect the encoding; 60,000
    # rows are 15 MB: the peak must not grow with them.
    small, large = _peak_while_reading(10_000), _peak_while_reading(60_000)
    assert large < small * 1.2 + 64 * 1024
