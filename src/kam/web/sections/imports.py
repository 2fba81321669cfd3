"""Importing a file from a page, with a preview, and exporting any list as CSV or XLSX.

Import: the page takes the kind, the file and the options of ``kam import``
(``--map``, ``--map-value``, ``--default``, ``--date-format``, ``--owner``).
*Preview* keeps the upload under ``DATA_DIR/uploads`` by a random token that
only this session knows, and shows the report of
``kam.imports.run.run_import(..., dry_run=True)``; *Import* runs the same file
with the same options for real, as the signed-in user, deletes the upload and
offers the failed rows as CSV. Every write goes through ``run_import``, so
through ``kam.sales.actions``; what the user may touch is the importer's rule.

Export: ``export/<kind>.<csv|xlsx>`` takes a list page's own query string,
reads it with that page's filter form (so an invalid filter is ignored as the
page ignores it) and hands what ``kam.exports.rows.export_rows`` knows to it.
The list filters it does not know are applied here on the exported rows, which
carry the same values:

- leads: ``source`` and ``decision`` (``unscreened`` = no decision yet);
- accounts: ``relationship_type``, ``relationship_level``, ``lifecycle``, and the
  page's search, every word in the name, industry, region or traits;
- opportunities: the page's search, in the name, account or competitors;
- activities: ``kind``, ``account`` (by the account's name and external id),
  ``start`` and ``end`` (the dates, inclusive).

Contacts and off-funnel orders have no list page: their export takes
``export_rows``' own filters (``owner``, ``team``, ``grade``, ``industry``,
``region``, ``q``) from the query string.
"""

import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kam.exports.files import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, csv_lines, write_xlsx
from kam.exports.rows import FILTERS, ExportRefused, export_rows
from kam.imports.run import ImportOptions, ImportRefused, run_import
from kam.org.scoping import visible
from kam.sales.models import Account

SESSION_KEY = "kam_imports"
# Uploads and failed-rows files left behind (a preview never confirmed) are swept
# after this long, whenever someone uploads.
KEEP_SECONDS = 24 * 3600
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_KINDS = ("leads", "accounts", "contacts", "opportunities", "activities", "off-funnel-orders")

KIND_CHOICES = [
    ("accounts", gettext_lazy("Accounts")),
    ("contacts", gettext_lazy("Contacts")),
    ("opportunities", gettext_lazy("Opportunities")),
    ("activities", gettext_lazy("Activities")),
    ("off-funnel-orders", gettext_lazy("Off-funnel orders")),
]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ImportForm(forms.Form):
    """The file and the options of ``kam import``, one option per line where it repeats."""

    kind = forms.ChoiceField(label=gettext_lazy("The rows are"), choices=KIND_CHOICES)
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (UTF-8 or GB18030; comma, semicolon or tab) or XLSX, with a header row."
        ),
    )
    map = forms.CharField(
        label=gettext_lazy("Column mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Account Name=account"}),
        help_text=gettext_lazy(
            "One COLUMN=FIELD a line, to read a column as a field; COLUMN= ignores it."
        ),
    )
    map_value = forms.CharField(
        label=gettext_lazy("Value mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "stage:Verbal=5"}),
        help_text=gettext_lazy("One FIELD:VALUE=VALUE a line, to read a value as another."),
    )
    default = forms.CharField(
        label=gettext_lazy("Defaults"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "currency=CNY"}),
        help_text=gettext_lazy("One FIELD=VALUE a line, for rows that leave the field empty."),
    )
    date_format = forms.CharField(
        label=gettext_lazy("Date format"),
        required=False,
        help_text=gettext_lazy(
            "us (month first), dmy (day first), ymd, or a pattern such as %d.%m.%Y, "
            "for dates such as 03/05/26 that read both ways."
        ),
    )
    owner = forms.CharField(
        label=gettext_lazy("Default owner"),
        required=False,
        help_text=gettext_lazy(
            "Username for rows whose owner is empty or unknown (else those rows fail)."
        ),
    )

    def option_strings(self) -> dict:
        """The options as the session keeps them and ``ImportOptions.from_strings`` reads them."""
        data = self.cleaned_data
        return {
            "map": _lines(data["map"]),
            "map_value": _lines(data["map_value"]),
            "default": _lines(data["default"]),
            "date_format": data["date_format"].strip() or None,
            "owner": data["owner"].strip() or None,
        }


# ---------------------------------------------------------------------------
# Uploads: files under DATA_DIR/uploads, named by a token only the session holds
# ---------------------------------------------------------------------------


