"""The import page (a preview first, then the import for real, and the failed rows to
download) and the CSV and XLSX downloads of every list, with the list's filters."""

import csv
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.history.models import Change
from kam.sales import actions
from kam.sales.models import Account, Activity, Lead, Opportunity
from tests.sales import factories as f

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
HEADER = ["客户名称", "商机名称", "金额", "预计成交日期", "阶段"]
GOOD = ["华东建工集团", "搅拌站", "12万", "2026-03-25", "1"]
BAD = ["华东建工集团", "涂料", "很多", "2026-03-25", "1"]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def _upload(*rows, name="deals.csv"):
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *rows])
    return SimpleUploadedFile(name, text.getvalue().encode("gb18030"), "text/csv")


def _preview(client, *rows, **options):
    data = {"kind": "opportunities", "file": _upload(*rows), **options}
    return client.post(reverse("imports:index"), data, headers=EN)


def _token(response) -> str:
    return re.search(r'action="/import/([^/"]+)/run/"', response.content.decode()).group(1)


def _uploads(data_dir):
    folder = data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def test_the_page_offers_every_kind_and_the_options_of_the_command(client, rep):
    client.force_login(rep)

    page = client.get(reverse("imports:index"), headers=EN).content.decode()

    for kind in ("accounts", "contacts", "opportunities", "activities", "off-funnel-orders"):
        assert f'value="{kind}"' in page
    for name in ("map", "map_value", "default", "date_format", "owner"):
        assert f'name="{name}"' in page


def test_the_preview_writes_nothing_and_shows_every_bad_row(client, rep, data_dir):
    client.force_login(rep)

    response = _preview(client, GOOD, BAD)

    page = response.content.decode()
    assert response.status_code == 200
    assert not Opportunity.objects.exists()
    assert not Account.objects.exists()
    assert not Change.objects.exists()
    assert 'data-count="created">1<' in page
    assert 'data-count="failed">1<' in page
    # The bad row: its line as the spreadsheet shows it, its column, the reason.
    row = re.search(r'<tr><td class="num">3</td><td>金额</td><td>([^<]+)</td></tr>', page)
    assert row is not None
    assert "external id, else account + name" in page
    assert "预计成交日期" in page  # the column mapping
    assert _uploads(data_dir) == [_token(response)]  # kept for the import, by its token


def test_the_import_writes_the_previewed_file_and_the_counts_add_up(client, rep, data_dir):
    client.force_login(rep)
    token = _token(_preview(client, GOOD, BAD, ["华东建工集团", "防腐", "3万", "2026-04-01", "2"]))

    response = client.post(reverse("imports:run", args=[token]), headers=EN)

    page = response.content.decode()
    counts = {
        name: int(re.search(rf'data-count="{name}">(\d+)<', page).group(1))
        for name in ("rows", "created", "updated", "skipped", "failed")
    }
    assert counts == {"rows": 3, "created": 2, "updated": 0, "skipped": 0, "failed": 1}
    assert Opportunity.objects.count() == 2
    assert set(Change.objects.values_list("source", flat=True)) == {Change.Source.IMPORT}
    assert set(Change.objects.values_list("user", flat=True)) == {rep.pk}
    assert token not in _uploads(data_dir)  # the upload is gone; only the failed rows stay


def test_the_failed_rows_download_as_csv_with_an_error_column(client, rep):
    client.force_login(rep)
    token = _token(_preview(client, GOOD, BAD))
    page = client.post(reverse("imports:run", args=[token]), headers=EN).content.decode()
    url = reverse("imports:failed", args=[token])
    assert url in page
    assert client.post(reverse("imports:run", args=[token])).status_code == 404  # done once

    response = client.get(url)

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [*HEADER, "error"]
    assert rows[1][:5] == BAD
    assert "金额" in rows[1][5]
    assert len(rows) == 2


def test_an_import_without_failures_offers_no_download_and_keeps_no_file(client, rep, data_dir):
    client.force_login(rep)
    token = _token(_preview(client, GOOD))

    page = client.post(reverse("imports:run", args=[token]), headers=EN).content.decode()

    assert "failed.csv" not in page
    assert _uploads(data_dir) == []
    assert client.post(reverse("imports:run", args=[token])).status_code == 404  # done once


def test_the_options_reach_the_import(client, rep):
    client.force_login(rep)
    row = ["华东建工集团", "搅拌站", "12万", "03/05/26", "Verbal"]
    options = {"date_format": "dmy", "map_value": "stage:Verbal=5\n", "map": "金额=\n"}
    options["default"] = "amount=1"
    token = _token(_preview(client, row, **options))

    client.post(reverse("imports:run", args=[token]))

    deal = Opportunity.objects.get()
    assert (deal.stage, str(deal.expected_close), deal.amount) == (5, "2026-05-03", 1)


