"""``kam export KIND``: the command line around ``export_rows`` and the writers."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from tests.sales import factories as f

pytestmark = pytest.mark.django_db


def _kam_export(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export", *args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.fixture
def book(rep, outsider):
    account = f.account(rep, name="中建三局", industry="建筑")
    f.opportunity(rep, account, name='=HYPERLINK("http://evil")')
    f.opportunity(rep, account, name="搅拌站")
    f.opportunity(outsider, f.account(outsider, name="南方客户"), name="南方商机")


def test_csv_goes_to_stdout_with_kam_field_names_as_header(book):
    rows = list(csv.DictReader(io.StringIO(_kam_export("opportunities", "--user", "rep"))))

    assert sorted(r["name"] for r in rows) == ['\'=HYPERLINK("http://evil")', "搅拌站"]
    assert {r["account"] for r in rows} == {"中建三局"}


def test_an_output_file_gets_a_bom_for_excel(book, tmp_path):
    path = tmp_path / "deals.csv"

    _kam_export("opportunities", "--user", "rep", "--output", str(path))

    assert path.read_bytes().startswith(b"\xef\xbb\xbfaccount,")


def test_xlsx_is_written_to_the_output_file(book, tmp_path):
    path = tmp_path / "deals.xlsx"

    _kam_export("opportunities", "--user", "rep", "--format", "xlsx", "-o", str(path))

    sheet = load_workbook(path)["opportunities"]
    names = sorted(row[2] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names == ['\'=HYPERLINK("http://evil")', "搅拌站"]


def test_filters_reach_the_export(book):
    output = _kam_export("opportunities", "--user", "rep", "--q", "搅拌")

    assert len(list(csv.DictReader(io.StringIO(output)))) == 1


def test_the_outsider_exports_only_their_own(book):
    output = _kam_export("opportunities", "--user", "outsider")

    assert [r["name"] for r in csv.DictReader(io.StringIO(output))] == ["南方商机"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["accounts", "--user", "nobody"], 1),
        (["accounts", "--user", "rep", "--owner", "outsider"], 1),
        (["accounts", "--user", "rep", "--stage", "3"], 1),
        (["accounts", "--user", "rep", "--format", "xlsx"], 2),
    ],
)
def test_refusals_exit_with_the_documented_code(book, args, code):
    with pytest.raises(CommandError) as caught:
        _kam_export(*args)

    assert caught.value.returncode == code