def _uploads() -> Path:
    folder = Path(settings.DATA_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        try:
            if old.is_file() and old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another request swept it first


def _keep_upload(request, upload, kind: str, options: dict) -> str:
    folder = _uploads()
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    with open(folder / token, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {"kind": kind, "name": upload.name, "options": options}
    request.session[SESSION_KEY] = pending
    return token


def _pending(request, token: str) -> dict:
    """The upload of this session named by ``token``; 404 for any other token."""
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if entry is None:
        raise Http404
    return entry


def _forget(request, token: str) -> None:
    pending = request.session.get(SESSION_KEY, {})
    pending.pop(token, None)
    request.session[SESSION_KEY] = pending


def _options(entry: dict) -> ImportOptions:
    strings = dict(entry["options"])
    return ImportOptions.from_strings(
        map=strings.pop("map"),
        map_value=strings.pop("map_value"),
        default=strings.pop("default"),
        **strings,
    )


def _failed_path(token: str) -> Path:
    return _uploads() / f"{token}.failed.csv"


# ---------------------------------------------------------------------------
# Import pages
# ---------------------------------------------------------------------------


def _refused(form: ImportForm, exc: ImportRefused) -> None:
    """Show a refusal on the option at fault (``ImportRefused`` is keyed by the CLI's
    option names, which are the form's), else at the top of the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@login_required
def index(request):
    """The form; posted, the preview: the dry run's report and a button to import."""
    form = ImportForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        options = form.option_strings()
        token = _keep_upload(request, form.cleaned_data["file"], kind, options)
        entry = _pending(request, token)
        try:
            report = run_import(
                kind,
                _uploads() / token,
                acting_user=request.user,
                options=_options(entry),
                dry_run=True,
            )
        except ImportRefused as exc:
            (_uploads() / token).unlink(missing_ok=True)
            _forget(request, token)
            _refused(form, exc)
        else:
            context |= {"report": report, "token": token, "entry": entry}
    return render(request, "kam/imports/index.html", context)


@login_required
@require_POST
def run(request, token):
    """Import the previewed file for real and show the report."""
    entry = _pending(request, token)
    upload = _uploads() / token
    if entry.get("failed"):
        raise Http404  # imported already; only its failed rows are left
    if not upload.exists():
        _forget(request, token)
        raise Http404
    failed = _failed_path(token)
    try:
        with open(failed, "w", encoding="utf-8-sig", newline="") as out:
            report = run_import(
                entry["kind"],
                upload,
                acting_user=request.user,
                options=_options(entry),
                failed_rows=out,
            )
    except ImportRefused as exc:
        failed.unlink(missing_ok=True)
        form = ImportForm(initial={"kind": entry["kind"]})
        _refused(form, exc)
        report = None
        context = {"form": form}
    else:
        context = {"report": report, "entry": entry, "done": True}
    finally:
        upload.unlink(missing_ok=True)
    if report is not None and report.failed:
        pending = request.session.get(SESSION_KEY, {})
        pending[token] = {**entry, "failed": True}
        request.session[SESSION_KEY] = pending
        context["failed_url"] = reverse("imports:failed", args=[token])
    else:
        failed.unlink(missing_ok=True)
        _forget(request, token)
    return render(request, "kam/imports/index.html", context)


@login_required
@require_GET
def failed_rows(request, token):
    """The failed rows of this session's import, as CSV with an ``error`` column."""
    entry = _pending(request, token)
    failed = _failed_path(token)
    if not entry.get("failed") or not failed.exists():
        raise Http404
    stem = Path(entry["name"]).stem or entry["kind"]
    return FileResponse(
        open(failed, "rb"),
        as_attachment=True,
        filename=f"{stem}-failed.csv",
        content_type=CSV_CONTENT_TYPE,
    )


# ---------------------------------------------------------------------------
# Export: one view for every list page
# ---------------------------------------------------------------------------

Check = Callable[[dict], bool]


class _Narrowed:
    """Export rows with the checks ``export_rows`` has no filter for; keeps ``columns``."""

    def __init__(self, rows, checks: list[Check]):
        self.columns = rows.columns
        self._rows = rows
        self._checks = checks

    def __iter__(self) -> Iterator[dict]:
        for row in self._rows:
            if all(check(row) for check in self._checks):
                yield row


def _equals(column: str, value) -> Check:
    return lambda row: row.get(column) == value


def _words_in(columns: tuple[str, ...], words: list[str]) -> Check:
    lowered = [w.lower() for w in words]

    def check(row: dict) -> bool:
        text = [str(row.get(c) or "").lower() for c in columns]
        return all(any(w in t for t in text) for w in lowered)

    return check


def _lead_filters(request) -> tuple[dict, list[Check]]:
    from kam.web.sections.leads import UNSCREENED, LeadFilter

    form = LeadFilter(request.GET)
    checks: list[Check] = []
    if form.is_valid():
        if form.cleaned_data["source"]:
            checks.append(_equals("source", form.cleaned_data["source"]))
        decision = form.cleaned_data["decision"]
        if decision:
            checks.append(_equals("decision", "" if decision == UNSCREENED else decision))
    return {}, checks


def _account_filters(request) -> tuple[dict, list[Check]]:
    from kam.web.sections.accounts import AccountFilter

    accounts = visible(request.user, Account.objects.all())
    form = AccountFilter(request.GET, user=request.user, accounts=accounts)
    if not form.is_valid():
        return {}, []
    data = form.cleaned_data
    given = {n: data[n] for n in ("grade", "industry", "region") if data.get(n)}
    given |= {n: data[n].pk for n in ("owner", "team") if data.get(n)}
    checks = [_equals(n, data[n]) for n in ("relationship_type", "lifecycle") if data.get(n)]
    if data.get("relationship_level") is not None:
        checks.append(_equals("relationship_level", data["relationship_level"]))
    words = (data.get("q") or "").split()
    if words:
        given["q"] = words[0]  # narrows in the database; the check below is the page's rule
        checks.append(_words_in(("name", "industry", "region", "traits"), words))
    return given, checks


def _opportunity_filters(request) -> tuple[dict, list[Check]]:
    from kam.web.sections.opportunities import OpportunityFilter

    form = OpportunityFilter(request.GET, user=request.user)
    if not form.is_valid():
        return {}, []
    data = form.cleaned_data
    given = {n: data[n] for n in ("stage", "outcome", "grade") if data.get(n)}
    given |= {n: data[n].pk for n in ("owner", "team") if data.get(n)}
    checks = []
    words = (data.get("q") or "").strip()
    if words:
        given["q"] = words
        checks.append(_words_in(("name", "account", "competitors"), [words]))
    return given, checks


def _activity_filters(request) -> tuple[dict, list[Check]]:
    from kam.web.sections.activities import ActivityFilter

    form = ActivityFilter(request.GET, user=request.user)
    if not form.is_valid():
        return {}, []
    data = form.cleaned_data
    given = {"owner": data["owner"].pk} if data.get("owner") else {}
    checks: list[Check] = []
    if data.get("kind"):
        checks.append(_equals("kind", data["kind"]))
    account = data.get("account")
    if account is not None:
        checks.append(
            lambda row: (
                (row["account"], row["account_external_id"]) == (account.name, account.external_id)
            )
        )
    if data.get("start"):
        checks.append(lambda row: row["on"] >= data["start"])
    if data.get("end"):
        checks.append(lambda row: row["on"] <= data["end"])
    return given, checks


def _own_filters(request) -> tuple[dict, list[Check]]:
    return {n: request.GET[n] for n in FILTERS if request.GET.get(n)}, []


PAGE_FILTERS = {
    "leads": _lead_filters,
    "accounts": _account_filters,
    "opportunities": _opportunity_filters,
    "activities": _activity_filters,
    "contacts": _own_filters,
    "off-funnel-orders": _own_filters,
}


@login_required
@require_GET
def export(request, kind, fmt):
    """The rows of ``kind`` the user may see, narrowed by the list page's filters,
    as CSV (streamed, with a BOM for Excel) or XLSX; formulas are neutralised."""
    if kind not in EXPORT_KINDS or fmt not in EXPORT_FORMATS:
        raise Http404
    given, checks = PAGE_FILTERS[kind](request)
    try:
        rows = export_rows(kind, request.user, given)
    except ExportRefused as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain")
    if checks:
        rows = _Narrowed(rows, checks)
    filename = f"kam-{kind}-{timezone.localdate().isoformat()}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(rows, bom=True), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    # A write-only workbook to a temporary file: memory stays flat however many rows.
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    write_xlsx(rows, out, sheet=kind)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


app_name = "imports"
urlpatterns = [
    path("", index, name="index"),
    path("export/<slug:kind>.<slug:fmt>", export, name="export"),
    path("<str:token>/run/", run, name="run"),
    path("<str:token>/failed.csv", failed_rows, name="failed"),
]