def test_an_unknown_default_owner_is_shown_on_its_field_and_nothing_is_kept(client, rep, data_dir):
    client.force_login(rep)

    response = _preview(client, GOOD, owner="ghost")

    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    assert "report" not in response.context
    assert _uploads(data_dir) == []


def test_a_malformed_mapping_line_is_shown_on_its_field(client, rep):
    client.force_login(rep)

    response = _preview(client, GOOD, map="金额 amount")

    assert "COLUMN=FIELD" in str(response.context["form"].errors["map"])


def test_a_file_no_column_of_which_names_the_deal_is_refused_as_a_whole(client, rep, data_dir):
    client.force_login(rep)
    upload = SimpleUploadedFile("x.csv", "金额\n1\n".encode(), "text/csv")

    response = client.post(
        reverse("imports:index"), {"kind": "opportunities", "file": upload}, headers=EN
    )

    assert "No column gives" in str(response.context["form"].errors)
    assert _uploads(data_dir) == []


def test_another_users_upload_cannot_be_imported_nor_its_failed_rows_read(
    client, rep, outsider, data_dir
):
    client.force_login(rep)
    token = _token(_preview(client, GOOD, BAD))
    client.force_login(outsider)  # a new session

    response = client.post(reverse("imports:run", args=[token]))

    assert response.status_code == 404
    assert not Opportunity.objects.exists()
    assert token in _uploads(data_dir)
    assert client.get(reverse("imports:failed", args=[token])).status_code == 404


def test_an_outsider_imports_within_their_own_scope(client, rep, outsider):
    account = f.account(rep)
    f.opportunity(rep, account, name="搅拌站")
    client.force_login(outsider)
    token = _token(_preview(client, [account.name, "搅拌站", "12万", "2026-03-25", "1"]))

    client.post(reverse("imports:run", args=[token]))

    # The rep's deal is not the outsider's to update: theirs is a new one, at a new account.
    assert Opportunity.objects.filter(owner=outsider).count() == 1
    assert Opportunity.objects.get(owner=rep).amount == 800000


