"""Running an import: every valid row written as ``kam.sales.actions`` writes
it, every bad row reported with its line, column and every reason found in it.

``run_import(kind, source, acting_user=..., options=..., dry_run=...)`` reads
the file (``kam.imports.readers``), matches columns and values
(``kam.imports.mapping``) and writes the rows in batches (``BATCH_SIZE``), each
batch in one transaction, with history rows marked as coming from an import.
A batch looks up what its rows name (accounts, owners, teams, the records they
match, ...) once, with one query per kind, checks new records as
``actions.create_record`` does (``full_clean``'s field checks compiled once,
``full_clean`` itself for a record they refuse, so the report gives its
messages) and inserts them and their history (``kam.history.record.values``:
what ``record()`` writes) with one ``executemany`` per table; a row changing an
existing record goes through the actions. The ``ImportReport`` counts
``rows = created + updated + skipped + failed`` exactly:

- *created*: a new record; *updated*: an existing record changed;
  *skipped*: an existing record the row would not change (re-running a file);
  *failed*: a row refused, with every reason found, nothing of it written.
- Rows are matched to existing records by a natural key, which the report
  names: accounts by external id (once the data model keeps one) else name;
  contacts by external id else account + name; opportunities by external id
  else account + name; activities by account + date + kind + notes;
  off-funnel orders by account + date + amount. Names match without regard to
  case. Only records the importing user may see are matched.
- A batch commits on its own: an import killed half-way leaves whole batches
  (so whole rows) only, and running it again completes it (the rows done are
  then skipped). When the database refuses a batch, its rows are written one
  by one, so the refused row is named and the others are imported.
- A row that fails is reported with every reason found: each cell that cannot
  be read, each reference that cannot be resolved and, for a new record, each
  value the record refuses.
- Stored figures (``kam.sales.figures``) are not computed row by row: the
  accounts the rows wrote (and those of the deals and activities they matched)
  are queued once, when the import ends, with ``recompute_accounts_later``.
- ``dry_run`` runs exactly the same code in a transaction that is rolled back
  at the end: the report is the one a real run would give, nothing is written.
- Rows of contacts, opportunities, activities and off-funnel orders name their
  account; an account that does not exist yet is created with the row (and
  counted in ``accounts_created``) unless ``create_accounts`` is off.
- Owners are matched by username, full name (either order) or email. An unknown
  owner fails the row unless ``options.owner`` names a default. A user who is
  not an administrator imports only for owners and teams in their own teams;
  the team defaults to the account's, else the importing user's only team.
- An opportunity without an amount gets 0 (a warning says so), as Salesforce
  reports count it. A won deal is at stage 6; a lost or abandoned deal keeps
  its stage (1 when the file gives none) and, when the file gives no reason,
  the reason says it was closed before the import. A won or lost deal's close
  date is the file's close date, else its expected close.
- When a re-import finds a deal at another stage or outcome, it moves it
  through the verbs (``advance_stage`` with the import as the reason for any
  gate forced, ``close_opportunity``, ``reopen_opportunity``), dated today. A
  deal KAM has as won is not changed by an import.
"""

import csv
import datetime as dt
import importlib.util
import string
from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, TextIO

from django.contrib.auth import get_user_model
from django.core import validators
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    DataError,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.models import Q
from django.db.models.base import ModelState
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.history import record as history
from kam.history.models import Change
from kam.history.record import snapshot
from kam.imports import mapping as m
from kam.imports.readers import UnreadableFile, open_table
from kam.imports.values import (
    _CURRENCY_WORDS,
    BadValue,
    OrderEvidence,
    clean,
    date_order,
    key,
    many_lines,
    one_line,
    parse_amount,
    parse_bool,
    parse_date,
)
from kam.org.models import CompanySettings, Membership, Team
from kam.org.scoping import team_ids, visible
from kam.sales import actions
from kam.sales.models import (
    Account,
    Activity,
    Contact,
    OffFunnelOrder,
    Opportunity,
    Outcome,
    Stage,
)

SOURCE = Change.Source.IMPORT
# Problems kept in a report; the counts stay exact beyond them.
MAX_PROBLEMS = 10_000
# Rows written per transaction: about 100 ms of SQLite write lock, measured on the
# (slow, shared) development machine (docs/import.md has the measurements).
BATCH_SIZE = 200


class ImportRefused(ValidationError):
    """The whole file is refused before any row is written: it cannot be read,
    an option is wrong, or no column gives a field every row needs. Keyed by
    the option at fault (``file``, ``map``, ``owner``, ...)."""


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file: the options of ``kam import``.

    ``columns`` are ``--map COLUMN=FIELD`` pairs in the order given (an empty
    field ignores the column); ``values`` are ``--map-value FIELD:VALUE=VALUE``
    triples; ``defaults`` are ``--default FIELD=VALUE`` pairs, used when a row
    leaves the field empty.
    """

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    format: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[str, str, str], ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()
    date_format: str | None = None
    owner: str | None = None
    team: str | None = None
    create_accounts: bool = True

    @classmethod
    def from_strings(
        cls,
        *,
        map: Iterable[str] = (),
        map_value: Iterable[str] = (),
        default: Iterable[str] = (),
        **others,
    ) -> "ImportOptions":
        """Options from the command line's ``COLUMN=FIELD``, ``FIELD:VALUE=VALUE``
        and ``FIELD=VALUE`` strings; raises ``ImportRefused`` for a malformed one."""
        columns = []
        for text in map:
            column, sep, target = text.rpartition("=")
            if not sep or not column.strip():
                raise ImportRefused(
                    {"map": _("Write --map COLUMN=FIELD, not %(text)s.") % {"text": text}}
                )
            columns.append((column.strip(), target.strip()))
        values = []
        for text in map_value:
            name, colon, rest = text.partition(":")
            old, sep, new = rest.partition("=")
            if not colon or not sep or not name.strip():
                raise ImportRefused(
                    {
                        "map_value": _("Write --map-value FIELD:VALUE=VALUE, not %(text)s.")
                        % {"text": text}
                    }
                )
            values.append((name.strip(), old, new))
        defaults = []
        for text in default:
            name, sep, value = text.partition("=")
            if not sep or not name.strip():
                raise ImportRefused(
                    {"default": _("Write --default FIELD=VALUE, not %(text)s.") % {"text": text}}
                )
            defaults.append((name.strip(), value))
        return cls(columns=tuple(columns), values=tuple(values), defaults=tuple(defaults), **others)


@dataclass(frozen=True)
class Problem:
    """Why a row failed (or what a row's import assumed): its line as the
    spreadsheet shows it, the column at fault ("" when none is), the field, and
    the reason in the user's language."""

    line: int
    column: str
    field: str
    message: str


@dataclass
class ImportReport:
    """What an import did, or would do (``dry_run``)."""

    kind: str
    dry_run: bool
    natural_key: str
    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    columns: dict[str, list[str]] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    accounts_created: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    problems_omitted: int = 0
    stopped: str = ""  # why reading stopped before the end of the file, if it did

    def check(self) -> None:
        """Raise if the counts do not add up: a row is counted once, always."""
        counted = self.created + self.updated + self.skipped + self.failed
        if counted != self.rows:
            raise RuntimeError(f"import counted {counted} outcomes for {self.rows} rows")

    def _keep(self, problems: list[Problem], problem: Problem) -> None:
        if len(self.errors) + len(self.warnings) < MAX_PROBLEMS:
            problems.append(problem)
        else:
            self.problems_omitted += 1

    def summary(self) -> list[str]:
        """The report as lines of text for a terminal, in the active language."""
        lines = []
        if self.dry_run:
            lines.append(_("Dry run: nothing was written."))
        lines.append(
            _(
                "%(rows)s rows: %(created)s created, %(updated)s updated, "
                "%(skipped)s unchanged, %(failed)s failed."
            )
            % {
                "rows": self.rows,
                "created": self.created,
                "updated": self.updated,
                "skipped": self.skipped,
                "failed": self.failed,
            }
        )
        if self.accounts_created:
            lines.append(_("Accounts created for rows: %(n)s.") % {"n": self.accounts_created})
        lines.append(_("Rows matched to existing records by: %(key)s.") % {"key": self.natural_key})
        lines.append(
            _("Columns read: %(columns)s.")
            % {
                "columns": "; ".join(
                    f"{name} ← {', '.join(columns)}" for name, columns in self.columns.items()
                )
            }
        )
        if self.unknown_columns:
            lines.append(
                _("Columns ignored (no field matches them; use --map COLUMN=FIELD): %(c)s.")
                % {"c": ", ".join(self.unknown_columns)}
            )
        for label, problems in ((_("error"), self.errors), (_("warning"), self.warnings)):
            for p in problems:
                where = _("line %(line)s") % {"line": p.line}
                if p.column:
                    where += f", {p.column}"
                lines.append(f"{label}: {where}: {p.message}")
        if self.problems_omitted:
            lines.append(_("%(n)s more problems not listed.") % {"n": self.problems_omitted})
        if self.stopped:
            lines.append(
                _("Reading stopped before the end of the file: %(why)s") % {"why": self.stopped}
            )
        return lines


def natural_key(kind: m.Kind) -> str:
    """How rows of ``kind`` find the record they update, in the user's language."""
    external = m.model_has(kind.model, "external_id")
    return {
        "accounts": _("external id, else name") if external else _("name"),
        "contacts": _("external id, else account + name") if external else _("account + name"),
        "opportunities": _("external id, else account + name"),
        "activities": _("account + date + kind + notes"),
        "off-funnel-orders": _("account + date + amount"),
    }[kind.name]


def run_import(
    kind: str,
    source: str | Path | BinaryIO,
    *,
    acting_user,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    failed_rows: TextIO | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import the rows of ``source`` (a path, or a binary file that can seek) as
    records of ``kind`` for ``acting_user`` and return the report.

    ``failed_rows``, a text stream, receives the failed rows as CSV: the file's
    columns and an ``error`` column with the reasons. ``progress`` is called with
    the count of rows done after each batch of ``batch_size`` rows (each batch
    commits in one transaction). Raises ``ImportRefused`` when the file or the
    options are refused as a whole (nothing is written then).
    """
    options = options or ImportOptions()
    try:
        spec = m.get_kind(kind)
    except BadValue as exc:
        raise ImportRefused({"kind": str(exc)}) from None
    setup = _Setup(spec, options, acting_user)
    report = ImportReport(kind=spec.name, dry_run=dry_run, natural_key=natural_key(spec))
    orders = _date_orders(source, options, setup)
    with _opened(source, options) as table:
        columns = setup.map_columns(table.columns)
        report.format, report.encoding, report.delimiter = (
            table.format,
            table.encoding,
            table.delimiter,
        )
        report.columns = {name: list(cols) for name, cols in columns.fields.items()}
        report.unknown_columns = list(columns.unknown)
        report.ignored_columns = list(columns.ignored)
        writer = _FailedRows(failed_rows, table.columns)
        importer = _Importer(setup, columns, orders, report)
        figures = _figures()
        try:
            with transaction.atomic() if dry_run else nullcontext():
                # The actions a row's change goes through leave the figures to the queue.
                with figures.deferred() if figures is not None else nullcontext():
                    _import_rows(table, importer, report, writer, batch_size, progress)
                if dry_run:
                    transaction.set_rollback(True)
        finally:
            if not dry_run:
                # What the committed batches wrote, also when the import stops half-way.
                _recompute_figures(importer.touched)
    report.check()
    return report


def _import_rows(table, importer, report, writer, batch_size: int, progress) -> None:
    """Read the rows in batches of ``batch_size`` and import each batch; only one
    batch is held in memory."""
    rows = iter(table)
    batch: list[tuple[int, dict]] = []
    while True:
        try:
            line, row = next(rows)
        except StopIteration:
            break
        except UnreadableFile as exc:
            # The rows before stay imported; the report says where reading stopped.
            report.stopped = str(exc)
            break
        report.rows += 1
        batch.append((line, row))
        if len(batch) >= batch_size:
            _import_batch(importer, batch, writer, report, progress)
            batch = []
    if batch:
        _import_batch(importer, batch, writer, report, progress)


def _import_batch(importer, batch, writer, report, progress) -> None:
    for cells, problems in importer.import_batch(batch):
        writer.write(cells, problems)
    if progress is not None:
        progress(report.rows)


def _figures():
    """``kam.sales.figures`` (stored per-deal figures), when this installation has it."""
    if importlib.util.find_spec("kam.sales.figures") is None:
        return None
    from kam.sales import figures

    return figures


def _recompute_figures(account_ids: set[int]) -> None:
    """Queue the recomputation of the stored figures (likelihood, findings) of the
    accounts the rows wrote and of their deals: once for the whole import, after
    its rows are written, never row by row."""
    figures = _figures()
    if account_ids and figures is not None:
        figures.recompute_accounts_later(sorted(account_ids))


@contextmanager
def _opened(source, options: ImportOptions):
    """The source opened as a table; a file that cannot be read is refused as a whole."""
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        with open_table(
            source,
            encoding=options.encoding,
            delimiter=options.delimiter,
            sheet=options.sheet,
            format=options.format,
        ) as table:
            yield table
    except UnreadableFile as exc:
        raise ImportRefused({"file": str(exc)}) from None


class _FailedRows:
    """Writes failed rows as CSV, the file's columns plus ``error``."""

    def __init__(self, out: TextIO | None, columns: list[str]):
        self.out = csv.writer(out) if out is not None else None
        self.columns = columns
        if self.out is not None:
            self.out.writerow([*columns, _("error") if "error" in columns else "error"])

    def write(self, row: dict, problems: list[Problem]) -> None:
        if self.out is None:
            return
        reasons = "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in problems)
        self.out.writerow([*(row.get(c, "") for c in self.columns), reasons])


# ---------------------------------------------------------------------------
# Setting up: the options checked once, before any row
# ---------------------------------------------------------------------------


class _Setup:
    """The options checked against the kind and the database, once per import."""

    def __init__(self, kind: m.Kind, options: ImportOptions, user):
        self.kind = kind
        self.options = options
        self.user = user
        self.fields = {f.name: f for f in m.usable_fields(kind)}
        self.order = None
        if options.date_format:
            try:
                self.order = date_order(options.date_format)
            except BadValue as exc:
                raise ImportRefused({"date_format": str(exc)}) from None
        self.values: dict[str, dict[str, str]] = {}
        for name, old, new in options.values:
            self.values.setdefault(self._field_name(name, "map_value"), {})[key(old)] = new
        self.defaults = {self._field_name(n, "default"): v for n, v in options.defaults}
        self.default_owner = None
        if options.owner:
            self.default_owner = _find_user(options.owner)
            if not isinstance(self.default_owner, get_user_model()):
                raise ImportRefused(
                    {"owner": _("--owner %(name)s: no such active user.") % {"name": options.owner}}
                )
        self.team = None
        if options.team:
            self.team = Team.objects.filter(name__iexact=options.team.strip()).first()
            if self.team is None:
                raise ImportRefused(
                    {"team": _("--team %(name)s: no such team.") % {"name": options.team}}
                )
        self.admin = bool(user.is_superuser)
        self.team_ids = team_ids(user)
        self._scoped: dict[int, bool] = {}
        if self.default_owner is not None and not self.owner_in_scope(self.default_owner):
            raise ImportRefused(
                {"owner": _("%(name)s is not in your teams.") % {"name": options.owner}}
            )
        if self.team is not None and not self.team_in_scope(self.team):
            raise ImportRefused({"team": _("You are not in team %(name)s.") % {"name": self.team}})
        self.currency = CompanySettings.load().currency
        self.stages = m.stage_table()
        self.outcomes = m.outcome_table()
        self.choices = {
            name: m.choice_table(kind.model, name)
            for name, f in self.fields.items()
            if f.type == m.CHOICE
        }

    def _field_name(self, name: str, option: str) -> str:
        found = next((f for f in self.fields if key(f) == key(name)), None)
        if found is None:
            raise ImportRefused(
                {
                    option: _("%(kind)s have no field %(field)s; the fields: %(fields)s.")
                    % {"kind": self.kind.name, "field": name, "fields": ", ".join(self.fields)}
                }
            )
        return found

    def map_columns(self, columns: list[str]) -> m.ColumnMap:
        try:
            mapped = m.map_columns(self.kind, columns, self.options.columns)
        except BadValue as exc:
            raise ImportRefused({"map": str(exc)}) from None
        missing = m.missing_required(self.kind, mapped, self.defaults)
        if missing:
            raise ImportRefused(
                {
                    "map": _(
                        "No column gives %(fields)s: name it with --map COLUMN=FIELD "
                        "(the file's columns: %(columns)s)."
                    )
                    % {"fields": ", ".join(missing), "columns": ", ".join(columns)}
                }
            )
        return mapped

    def owner_in_scope(self, owner) -> bool:
        """Whether the importing user may give records to ``owner``: an admin to anyone,
        others to themselves and to the members of their teams."""
        if owner.pk not in self._scoped:
            self._scoped[owner.pk] = (
                self.admin
                or owner.pk == self.user.pk
                or Membership.objects.filter(user=owner, team_id__in=self.team_ids).exists()
            )
        return self._scoped[owner.pk]

    def load_scope(self, owners) -> None:
        """``owner_in_scope`` for many owners at once: one query for those not known yet."""
        unknown = {owner.pk for owner in owners} - set(self._scoped)
        if not unknown:
            return
        members = set()
        if not self.admin:
            members = set(
                Membership.objects.filter(user_id__in=unknown, team_id__in=self.team_ids)
                .values_list("user_id", flat=True)
                .distinct()
            )
        for pk in unknown:
            self._scoped[pk] = self.admin or pk == self.user.pk or pk in members

    def team_in_scope(self, team) -> bool:
        return self.admin or team.pk in self.team_ids


def _date_orders(source, options: ImportOptions, setup: _Setup) -> dict[str, str]:
    """For each date column, the order (US or day first) its unambiguous values show:
    a first pass over the file, reading dates only."""
    if setup.order is not None:
        return {}
    with _opened(source, options) as table:
        columns = setup.map_columns(table.columns)
        dated = {
            column
            for name, cols in columns.fields.items()
            if setup.fields[name].type == m.DATE
            for column in cols
        }
        if not dated:
            return {}
        evidence = {column: OrderEvidence() for column in dated}
        for _line, row in table:
            for column in dated:
                evidence[column].add(row.get(column, ""))
    return {column: e.order for column, e in evidence.items() if e.order}


def _find_user(text: str):
    """The active user a name, username or email names; None when nobody,
    the string "ambiguous" when several people have that name."""
    return _find_users({text})[text]


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------

_EMPTY = object()
_BAD = object()  # a reference that could not be resolved: the row has an error for it


class _RowFailed(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


@dataclass
class _Row:
    """One row read: each given field's value (``_EMPTY`` for an empty cell), the
    column it came from, and the problems found."""

    line: int
    values: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)
    currency_hint: str | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    accounts_created: int = 0
    account: object = None  # the row's account once written: its figures are recomputed

    def given(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default=None):
        value = self.values.get(name, _EMPTY)
        return default if value is _EMPTY else value

    def problem(self, name: str, message: str) -> Problem:
        return Problem(self.line, self.columns.get(name, ""), name, message)

    def fail(self, name: str, message: str):
        """Stop the check at hand with this reason (``_Importer._check`` collects it)."""
        raise _RowFailed([self.problem(name, message)])

    def error(self, name: str, message: str) -> None:
        self.errors.append(self.problem(name, message))

    def warn(self, name: str, message: str) -> None:
        self.warnings.append(self.problem(name, message))

    def failed(self, name: str) -> bool:
        return any(p.field == name for p in self.errors)


@dataclass
class _NewAccount:
    """An account a row names that does not exist yet: created with the row."""

    name: str
    owner: object
    team_id: int


def _fold(text: str) -> str:
    """How names compare (``name__iexact``): without regard to case."""
    return text.lower()


def _variants(texts: Iterable[str]) -> set[str]:
    """The lower-case forms of ``texts`` a database's ``LOWER()`` may give (SQLite
    lowers ASCII letters only, PostgreSQL every letter)."""
    found = set()
    for text in texts:
        if text:
            found.add(text.lower())
            found.add(text.translate(_ASCII_LOWER))
    return found


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _group(objects: Iterable, key: Callable) -> dict:
    groups: dict = {}
    for obj in objects:
        groups.setdefault(key(obj), []).append(obj)
    return groups


def _ref(account) -> object:
    """A key for an account that stays the same when the batch inserts it: its
    primary key, or for an account the batch creates, the object's identity."""
    return getattr(account, "_import_ref", None) or account.pk


def _insert(model, objects: list) -> None:
    """Insert the new records ``objects`` of ``model`` with one ``executemany`` and
    set their primary keys. A link to a record inserted before (a new account)
    takes that record's new key, as ``Model.save()`` would."""
    table = _table(model)
    rows = []
    for obj in objects:
        values = obj.__dict__
        for link in table.links:
            if values[link.attname] is None and link.is_cached(obj):
                related = link.get_cached_value(obj)
                values[link.attname] = related.pk if related is not None else None
        rows.append(values)
    for obj, pk in zip(objects, _insert_values(model, rows), strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _insert_values(model, rows: list[dict]) -> list:
    """Insert ``rows`` (column values by attribute name, every concrete field but the
    primary key) into ``model``'s table with one ``executemany``; return their new
    primary keys in the order of ``rows``."""
    if not rows:
        return []
    table = _table(model)
    params = [table.params(row) for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            return _insert_returning(cursor, table, params)
        cursor.executemany(table.sql, params)
        # The new keys without a round trip per row: SQLite has one writer, and this
        # batch's transaction holds the write lock from its first insert to its
        # commit, so nobody else inserts in between. A row's key is then one more than
        # the largest in the table (Django declares SQLite keys AUTOINCREMENT: one
        # more than the largest ever used), row after row in the order executemany
        # steps through them: the n rows got last - n + 1 ... last. The count below
        # checks it: n rows above last - n means exactly those keys, all present.
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
        first = last - len(rows) + 1
        cursor.execute(table.count_from, [first])
        if cursor.fetchone()[0] != len(rows):
            raise RuntimeError(f"{model._meta.db_table}: the inserted keys are not {first}-{last}")
    return list(range(first, last + 1))


def _insert_returning(cursor, table: "_Table", params: list[tuple]) -> list:
    """Other databases (PostgreSQL): one ``INSERT ... VALUES (...), (...) RETURNING``
    per chunk of as many rows as the database takes parameters, keys in row order
    (what Django's ``bulk_create`` relies on too)."""
    keys = []
    # PostgreSQL takes at most 65,535 parameters a statement, whatever Django says.
    size = connection.ops.bulk_batch_size(table.fields, params)
    size = max(1, min(size, 65_535 // len(table.fields)))
    one = "(" + ", ".join(["%s"] * len(table.fields)) + ")"
    for start in range(0, len(params), size):
        chunk = params[start : start + size]
        cursor.execute(
            table.returning % ", ".join([one] * len(chunk)), [v for row in chunk for v in row]
        )
        keys.extend(row[0] for row in cursor.fetchall())
    return keys


_NO_DEFAULT = object()
_PLAIN = (str, int, bool, Decimal, dt.date, type(None))  # values ``actions._plain`` leaves

# Field classes whose value of a given type is stored as it is (``get_db_prep_save``
# returns it unchanged on every database Django supports): checked per value, others
# go through ``get_db_prep_save``.
_STORED_AS_IS = (
    (models.CharField, str),
    (models.TextField, str),
    (models.IntegerField, int),
    (models.BooleanField, bool),
    (models.AutoField, int),
    (models.BigAutoField, int),
)


def _stored_as_is(field) -> type | None:
    """The type of value ``field`` stores unchanged, if any."""
    methods = ("get_db_prep_save", "get_db_prep_value", "get_prep_value")
    for cls, kind in _STORED_AS_IS:
        if isinstance(field, cls) and all(
            getattr(type(field), m) is getattr(cls, m) for m in methods
        ):
            return kind
    return None


class _Table:
    """How to insert rows of one model with raw SQL: the columns, the statement and
    each column's conversion to what the database stores (``get_db_prep_save``, as
    ``bulk_create`` does; skipped for values it leaves as they are)."""

    def __init__(self, model):
        meta = model._meta
        self.fields = [f for f in meta.concrete_fields if f is not meta.pk]
        self.links = [f for f in self.fields if f.is_relation]
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in self.fields)
        head = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES "
        self.sql = head + "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        self.returning = head.replace("%", "%%") + "%s RETURNING " + qn(meta.pk.column)
        self.count_from = (
            f"SELECT COUNT(*) FROM {qn(meta.db_table)} WHERE {qn(meta.pk.column)} >= %s"
        )
        self.convert = [(f.attname, self._converter(f)) for f in self.fields]

    @staticmethod
    def _converter(field):
        target = field.target_field if field.is_relation else field
        as_is = _stored_as_is(target)
        nullable = not isinstance(target, models.JSONField)
        prep = field.get_db_prep_save
        # Dates repeat (a batch's defaults and timestamps, a file's close dates):
        # each is converted once. A date converts the same whatever object holds it.
        memo: dict | None = {} if isinstance(target, models.DateField) else None
        last = [_NO_DEFAULT, None]  # the last value converted (by identity) and its result

        def convert(value):
            if (value is None and nullable) or type(value) is as_is:
                return value
            if value is last[0] and nullable:  # not for JSON: a dict can change
                return last[1]
            if memo is not None and type(value) is dt.date:
                stored = memo.get(value, _NO_DEFAULT)
                if stored is _NO_DEFAULT:
                    stored = memo[value] = prep(value, _db())
                return stored
            stored = prep(value, _db())
            last[0], last[1] = value, stored
            return stored

        return convert

    def params(self, row: dict) -> tuple:
        return tuple(convert(row[attname]) for attname, convert in self.convert)


_TABLES: dict = {}


def _db():
    """The default database's connection itself (not its proxy: it is asked per value)."""
    return connections[DEFAULT_DB_ALIAS]


def _table(model) -> _Table:
    key_ = (model, connection.vendor)
    if key_ not in _TABLES:
        _TABLES[key_] = _Table(model)
    return _TABLES[key_]


# -- checking new records as ``full_clean`` does, compiled once per model --------

_EMPTY_VALUES = tuple(validators.EMPTY_VALUES)
# ``to_python`` methods that return a value of this exact type unchanged.
_PYTHON_AS_IS = {
    models.CharField.to_python: str,
    models.TextField.to_python: str,
    models.IntegerField.to_python: int,
    models.BooleanField.to_python: bool,
    models.DateField.to_python: dt.date,
    models.DecimalField.to_python: Decimal,
}


class _Refused(Exception):
    """A value the compiled checks cannot pass: the record's own ``full_clean`` says why."""


def _field_check(field: models.Field) -> Callable:
    """``field.clean(value, obj)`` as ``Model.clean_fields`` calls it, returning the
    cleaned value; raises ``_Refused`` or ``ValidationError`` when the value would be
    refused. For the usual field classes and values the steps are inlined: the
    same tests (``to_python`` leaving the value as it is, ``validate``: choices,
    null, blank; ``run_validators``: max_length, decimal digits, minimum, the
    business-date range ...) without building a message; anything else calls
    ``field.clean``."""
    kind = _PYTHON_AS_IS.get(type(field).to_python)
    blank, null, editable = field.blank, field.null, field.editable
    inline = (
        kind is not None
        and type(field).validate is models.Field.validate
        and type(field).run_validators is models.Field.run_validators
        and type(field).clean is models.Field.clean
    )
    if not inline:

        def check(value, obj):
            if blank and value in _EMPTY_VALUES:
                return value  # clean_fields leaves it
            return field.clean(value, obj)

        return check
    choices = None
    if field.choices is not None:
        choices = frozenset(k for k, _label in field.flatchoices)
    checks = tuple(field.validators)

    def check(value, obj):
        if blank and value in _EMPTY_VALUES:
            return value
        if type(value) is not kind:
            return field.clean(value, obj)  # to_python converts it, or refuses it
        if kind is Decimal and not value.is_finite():
            raise _Refused
        if editable:
            if choices is not None and value not in _EMPTY_VALUES and value not in choices:
                raise _Refused
            if value is None and not null:
                raise _Refused
            if not blank and value in _EMPTY_VALUES:
                raise _Refused
        if value not in _EMPTY_VALUES:
            for validator in checks:
                validator(value)
        return value

    return check


class _NewRecords:
    """What building and checking new records of one model needs, worked out once
    per import (the field checks) and once per batch (the defaults)."""

    def __init__(self, model):
        self.model = model
        meta = model._meta
        self.fields = list(meta.concrete_fields)
        self.links = frozenset(f.name for f in self.fields if f.is_relation)
        self.link = {f.name: f for f in self.fields if f.is_relation}
        self.many = frozenset(f.name for f in meta.many_to_many)
        self.names = frozenset(f.name for f in self.fields)
        self.auto_now = [
            f.attname
            for f in self.fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        self.checks = {f.name: (f.attname, _field_check(f)) for f in self.fields}
        self.plans: dict[frozenset, list] = {}
        self.allowed: dict[frozenset, bool] = {}
        self.defaults: dict = {}
        self.defaults_ok: frozenset = frozenset()
        self.per_row: list = []

    def start_batch(self) -> None:
        """The defaults a new record gets (``dt.date.today`` ...), evaluated once for
        the batch and checked once: a record keeping one needs no check for it."""
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        ok = set()
        # A callable default (dt.date.today, uuid4, dict ...) is called for each record.
        self.per_row = [
            (f.attname, f._get_default)
            for f in self.fields
            if f.has_default() and callable(f.default)
        ]
        for attname, _default in self.per_row:
            self.defaults[attname] = _NO_DEFAULT
        for f in self.fields:
            value = self.defaults[f.attname]
            if value is _NO_DEFAULT or f.is_relation:
                continue  # links are not checked here (see _build)
            if f.blank and value in _EMPTY_VALUES:
                ok.add(f.attname)
                continue
            try:
                f.clean(value, None)
            except ValidationError:
                continue
            ok.add(f.attname)
        self.defaults_ok = frozenset(ok)

    def plan(self, skip: frozenset) -> list:
        """The (attribute, check) pairs ``full_clean(exclude=links + skip)`` runs."""
        if skip not in self.plans:
            excluded = self.links | skip
            self.plans[skip] = [pair for name, pair in self.checks.items() if name not in excluded]
        return self.plans[skip]


class _Importer:
    """Imports rows batch by batch.

    A batch (``batch_size`` rows) is read and checked first, with each look-up
    the rows need (owners, teams, memberships) made once for the batch; then one
    transaction finds the records the rows name or match (one query per kind of
    record), builds and checks the new records (``_build``), inserts them and
    their history with one ``executemany`` per table (``_flush``) and commits.
    A row that changes an existing record goes through ``kam.sales.actions``
    (in a savepoint of the batch's transaction, after the batch's pending new
    records are inserted). When the database refuses a batch's insert, the batch
    is run again row by row, so that the refused row is named and the others are
    imported.
    """

    def __init__(self, setup: _Setup, columns: m.ColumnMap, orders: dict, report: ImportReport):
        self.setup = setup
        self.kind = setup.kind
        self.user = setup.user
        self.columns = columns
        self.orders = orders
        self.report = report
        self.owners: dict[str, object] = {}
        self.teams: dict[str, Team | None] = {}
        self.memberships: dict[int, list[int]] = {}
        # Accounts whose deals' stored figures the rows may change (see run_import).
        self.touched: set[int] = set()
        self.plan = {
            "accounts": self._account_row,
            "contacts": self._contact_row,
            "opportunities": self._opportunity_row,
            "activities": self._activity_row,
            "off-funnel-orders": self._order_row,
        }[self.kind.name]
        self._pending: list = []  # new records of the batch, in the order rows made them
        self._m2m: list[tuple] = []  # (record, field, primary keys) of the pending records
        self._models: dict = {}  # model: _NewRecords
        # The fields a column or a --default gives, the only ones a row can give.
        self._given = [
            (name, spec)
            for name, spec in setup.fields.items()
            if columns.fields.get(name) or name in setup.defaults
        ]
        self._started: set = set()  # the models whose defaults this batch has evaluated

    # -- batches ------------------------------------------------------------

    def import_batch(self, batch: list[tuple[int, dict]]) -> list[tuple[dict, list[Problem]]]:
        """Import the rows of one batch in one transaction; return the failed rows
        with their problems. The report is counted once the batch has committed."""
        rows = [self._read(line, cells) for line, cells in batch]
        self._started = set()
        self._preload(rows)
        try:
            with transaction.atomic():
                results = self._write_batch(rows)
        except (IntegrityError, DataError) as exc:
            self._pending, self._m2m = [], []
            if len(batch) > 1:
                # Which row did the database refuse? Each row on its own says.
                return [failed for one in batch for failed in self.import_batch([one])]
            message = _("The database refused the row: %(error)s") % {"error": exc}
            results = [(None, [Problem(rows[0].line, "", "", message)])]
        failed = []
        for row, (_line, cells), (outcome, problems) in zip(rows, batch, results, strict=True):
            self._count(row, outcome, problems)
            if problems:
                failed.append((cells, problems))
        return failed

    def _count(self, row: _Row, outcome: str | None, problems: list[Problem]) -> None:
        report = self.report
        for warning in row.warnings if outcome else ():
            report._keep(report.warnings, warning)
        if problems:
            report.failed += 1
            for problem in problems:
                report._keep(report.errors, problem)
            return
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.accounts_created += row.accounts_created
        account_id = getattr(row.account, "pk", None)
        if account_id is not None and self._touches(outcome):
            self.touched.add(account_id)

    def _touches(self, outcome: str) -> bool:
        """Whether a row's account needs its deals' figures recomputed. Skipped rows
        count too: a run killed before its end queued nothing for the rows it
        committed, and the run that completes it skips them."""
        if self.kind.name in ("opportunities", "activities"):
            return True
        # A contact or an account that changed may change how its deals read.
        return self.kind.name in ("accounts", "contacts") and outcome == "updated"

    def _write_batch(self, rows: list[_Row]) -> list[tuple[str | None, list[Problem]]]:
        self._lookup(rows)
        results = [self._one_row(row) for row in rows]
        self._flush()
        return results

    def _one_row(self, row: _Row) -> tuple[str | None, list[Problem]]:
        """Check one row and add its new records to the batch, or write its change to
        an existing record now; return its outcome or its problems."""
        try:
            planned = self.plan(row)
        except _RowFailed as exc:
            return None, self._merged(row, exc.problems)
        except ValidationError as exc:
            return None, self._merged(row, self._validation_problems(row, exc))
        if not callable(planned):
            return planned, []
        # A change to an existing record: the rows before it are written first.
        self._flush()
        try:
            with transaction.atomic():
                return planned(), []
        except _RowFailed as exc:
            problems = exc.problems
        except ValidationError as exc:
            problems = self._validation_problems(row, exc)
        except PermissionDenied as exc:
            problems = [Problem(row.line, "", "", str(exc) or _("You may not do this."))]
        except (IntegrityError, DataError) as exc:
            problems = [
                Problem(
                    row.line, "", "", _("The database refused the row: %(error)s") % {"error": exc}
                )
            ]
        return None, self._merged(row, problems)

    @staticmethod
    def _merged(row: _Row, problems: list[Problem]) -> list[Problem]:
        merged = list(row.errors)
        merged += [p for p in problems if p not in merged]
        return merged

    def _check(self, row: _Row, check: Callable, *args):
        """Run one check of a row; its failure is recorded and the row's other checks go on."""
        try:
            return check(row, *args)
        except _RowFailed as exc:
            row.errors.extend(exc.problems)
            return _BAD

    def _validation_problems(self, row: _Row, exc: ValidationError) -> list[Problem]:
        if not hasattr(exc, "error_dict"):
            return [Problem(row.line, "", "", " ".join(exc.messages))]
        problems = []
        for name, errors in exc.error_dict.items():
            messages = " ".join(m for e in errors for m in e.messages)
            if name == NON_FIELD_ERRORS:
                problems.append(Problem(row.line, "", "", messages))
            else:
                problems.append(row.problem(name, messages))
        return problems

    # -- reading ----------------------------------------------------------

    def _read(self, line: int, cells: dict) -> _Row:
        row = _Row(line)
        if None in cells:
            row.errors.append(
                Problem(
                    line,
                    "",
                    "",
                    _(
                        "This row has more cells than the header has columns (%(extra)s): "
                        "is a value containing the delimiter not in quotes?"
                    )
                    % {"extra": ", ".join(cells[None])},
                )
            )
        for name, spec in self._given:
            text, column = self._cell(name, cells)
            if column is None:
                continue
            row.columns[name] = column
            if not text.strip():
                row.values[name] = _EMPTY
                continue
            row.texts[name] = text
            try:
                row.values[name] = self._parse(spec, text, column, row)
            except BadValue as exc:
                row.errors.append(row.problem(name, str(exc)))
        return row

    def _cell(self, name: str, cells: dict) -> tuple[str, str | None]:
        """The first non-empty cell for a field, after --map-value, and its column;
        then the --default; ``(text, None)`` when nothing gives the field."""
        columns = self.columns.fields.get(name, [])
        mapped = self.setup.values.get(name, {})
        for column in columns:
            text = cells.get(column, "")
            text = mapped.get(key(text), text) if mapped else text
            if text.strip():
                return text, column
        if name in self.setup.defaults:
            return self.setup.defaults[name], "--default " + name
        return "", (columns[0] if columns else None)

    def _parse(self, spec: m.Field, text: str, column: str, row: _Row):
        kind = spec.type
        if kind in (m.LINE, m.USER, m.TEAM, m.REF):
            return one_line(clean(text) if kind != m.LINE else text)
        if kind == m.TEXT:
            return many_lines(text)
        if kind == m.AMOUNT:
            amount, currency = parse_amount(text)
            if currency:
                row.currency_hint = currency
            return amount
        if kind == m.DATE:
            return parse_date(text, self.setup.order, column_order=self.orders.get(column))
        if kind == m.BOOL:
            return parse_bool(text)
        if kind == m.CURRENCY:
            code = clean(text).upper()
            code = _CURRENCY_WORDS.get(code, code)
            if len(code) != 3 or not code.isascii() or not code.isalpha():
                raise BadValue(
                    _("“%(value)s” is not a currency code such as CNY or USD.") % {"value": text}
                )
            return code
        if kind == m.NAMES:
            parts = (one_line(p) for p in text.replace("\n", ",").translate(_SEPARATORS).split(","))
            return [p for p in parts if p]
        table = {m.STAGE: self.setup.stages, m.OUTCOME: self.setup.outcomes}.get(kind)
        if table is None:
            table = self.setup.choices[spec.name]
        try:
            return table[key(text)]
        except KeyError:
            raise BadValue(self._unknown_choice(spec, text)) from None

    def _unknown_choice(self, spec: m.Field, text: str) -> str:
        if spec.type == m.STAGE:
            known = "1-6, " + ", ".join(str(o) for o in Outcome.values)
        elif spec.type == m.OUTCOME:
            known = ", ".join(Outcome.values)
        else:
            known = ", ".join(
                str(v) for v, _label in self.kind.model._meta.get_field(spec.name).choices
            )
        return _(
            "“%(value)s” is not a known %(field)s (KAM's are %(known)s): "
            "say which with --map-value %(field)s:%(value)s=VALUE."
        ) % {"value": one_line(text), "field": spec.name, "known": known}

    # -- looking up, once per batch ------------------------------------------

    def _preload(self, rows: list[_Row]) -> None:
        """The owners, teams and memberships the batch's rows name, read once for the
        batch (and kept for the rest of the import: people and teams, not records)."""
        texts = {row.get("owner") for row in rows} - {None, ""} - set(self.owners)
        if texts:
            self.owners.update(_find_users(texts))
        names = {_fold(t) for row in rows if (t := row.get("team"))} - set(self.teams)
        if names:
            found = {
                _fold(t.name): t
                for t in Team.objects.annotate(_k=Lower("name")).filter(_k__in=_variants(names))
            }
            self.teams.update({name: found.get(name) for name in names})
        owners = {u for u in self.owners.values() if isinstance(u, get_user_model())}
        if self.setup.default_owner is not None:
            owners.add(self.setup.default_owner)
        self.setup.load_scope(owners)
        wanted = ({u.pk for u in owners} | {self.user.pk}) - set(self.memberships)
        if wanted:
            teams = Membership.objects.filter(user_id__in=wanted).values_list("user_id", "team_id")
            self.memberships.update({pk: [] for pk in wanted})
            for user_id, team_id in teams.order_by("pk"):
                self.memberships[user_id].append(team_id)

    def _lookup(self, rows: list[_Row]) -> None:
        """The existing records the batch's rows name or match: one query per kind of
        record for the whole batch, inside its transaction."""
        accounts = visible(self.user, Account.objects.all())
        if self.kind.name == "accounts":
            externals = {row.get("external_id") for row in rows} - {None, ""}
            names = {row.get("name") for row in rows} - {None, ""}
        else:
            externals = {row.get("account_external_id") for row in rows} - {None, ""}
            names = {row.get("account") for row in rows} - {None, ""}
        found = list(
            accounts.annotate(_k=Lower("name")).filter(
                Q(external_id__in=externals) | Q(_k__in=_variants(names))
            )
            if externals or names
            else ()
        )
        self.accounts_by_external = _group(
            (a for a in found if a.external_id in externals), lambda a: a.external_id
        )
        folded = {_fold(n) for n in names}
        self.accounts_by_name = _group(
            (a for a in found if _fold(a.name) in folded),
            lambda a: _fold(a.name),
        )
        self.account_ids = {a.pk for a in found}
        self.records_by_external: dict = {}
        self.records_by_key: dict = {}
        lookup = {
            "opportunities": self._lookup_opportunities,
            "contacts": self._lookup_contacts,
            "activities": self._lookup_activities,
            "off-funnel-orders": self._lookup_orders,
        }.get(self.kind.name)
        if lookup is not None:
            lookup(rows)

    def _lookup_opportunities(self, rows: list[_Row]) -> None:
        externals = {row.get("external_id") for row in rows} - {None, ""}
        names = {row.get("name") for row in rows} - {None, ""}
        # The deals the rows name at their accounts: first their keys, through the index
        # on the lower-cased name and account, then those deals among the live ones the
        # user may see. In one query SQLite (which has no statistics here) reads every
        # live deal through the index on deleted_at instead, slower as the deals grow.
        named = []
        if names and self.account_ids:
            named = list(
                Opportunity.all_objects.annotate(_k=Lower("name"))
                .filter(account_id__in=self.account_ids, _k__in=_variants(names))
                .order_by()
                .values_list("pk", flat=True)
            )
        opportunities = visible(self.user, Opportunity.objects.all())
        found = list(
            opportunities.filter(Q(external_id__in=externals) | Q(pk__in=named)).order_by()
            if externals or named
            else ()
        )
        folded = {_fold(n) for n in names}
        self.records_by_external = _group(
            (o for o in found if o.external_id in externals), lambda o: o.external_id
        )
        self.records_by_key = _group(
            (o for o in found if o.account_id in self.account_ids and _fold(o.name) in folded),
            lambda o: (o.account_id, _fold(o.name)),
        )

    def _lookup_contacts(self, rows: list[_Row]) -> None:
        externals = {row.get("external_id") for row in rows} - {None, ""}
        names = {row.get("name") for row in rows} - {None, ""}
        found = list(
            Contact.objects.annotate(_k=Lower("name")).filter(
                Q(external_id__in=externals) | Q(_k__in=_variants(names)),
                account_id__in=self.account_ids,
            )
            if self.account_ids and (externals or names)
            else ()
        )
        folded = {_fold(n) for n in names}
        self.records_by_external = _group(
            (c for c in found if c.external_id in externals),
            lambda c: (c.account_id, c.external_id),
        )
        self.records_by_key = _group(
            (c for c in found if _fold(c.name) in folded), lambda c: (c.account_id, _fold(c.name))
        )

    def _lookup_activities(self, rows: list[_Row]) -> None:
        days = {row.get("on") for row in rows} - {None}
        found = (
            visible(self.user, Activity.objects.all())
            .filter(account_id__in=self.account_ids, on__in=days)
            .order_by("pk")
            if self.account_ids and days
            else ()
        )
        self.records_by_key = _group(found, lambda a: (a.account_id, a.on, a.kind, a.notes))
        # The deals and contacts the activities name, at their accounts.
        externals = {row.get("opportunity_external_id") for row in rows} - {None, ""}
        names = {row.get("opportunity") for row in rows} - {None, ""}
        deals = list(
            Opportunity.objects.annotate(_k=Lower("name")).filter(
                Q(external_id__in=externals) | Q(_k__in=_variants(names)),
                account_id__in=self.account_ids,
            )
            if self.account_ids and (externals or names)
            else ()
        )
        self.deals_by_external = _group(deals, lambda o: (o.account_id, o.external_id))
        self.deals_by_name = _group(deals, lambda o: (o.account_id, _fold(o.name)))
        people = {n for row in rows for n in row.get("contacts") or ()}
        contacts = (
            Contact.objects.annotate(_k=Lower("name")).filter(
                account_id__in=self.account_ids, _k__in=_variants(people)
            )
            if self.account_ids and people
            else ()
        )
        self.contacts_by_name = _group(contacts, lambda c: (c.account_id, _fold(c.name)))

    def _lookup_orders(self, rows: list[_Row]) -> None:
        days = {row.get("on") for row in rows} - {None}
        found = (
            visible(self.user, OffFunnelOrder.objects.all())
            .filter(account_id__in=self.account_ids, on__in=days)
            .order_by("pk")
            if self.account_ids and days
            else ()
        )
        self.records_by_key = _group(found, lambda o: (o.account_id, o.on, o.amount))

    # -- resolving references ---------------------------------------------

    def _owner(self, row: _Row):
        """The row's owner, or None when the row names none and --owner gives none."""
        text = row.get("owner")
        if not text:
            return self.setup.default_owner
        found = self.owners[text]
        if found == "ambiguous":
            row.fail(
                "owner", _("Several users are called %(name)s: give the username.") % {"name": text}
            )
        if found is None:
            if self.setup.default_owner is None:
                row.fail(
                    "owner",
                    _(
                        "No user %(name)s (give a username, full name or email, "
                        "or a default with --owner)."
                    )
                    % {"name": text},
                )
            row.warn(
                "owner",
                _("No user %(name)s: the record goes to %(default)s.")
                % {"name": text, "default": self.setup.default_owner.get_username()},
            )
            found = self.setup.default_owner
        if not self.setup.owner_in_scope(found):
            row.fail(
                "owner",
                _("%(name)s is not in your teams: you cannot import records for them.")
                % {"name": text},
            )
        return found

    def _explicit_team(self, row: _Row) -> Team | None:
        """The team the row or --team names, checked against the user's scope; else None."""
        text = row.get("team")
        if not text:
            return self.setup.team
        team = self.teams[_fold(text)]
        if team is None:
            row.fail("team", _("No team %(name)s.") % {"name": text})
        if not self.setup.team_in_scope(team):
            row.fail("team", _("You are not in team %(name)s.") % {"name": team.name})
        return team

    def _new_account_team(self, row: _Row, owner) -> int:
        team = self._explicit_team(row)
        if team is not None:
            return team.pk
        for who in (self.user, owner):
            if who is None:
                continue
            teams = self.memberships[who.pk]
            if len(teams) == 1:
                return teams[0]
        row.fail(
            "team",
            _("Say which team the account goes to: add a team column or give --team."),
        )

    def _find_account(self, row: _Row) -> Account | None:
        external = row.get("account_external_id")
        name = row.get("account")
        if external:
            hits = self.accounts_by_external.get(external, [])
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                row.fail(
                    "account_external_id",
                    _("Several accounts have the external id %(id)s.") % {"id": external},
                )
            if not name:
                row.fail(
                    "account_external_id",
                    _("No account has the external id %(id)s: import the accounts first.")
                    % {"id": external},
                )
        if not name:
            row.fail("account", _("The account is empty."))
        hits = self.accounts_by_name.get(_fold(name), [])
        if len(hits) > 1:
            row.fail(
                "account",
                _("Several accounts are named %(name)s: give the account's external id.")
                % {"name": name},
            )
        return hits[0] if hits else None

    def _account(self, row: _Row, owner):
        """The row's account (saved, or new in this batch), a ``_NewAccount`` when it
        is to be created with the row, or ``_BAD``."""
        account = self._check(row, self._find_account)
        if account is not None:
            return account
        name = row.get("account")
        if not self.setup.options.create_accounts:
            row.error("account", _("No account %(name)s.") % {"name": name})
            return _BAD
        if owner is _BAD:
            return _BAD  # its team cannot be told
        team_id = self._check(row, self._new_account_team, owner)
        if team_id is _BAD:
            return _BAD
        return _NewAccount(name, owner or self.user, team_id)

    def _made_account(self, row: _Row, account) -> Account:
        """The account of a row that changes an existing record (in its savepoint)."""
        if not isinstance(account, _NewAccount):
            return account
        row.accounts_created += 1
        return _create(
            Account, self.user, name=account.name, owner=account.owner, team=account.team_id
        )

    # -- new records, batched -------------------------------------------------

    def _new_records(self, model) -> _NewRecords:
        new = self._models.get(model)
        if new is None:
            new = self._models[model] = _NewRecords(model)
        if model not in self._started:
            new.start_batch()
            self._started.add(model)
        return new

    def _build(self, model, fields: dict, *, skip: Iterable[str] = ()):
        """An unsaved record as ``actions.create_record`` makes it, checked as it
        checks it (``full_clean`` but for the links), without a query: the links
        come from the batch's look-ups, so they exist, are alive and are in the
        user's scope. ``skip`` names fields already reported. Raises
        ``ValidationError`` with every problem found.

        The record is made without ``Model.__init__`` (its fields' defaults are
        evaluated once per batch) and checked with the checks ``_field_check``
        compiled once per import, which refuse exactly what ``full_clean`` refuses;
        a record they refuse is built and checked again by ``_build_checked``, so
        that its problems are ``full_clean``'s own messages."""
        new = self._new_records(model)
        names = frozenset(fields)
        allowed = new.allowed.get(names)
        if allowed is None:
            try:
                actions._check_names(model, fields, creating=True, source=SOURCE)
                allowed = new.allowed[names] = True
            except ValidationError:
                allowed = new.allowed[names] = False
        if not allowed:
            return self._build_checked(model, fields, skip=skip)
        obj = model.__new__(model)
        obj._state = ModelState()
        values = obj.__dict__
        values.update(new.defaults)
        for attname, default in new.per_row:
            values[attname] = default()
        m2m = {}
        if names & new.many:
            try:
                m2m = actions._assign(obj, fields)
            except ValidationError:
                return self._build_checked(model, fields, skip=skip)
        else:
            # actions._assign, inlined: a link's key and cached record (as its
            # descriptor sets them), a value's enum member as its value.
            for name, value in fields.items():
                link = new.link.get(name)
                if link is None:
                    values[name] = value if type(value) in _PLAIN else actions._plain(value)
                elif isinstance(value, models.Model):
                    values[link.attname] = value.pk
                    link.set_cached_value(obj, value)
                else:
                    values[link.attname] = value
        self._default_owner_and_team(obj, new.names, fields)
        defaults, defaults_ok = new.defaults, new.defaults_ok
        try:
            for attname, check in new.plan(frozenset(skip)):
                value = values[attname]
                if attname in defaults_ok and value is defaults[attname]:
                    continue
                cleaned = check(value, obj)
                if cleaned is not value:
                    values[attname] = cleaned
            if type(obj).clean is not models.Model.clean:
                obj.clean()
        except (ValidationError, _Refused):
            return self._build_checked(model, fields, skip=skip)
        return obj, m2m

    def _default_owner_and_team(self, obj, names, fields: dict) -> None:
        if "owner" in names and "owner" not in fields:
            obj.owner = self.user
        if "team" in names and "team" not in fields:
            account = fields.get("account")
            if account is not None:
                obj.team_id = account.team_id
            elif len(self.memberships[self.user.pk]) == 1:
                obj.team_id = self.memberships[self.user.pk][0]

    def _build_checked(self, model, fields: dict, *, skip: Iterable[str] = ()):
        """``_build`` through ``Model.__init__`` and ``full_clean()`` themselves."""
        actions._check_names(model, fields, creating=True, source=SOURCE)
        obj = model()
        m2m = actions._assign(obj, fields)
        self._default_owner_and_team(obj, {f.name for f in model._meta.concrete_fields}, fields)
        links = [f.name for f in model._meta.concrete_fields if f.is_relation]
        obj.full_clean(exclude=[*links, *skip], validate_unique=False, validate_constraints=False)
        return obj, m2m

    def _add(self, row: _Row, model, account, fields: dict, index: Callable | None = None) -> str:
        """Add the row's new record (and its new account) to the batch; every problem
        the row has is reported together."""
        new_account = None
        if isinstance(account, _NewAccount):
            try:
                new_account, _m2m = self._build(
                    Account,
                    {"name": account.name, "owner": account.owner, "team": account.team_id},
                )
            except ValidationError as exc:
                for message in exc.messages:
                    row.error("account", message)
            else:
                new_account._import_ref = ("new", id(new_account))
            account = new_account
        if account is not None and account is not _BAD:
            fields["account"] = account
        skip = {p.field for p in row.errors}
        try:
            obj, m2m = self._build(model, fields, skip=skip)
        except ValidationError as exc:
            raise _RowFailed(self._merged(row, self._validation_problems(row, exc))) from None
        if row.errors:
            raise _RowFailed(row.errors)
        if new_account is not None:
            row.accounts_created += 1
            self._pending.append(new_account)
            self.accounts_by_name.setdefault(_fold(new_account.name), []).append(new_account)
        self._pending.append(obj)
        for name, pks in m2m.items():
            self._m2m.append((obj, name, pks))
        if index is not None:
            index(obj)
        row.account = account
        return "created"

    def _flush(self) -> None:
        """Insert the batch's pending records, accounts first, then their history:
        one ``executemany`` per table."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        m2m, self._m2m = self._m2m, []
        now = timezone.now()  # what auto_now(_add) fields get on save
        models_in_order = []
        for obj in pending:
            if type(obj) not in models_in_order:
                models_in_order.append(type(obj))
        models_in_order.sort(key=lambda model: model is not Account)
        for model in models_in_order:
            objects = [obj for obj in pending if type(obj) is model]
            for attname in self._new_records(model).auto_now:
                for obj in objects:
                    obj.__dict__[attname] = now
            _insert(model, objects)
        links = {}
        for obj, name, pks in m2m:
            through = getattr(type(obj), name).through
            source, target = _through_columns(type(obj), name)
            links.setdefault(through, []).extend({source: obj.pk, target: pk} for pk in pks)
        for through, rows in links.items():
            _insert_values(through, rows)
        extra = _group(m2m, lambda link: id(link[0]))
        changes = []
        for obj in pending:
            created = {
                k: [None, v] for k, v in snapshot(obj).items() if v not in (None, "", [], {})
            }
            created.update({name: [None, pks] for _o, name, pks in extra.get(id(obj), ()) if pks})
            row = history.values(
                obj, action=Change.Action.CREATE, user=self.user, source=SOURCE, changes=created
            )
            row["at"] = now
            changes.append(row)
        _insert_values(Change, changes)

    # -- writing -------------------------------------------------------------

    def _fields(self, row: _Row, names: Iterable[str]) -> dict:
        """The model fields among ``names`` the row gives, empty cells as the
        field's empty value (fields that cannot be empty are left out)."""
        result = {}
        for name in names:
            if not row.given(name):
                continue
            value = row.values[name]
            if value is _EMPTY:
                model_field = self.kind.model._meta.get_field(name)
                value = _empty(model_field)
                if value is _EMPTY:
                    continue
            result[name] = value
        return result

    def _required(self, row: _Row, *names: str) -> None:
        for name in names:
            if row.get(name) in (None, "") and not row.failed(name):
                row.error(name, _("%(field)s is empty.") % {"field": name})

    def _save(self, row: _Row, existing, changes: dict) -> str:
        existing = _fresh(existing)
        before = existing.version
        saved = actions.update_record(
            existing,
            acting_user=self.user,
            source=SOURCE,
            expected_version=existing.version,
            changes=changes,
        )
        return "updated" if saved.version != before else "skipped"

    def _one(self, row: _Row, name: str, hits: list):
        if len(hits) > 1:
            row.fail(
                name,
                _("Several existing records match %(value)s: make them distinct first.")
                % {"value": row.get(name) or row.texts.get(name, "")},
            )
        return hits[0] if hits else None

    def _account_row(self, row: _Row):
        self._required(row, "name")
        owner = self._check(row, self._owner)
        names = [n for n, f in self.setup.fields.items() if f.model]
        fields = self._fields(row, names)
        external = fields.get("external_id")
        name = fields.get("name")
        existing = None
        if external:
            existing = self._check(
                row, self._one, "external_id", self.accounts_by_external.get(external, [])
            )
        if existing is None and name:
            same_name = self.accounts_by_name.get(_fold(name), [])
            if external:
                same_name = [a for a in same_name if not a.external_id]
            existing = self._check(row, self._one, "name", same_name)
        if existing is not None and existing is not _BAD:
            team = self._check(row, self._explicit_team)
            if row.errors:
                raise _RowFailed(row.errors)
            if owner is not None and row.get("owner"):
                fields["owner"] = owner.pk
            if team is not None:
                fields["team"] = team.pk
            row.account = existing
            return lambda: self._save(row, existing, fields)
        team_id = self._check(row, self._new_account_team, owner) if owner is not _BAD else _BAD
        if owner is not _BAD:
            fields["owner"] = owner or self.user
        if team_id is not _BAD:
            fields["team"] = team_id
        if row.errors and existing is _BAD:
            raise _RowFailed(row.errors)
        try:
            obj, _m2m = self._build(Account, fields, skip={p.field for p in row.errors})
        except ValidationError as exc:
            raise _RowFailed(self._merged(row, self._validation_problems(row, exc))) from None
        if row.errors:
            raise _RowFailed(row.errors)
        self._pending.append(obj)
        if external:
            self.accounts_by_external.setdefault(external, []).append(obj)
        self.accounts_by_name.setdefault(_fold(obj.name), []).append(obj)
        row.account = obj
        return "created"

    def _contact_row(self, row: _Row):
        self._required(row, "name")
        owner = self._check(row, self._owner)
        account = self._account(row, owner)
        names = [n for n, f in self.setup.fields.items() if f.model]
        fields = self._fields(row, names)
        existing = None
        external = fields.get("external_id")
        if isinstance(account, Account) and fields.get("name"):
            ref = _ref(account)
            if external:
                existing = self._check(
                    row, self._one, "external_id", self.records_by_external.get((ref, external), [])
                )
            if existing is None:
                same_name = self.records_by_key.get((ref, _fold(fields["name"])), [])
                if external:
                    same_name = [c for c in same_name if not c.external_id]
                existing = self._check(row, self._one, "name", same_name)
        if existing is _BAD or (existing is not None and row.errors):
            raise _RowFailed(row.errors)
        if existing is not None:
            row.account = account
            return lambda: self._save(row, existing, fields)

        def index(contact):
            ref = _ref(contact.account)
            if external:
                self.records_by_external.setdefault((ref, external), []).append(contact)
            self.records_by_key.setdefault((ref, _fold(contact.name)), []).append(contact)

        return self._add(row, Contact, account, fields, index)

    def _opportunity_row(self, row: _Row):
        self._required(row, "name")
        owner = self._check(row, self._owner)
        account = self._account(row, owner)
        team = self._check(row, self._explicit_team)
        state = self._check(row, self._deal_state)
        stage, outcome = (None, None) if state is _BAD else state
        plain = (
            "name",
            "external_id",
            "amount",
            "currency",
            "expected_close",
            "source",
            "grade",
            "competitors",
        )
        fields = self._fields(row, plain)
        existing = None
        external = fields.get("external_id")
        if external:
            existing = self._check(
                row, self._one, "external_id", self.records_by_external.get(external, [])
            )
        if existing is None and isinstance(account, Account) and fields.get("name"):
            same = self.records_by_key.get((_ref(account), _fold(fields["name"])), [])
            if external:
                same = [o for o in same if not o.external_id]
            existing = self._check(row, self._one, "name", same)
        if existing is _BAD:
            raise _RowFailed(row.errors)
        if (
            "amount" not in fields
            and not row.failed("amount")
            and (existing is None or row.given("amount"))
        ):
            # Salesforce's reports, and its users, count a deal without an amount as 0.
            fields["amount"] = Decimal(0)
            row.warn("amount", _("No amount: taken as 0."))
        self._check(row, self._currency, fields, existing is None)
        if owner not in (None, _BAD) and (existing is None or row.get("owner")):
            fields["owner"] = owner.pk
        if team not in (None, _BAD):
            fields["team"] = team.pk
        closed_on = row.get("closed_on")
        reason = row.get("close_reason") or ""
        if existing is not None:
            if row.errors:
                raise _RowFailed(row.errors)
            row.account = account

            def update():
                row.account = self._made_account(row, account)
                opp = _fresh(existing)
                before = opp.version
                opp = actions.update_record(
                    opp,
                    acting_user=self.user,
                    source=SOURCE,
                    expected_version=opp.version,
                    changes=fields,
                )
                opp = self._move(row, opp, stage, outcome, reason)
                return "updated" if opp.version != before else "skipped"

            return update
        outcome = outcome or Outcome.OPEN
        if outcome == Outcome.WON:
            stage = int(Stage.IMPLEMENTATION)
        state = {"stage": stage or int(Stage.DEVELOPMENT), "outcome": outcome}
        if outcome != Outcome.OPEN:
            closed_on = closed_on or fields.get("expected_close")
            state["closed_on"] = closed_on
            if outcome != Outcome.WON:
                state["close_reason"] = reason or _closed_before_import(outcome)
        entered = row.get("stage_entered_on") or (closed_on if outcome != Outcome.OPEN else None)
        if entered:
            state["stage_entered_on"] = entered

        def index(opp):
            if external:
                self.records_by_external.setdefault(external, []).append(opp)
            self.records_by_key.setdefault((_ref(opp.account), _fold(opp.name)), []).append(opp)

        return self._add(row, Opportunity, account, {**fields, **state}, index)

    def _currency(self, row: _Row, fields: dict, creating: bool) -> None:
        """The currency the row gives or its amount's sign shows (they must agree);
        a new record without either gets the company's currency."""
        hint = row.currency_hint
        given = fields.get("currency") or None
        if hint and given and hint != given:
            row.fail(
                "currency",
                _("The amount is in %(hint)s but the currency says %(given)s.")
                % {"hint": hint, "given": given},
            )
        currency = given or hint or (self.setup.currency if creating else None)
        if currency:
            fields["currency"] = currency
        else:
            fields.pop("currency", None)

    def _deal_state(self, row: _Row) -> tuple[int | None, str | None]:
        """The stage and outcome the row gives (None for what it leaves unsaid);
        fails the row when its columns disagree."""
        claims: list[tuple[str, set]] = []
        stage = None
        closed = {Outcome.WON, Outcome.LOST, Outcome.ABANDONED}
        if row.get("stage") is not None:
            stage, said = row.get("stage")
            # A stage 1-5 is an open deal's, or the stage a closed deal was lost at.
            claims.append(("stage", {said} if said else {Outcome.OPEN, *closed} - {Outcome.WON}))
        if row.get("outcome") is not None:
            claims.append(("outcome", {row.get("outcome")}))
        if row.get("is_won") is not None:
            claims.append(
                (
                    "is_won",
                    {Outcome.WON}
                    if row.get("is_won")
                    else {Outcome.OPEN, Outcome.LOST, Outcome.ABANDONED},
                )
            )
        if row.get("is_closed") is not None:
            claims.append(("is_closed", closed if row.get("is_closed") else {Outcome.OPEN}))
        if not claims:
            return stage, None
        possible = set.intersection(*(c for _n, c in claims))
        if not possible:
            row.fail(
                claims[0][0],
                _("The columns %(columns)s disagree on whether the deal is open, won or lost.")
                % {"columns": ", ".join(row.columns[n] for n, _c in claims)},
            )
        if len(possible) == 1:
            return stage, str(possible.pop())
        if Outcome.OPEN in possible:
            return stage, str(Outcome.OPEN)
        if Outcome.WON not in possible:
            return stage, str(Outcome.LOST)  # closed and not won: lost, as Salesforce counts it
        row.fail(claims[0][0], _("Say whether the closed deal was won or lost."))

    def _move(self, row: _Row, opp: Opportunity, stage, outcome, reason: str) -> Opportunity:
        """Bring an existing deal to the stage and outcome of the row through the verbs."""
        current = (opp.stage, opp.outcome)
        target_outcome = outcome or opp.outcome
        if target_outcome == Outcome.WON:
            target_stage = int(Stage.IMPLEMENTATION)
        else:
            target_stage = stage if stage is not None else opp.stage
        if (target_stage, target_outcome) == current:
            return opp
        closed = (Outcome.LOST, Outcome.ABANDONED)
        if target_outcome == opp.outcome and target_outcome in closed:
            return opp  # the stage a deal was lost at is its history
        if opp.outcome == Outcome.WON:
            row.fail(
                "stage",
                _("KAM has this deal as won; an import does not change a won deal."),
            )
        today = timezone.localdate()
        note = _("Changed by an import.")
        common = {"acting_user": self.user, "source": SOURCE, "on": today}
        if opp.outcome in closed:
            opp = actions.reopen_opportunity(opp, reason=note, **common)
        if target_stage != opp.stage:
            opp = actions.advance_stage(opp, to_stage=target_stage, force_reason=note, **common)
        if target_outcome in closed:
            opp = actions.close_opportunity(
                opp,
                outcome=target_outcome,
                reason=reason or _closed_before_import(target_outcome),
                **common,
            )
        return opp

    def _activity_row(self, row: _Row):
        self._required(row, "kind", "on")
        owner = self._check(row, self._owner)
        account = self._account(row, owner)
        opportunity, contacts = None, []
        if isinstance(account, Account):
            opportunity = self._check(row, self._activity_opportunity, account)
            contacts = [
                self._check(row, self._contact_named, account, n) for n in row.get("contacts") or []
            ]
        fields = self._fields(
            row, ("kind", "on", "notes", "cost", "next_step", "next_pretext", "next_on")
        )
        fields.setdefault("notes", "")
        if row.given("opportunity") or row.given("opportunity_external_id"):
            fields["opportunity"] = opportunity
        if row.given("contacts"):
            fields["contacts"] = contacts
        existing = None
        if isinstance(account, Account) and "kind" in fields and "on" in fields:
            key_ = (_ref(account), fields["on"], fields["kind"], fields["notes"])
            hits = self.records_by_key.get(key_, [])
            existing = hits[0] if hits else None
        if row.errors and (existing is not None or _BAD in contacts or opportunity is _BAD):
            raise _RowFailed(row.errors)
        if existing is not None:
            changes = {k: v for k, v in fields.items() if k not in ("kind", "on", "notes")}
            if owner is not None and row.get("owner"):
                changes["owner"] = owner.pk
            row.account = account
            return lambda: self._save(row, existing, changes)
        if owner is not None and owner is not _BAD:
            fields["owner"] = owner

        def index(activity):
            key_ = (_ref(activity.account), activity.on, activity.kind, activity.notes)
            self.records_by_key.setdefault(key_, []).append(activity)

        return self._add(row, Activity, account, fields, index)

    def _activity_opportunity(self, row: _Row, account: Account) -> Opportunity | None:
        external = row.get("opportunity_external_id")
        name = row.get("opportunity")
        if not external and not name:
            return None
        ref = _ref(account)
        hits = self.deals_by_external.get((ref, external), []) if external else []
        if not hits and name:
            hits = self.deals_by_name.get((ref, _fold(name)), [])
        if len(hits) != 1:
            which = "opportunity_external_id" if external and not name else "opportunity"
            message = (
                _("No opportunity %(name)s at %(account)s.")
                if not hits
                else _("Several opportunities at %(account)s are called %(name)s.")
            )
            row.fail(which, message % {"name": name or external, "account": account.name})
        return hits[0]

    def _contact_named(self, row: _Row, account: Account, name: str) -> Contact:
        hits = self.contacts_by_name.get((_ref(account), _fold(name)), [])
        if len(hits) != 1:
            message = (
                _("No contact %(name)s at %(account)s: import the contacts first.")
                if not hits
                else _("Several contacts at %(account)s are called %(name)s.")
            )
            row.fail("contacts", message % {"name": name, "account": account.name})
        return hits[0]

    def _order_row(self, row: _Row):
        self._required(row, "amount", "on")
        owner = self._check(row, self._owner)
        account = self._account(row, owner)
        fields = self._fields(row, ("amount", "currency", "on", "note"))
        existing = None
        if isinstance(account, Account) and "on" in fields and "amount" in fields:
            hits = self.records_by_key.get((_ref(account), fields["on"], fields["amount"]), [])
            existing = hits[0] if hits else None
        self._check(row, self._currency, fields, existing is None)
        if existing is not None:
            if row.errors:
                raise _RowFailed(row.errors)
            changes = {k: v for k, v in fields.items() if k not in ("on", "amount")}
            if owner is not None and row.get("owner"):
                changes["owner"] = owner.pk
            row.account = account
            return lambda: self._save(row, existing, changes)
        if owner is not None and owner is not _BAD:
            fields["owner"] = owner

        def index(order):
            key_ = (_ref(order.account), order.on, order.amount)
            self.records_by_key.setdefault(key_, []).append(order)

        return self._add(row, OffFunnelOrder, account, fields, index)


def _fresh(record):
    """The record as the database has it now (a row before in the batch may have changed it)."""
    return type(record)._base_manager.get(pk=record.pk)


def _through_columns(model, name: str) -> tuple[str, str]:
    field = model._meta.get_field(name)
    return field.m2m_field_name() + "_id", field.m2m_reverse_field_name() + "_id"


def _find_users(texts: set[str]) -> dict[str, object]:
    """``_find_user`` for many names at once: two queries, whatever their number."""
    User = get_user_model()
    users = User.objects.filter(is_active=True)
    lowered = _variants(one_line(t) for t in texts)
    hits = list(
        users.annotate(_u=Lower("username"), _e=Lower("email")).filter(
            Q(_u__in=lowered) | Q(_e__in=lowered)
        )
    )
    named = None
    found = {}
    for text in texts:
        wanted_text = _fold(one_line(text))
        exact = [u for u in hits if _fold(u.username) == wanted_text] or [
            u for u in hits if u.email and _fold(u.email) == wanted_text
        ]
        if len(exact) == 1:
            found[text] = exact[0]
            continue
        wanted = key(text)
        if not wanted:
            found[text] = None
            continue
        if named is None:
            named = list(users.exclude(first_name="", last_name=""))
        same = [
            u
            for u in named
            if wanted in (key(u.first_name + u.last_name), key(u.last_name + u.first_name))
        ]
        if len(same) == 1:
            found[text] = same[0]
        else:
            found[text] = "ambiguous" if same or exact else None
    return found


def _create(model, user, **fields):
    # A deal's own ``source`` (its lead source) goes in the mapping: ``source=`` is the import.
    return actions.create_record(model, acting_user=user, source=SOURCE, fields=fields)


_SEPARATORS = str.maketrans({";": ",", "，": ",", "；": ",", "、": ",", "/": ","})


def _empty(model_field: models.Field):
    """What an empty cell stores: NULL when the field allows it, "" for text,
    else nothing (the record keeps its value, a new one the default)."""
    if model_field.null:
        return None
    if isinstance(model_field, (models.CharField, models.TextField)) and model_field.blank:
        return ""
    return _EMPTY


def _closed_before_import(outcome: str) -> str:
    return _("Closed as %(outcome)s before the import; the file gives no reason.") % {
        "outcome": Outcome(outcome).label
    }