def test_the_anonymous_are_sent_to_sign_in(client):
    for url in (
        reverse("imports:index"),
        reverse("imports:failed", args=["x"]),
        reverse("imports:export", args=["opportunities", "csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
    assert client.post(reverse("imports:run", args=["x"])).status_code == 302


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # for Excel
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _export(client, kind, fmt="csv", query=""):
    return client.get(reverse("imports:export", args=[kind, fmt]) + query)


def test_every_list_page_links_to_its_downloads_with_its_filters(client, rep):
    client.force_login(rep)
    pages = {
        "leads": reverse("leads:list") + "?source=trade_show",
        "accounts": reverse("accounts:list") + "?q=steel&grade=A",
        "opportunities": reverse("opportunities:list") + "?stage=2",
        "activities": reverse("activities:list") + "?kind=visit",
    }

    for kind, url in pages.items():
        page = client.get(url).content.decode()
        query = url.split("?")[1].replace("&", "&amp;")
        for fmt in ("csv", "xlsx"):
            link = reverse("imports:export", args=[kind, fmt])
            assert f'href="{link}?{query}"' in page, (kind, fmt)


def test_the_filter_links_follow_htmx_updates_of_the_list(client, rep):
    client.force_login(rep)

    fragment = client.get(
        reverse("opportunities:list") + "?outcome=won", headers={"HX-Request": "true"}
    ).content.decode()

    assert reverse("imports:export", args=["opportunities", "csv"]) + "?outcome=won" in fragment


def test_the_opportunity_download_honours_the_list_filters(client, rep):
    account = f.account(rep)
    f.opportunity(rep, account, name="搅拌站扩建")
    won = f.opportunity(rep, account, name="防腐涂料")
    actions.advance_stage(
        won, to_stage=6, force_reason="test", on=f.TODAY, acting_user=rep, source="page"
    )
    client.force_login(rep)

    rows = _csv(_export(client, "opportunities", query="?stage=6&q=防腐"))

    assert [r["name"] for r in rows] == ["防腐涂料"]


def test_the_opportunity_search_is_the_pages_own(client, rep):
    account = f.account(rep)
    f.opportunity(rep, account, name="搅拌站", external_id="SF-涂料")
    f.opportunity(rep, account, name="涂料")
    client.force_login(rep)

    rows = _csv(_export(client, "opportunities", query="?q=涂料"))

    # The page searches names, accounts and competitors, not external ids.
    assert [r["name"] for r in rows] == ["涂料"]


def test_the_lead_download_honours_source_and_decision(client, rep):
    f.lead(rep, name="展会线索", source="trade_show")
    f.lead(rep, name="转介绍", source="referral")
    client.force_login(rep)

    rows = _csv(_export(client, "leads", query="?source=trade_show&decision=unscreened"))
    none = _csv(_export(client, "leads", query="?source=trade_show&decision=pursue"))

    assert [r["name"] for r in rows] == ["展会线索"]
    assert none == []
    assert Lead.objects.count() == 2


def test_the_account_download_honours_every_word_of_the_search_and_the_lifecycle(client, rep):
    f.account(rep, name="华东建工集团", region="上海")
    f.account(rep, name="华东化工", region="南京")
    client.force_login(rep)

    rows = _csv(_export(client, "accounts", query="?q=华东+上海"))

    assert [r["name"] for r in rows] == ["华东建工集团"]


def test_the_activity_download_honours_kind_account_and_dates(client, rep):
    mine = f.account(rep, name="华东建工集团")
    other = f.account(rep, name="华东化工")
    for account, kind, day in ((mine, "visit", 5), (mine, "call", 6), (other, "visit", 7)):
        actions.log_activity(
            account=account,
            kind=kind,
            on=f.TODAY.replace(day=day),
            notes=f"{kind}-{day}",
            acting_user=rep,
            source="page",
        )
    client.force_login(rep)
    start = f.TODAY.replace(day=1).isoformat()

    rows = _csv(_export(client, "activities", query=f"?kind=visit&account={mine.pk}&start={start}"))
    late = _csv(_export(client, "activities", query=f"?start={f.TODAY.replace(day=7)}"))

    assert [r["notes"] for r in rows] == ["visit-5"]
    assert [r["notes"] for r in late] == ["visit-7"]
    assert Activity.objects.count() == 3


def test_an_outsider_downloads_only_their_own_records(client, rep, outsider):
    f.opportunity(rep, f.account(rep), name="王的商机")
    f.opportunity(outsider, f.account(outsider, name="南方客户"), name="刘的商机")
    client.force_login(outsider)

    rows = _csv(_export(client, "opportunities"))
    # Filtering by the rep is not a way around scope: the page ignores an owner it
    # does not offer, and so does the download.
    by_rep = _csv(_export(client, "opportunities", query=f"?owner={rep.pk}"))

    assert [r["name"] for r in rows] == ["刘的商机"]
    assert [r["name"] for r in by_rep] == ["刘的商机"]


def test_cells_a_spreadsheet_would_run_are_neutralised_in_csv_and_xlsx(client, rep):
    f.opportunity(rep, f.account(rep, name='=HYPERLINK("http://x")'), name="@SUM(A1)")
    client.force_login(rep)

    row = _csv(_export(client, "opportunities"))[0]
    response = _export(client, "opportunities", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, values = list(sheet.iter_rows(values_only=True))

    assert (row["account"], row["name"]) == ('\'=HYPERLINK("http://x")', "'@SUM(A1)")
    cells = dict(zip(header, values, strict=True))
    assert (cells["account"], cells["name"]) == ('\'=HYPERLINK("http://x")', "'@SUM(A1)")
    assert cells["amount"] == 800000  # numbers stay numbers
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_an_unknown_kind_or_format_is_not_found(client, rep):
    client.force_login(rep)

    assert _export(client, "targets").status_code == 404
    assert _export(client, "opportunities", "pdf").status_code == 404


def test_a_download_costs_the_same_queries_for_2_or_20_deals(client, rep):
    account = f.account(rep)
    client.force_login(rep)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            _csv(_export(client, "opportunities", query="?q=单"))
        return len(captured)

    for n in range(2):
        f.opportunity(rep, account, name=f"单{n}")
    few = queries()
    for n in range(2, 20):
        f.opportunity(rep, account, name=f"单{n}")

    assert queries() == few


def test_the_import_page_reads_back_a_download(client, rep):
    f.opportunity(rep, f.account(rep), name="=搅拌站")
    client.force_login(rep)
    response = _export(client, "opportunities", "xlsx")
    upload = SimpleUploadedFile("deals.xlsx", b"".join(response.streaming_content))

    preview = client.post(
        reverse("imports:index"), {"kind": "opportunities", "file": upload}, headers=EN
    )

    assert 'data-count="skipped">1<' in preview.content.decode()
