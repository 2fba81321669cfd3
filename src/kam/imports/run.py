"""Running an import: every valid row written through ``kam.sales.actions``,
every bad row reported with its line, column and reason.

``run_import(kind, source, acting_user=..., options=..., dry_run=...)`` reads
the file (``kam.imports.readers``), matches columns and values
(``kam.imports.mapping``) and writes each row in its own transaction, with
history rows marked as coming from an import. The ``ImportReport`` counts
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
- A row commits on its own: an import killed half-way leaves whole rows only,
  and running it again completes it (the rows done are then skipped).
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
from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, TextIO

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.history.models import Change
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
) -> ImportReport:
    """Import the rows of ``source`` (a path, or a binary file that can seek) as
    records of ``kind`` for ``acting_user`` and return the report.

    ``failed_rows``, a text stream, receives the failed rows as CSV: the file's
    columns and an ``error`` column with the reasons. ``progress`` is called with
    the count of rows done after each row. Raises ``ImportRefused`` when the file
    or the options are refused as a whole (nothing is written then).
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
        with transaction.atomic() if dry_run else nullcontext():
            rows = iter(table)
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
                problems = importer.import_row(line, row)
                if problems:
                    writer.write(row, problems)
                if progress is not None:
                    progress(report.rows)
            if dry_run:
                transaction.set_rollback(True)
    report.check()
    return report


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
    User = get_user_model()
    text = one_line(text)
    users = User.objects.filter(is_active=True)
    exact = list(users.filter(username__iexact=text)[:2]) or list(
        users.filter(email__iexact=text)[:2]
    )
    if len(exact) == 1:
        return exact[0]
    wanted = key(text)
    if not wanted:
        return None
    named = [
        u
        for u in users.exclude(first_name="", last_name="")
        if wanted in (key(u.first_name + u.last_name), key(u.last_name + u.first_name))
    ]
    if len(named) == 1:
        return named[0]
    return "ambiguous" if named or exact else None


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------

_EMPTY = object()


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

    def given(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default=None):
        value = self.values.get(name, _EMPTY)
        return default if value is _EMPTY else value

    def problem(self, name: str, message: str) -> Problem:
        return Problem(self.line, self.columns.get(name, ""), name, message)

    def fail(self, name: str, message: str):
        raise _RowFailed([*self.errors, self.problem(name, message)])

    def warn(self, name: str, message: str) -> None:
        self.warnings.append(self.problem(name, message))


class _Importer:
    def __init__(self, setup: _Setup, columns: m.ColumnMap, orders: dict, report: ImportReport):
        self.setup = setup
        self.kind = setup.kind
        self.user = setup.user
        self.columns = columns
        self.orders = orders
        self.report = report
        self.owners: dict[str, object] = {}
        self.teams: dict[str, Team | None] = {}
        self.write = {
            "accounts": self._account_row,
            "contacts": self._contact_row,
            "opportunities": self._opportunity_row,
            "activities": self._activity_row,
            "off-funnel-orders": self._order_row,
        }[self.kind.name]

    def import_row(self, line: int, cells: dict) -> list[Problem]:
        """Import one row; return its errors (empty when it was written)."""
        row = self._read(line, cells)
        outcome = None
        try:
            if row.errors:
                raise _RowFailed(row.errors)
            with transaction.atomic():
                outcome = self.write(row)
        except _RowFailed as exc:
            problems = exc.problems
        except ValidationError as exc:
            problems = self._validation_problems(row, exc)
        except PermissionDenied as exc:
            problems = [Problem(line, "", "", str(exc) or _("You may not do this."))]
        except (IntegrityError, DataError) as exc:
            problems = [
                Problem(line, "", "", _("The database refused the row: %(error)s") % {"error": exc})
            ]
        else:
            problems = []
        report = self.report
        for warning in row.warnings if outcome else ():
            report._keep(report.warnings, warning)
        if problems:
            report.failed += 1
            for problem in problems:
                report._keep(report.errors, problem)
            return problems
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.accounts_created += row.accounts_created
        return []

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
        for name, spec in self.setup.fields.items():
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

    # -- resolving references ---------------------------------------------

    def _owner(self, row: _Row):
        """The row's owner, or None when the row names none and --owner gives none."""
        text = row.get("owner")
        if not text:
            return self.setup.default_owner
        if text not in self.owners:
            self.owners[text] = _find_user(text)
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
        if text not in self.teams:
            self.teams[text] = Team.objects.filter(name__iexact=text).first()
        team = self.teams[text]
        if team is None:
            row.fail("team", _("No team %(name)s.") % {"name": text})
        if not self.setup.team_in_scope(team):
            row.fail("team", _("You are not in team %(name)s.") % {"name": team.name})
        return team

    def _new_account_team(self, row: _Row, owner) -> Team:
        team = self._explicit_team(row)
        if team is not None:
            return team
        for who in (self.user, owner):
            if who is None:
                continue
            teams = list(Membership.objects.filter(user=who).values_list("team_id", flat=True)[:2])
            if len(teams) == 1:
                return Team.objects.get(pk=teams[0])
        row.fail(
            "team",
            _("Say which team the account goes to: add a team column or give --team."),
        )

    def _find_account(self, row: _Row) -> Account | None:
        accounts = visible(self.user, Account.objects.all())
        external = row.get("account_external_id")
        name = row.get("account")
        if external:
            if m.model_has(Account, "external_id"):
                hits = list(accounts.filter(external_id=external)[:2])
                if len(hits) == 1:
                    return hits[0]
                if len(hits) > 1:
                    row.fail(
                        "account_external_id",
                        _("Several accounts have the external id %(id)s.") % {"id": external},
                    )
            if not name:
                if not m.model_has(Account, "external_id"):
                    row.fail(
                        "account_external_id",
                        _(
                            "Accounts keep no external id in this version of KAM: "
                            "give the account's name in a column mapped to account."
                        ),
                    )
                row.fail(
                    "account_external_id",
                    _("No account has the external id %(id)s: import the accounts first.")
                    % {"id": external},
                )
        if not name:
            row.fail("account", _("The account is empty."))
        hits = list(accounts.filter(name__iexact=name)[:2])
        if len(hits) > 1:
            row.fail(
                "account",
                _("Several accounts are named %(name)s: give the account's external id.")
                % {"name": name},
            )
        return hits[0] if hits else None

    def _account(self, row: _Row, owner) -> Account:
        """The row's account, created when it does not exist (and that is allowed)."""
        account = self._find_account(row)
        if account is not None:
            return account
        name = row.get("account")
        if not self.setup.options.create_accounts:
            row.fail("account", _("No account %(name)s.") % {"name": name})
        team = self._new_account_team(row, owner)
        row.accounts_created += 1
        return _create(
            Account,
            self.user,
            name=name,
            owner=owner or self.user,
            team=team,
        )

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
            if row.get(name) in (None, ""):
                row.fail(name, _("%(field)s is empty.") % {"field": name})

    def _save(self, existing, changes: dict, create: Callable) -> str:
        if existing is None:
            create()
            return "created"
        before = existing.version
        saved = actions.update_record(
            existing,
            acting_user=self.user,
            source=SOURCE,
            expected_version=existing.version,
            changes=changes,
        )
        return "updated" if saved.version != before else "skipped"

    def _account_row(self, row: _Row) -> str:
        self._required(row, "name")
        owner = self._owner(row)
        names = [n for n, f in self.setup.fields.items() if f.model]
        fields = self._fields(row, names)
        accounts = visible(self.user, Account.objects.all())
        existing = None
        external = fields.get("external_id")
        if external:
            existing = self._one(row, "external_id", accounts.filter(external_id=external))
        if existing is None:
            same_name = accounts.filter(name__iexact=fields["name"])
            if external:
                same_name = same_name.filter(external_id="")
            existing = self._one(row, "name", same_name)
        if existing is not None:
            team = self._explicit_team(row)
            if owner is not None and row.get("owner"):
                fields["owner"] = owner.pk
            if team is not None:
                fields["team"] = team.pk
            return self._save(existing, fields, None)
        team = self._new_account_team(row, owner)
        _create(
            Account,
            self.user,
            owner=owner or self.user,
            team=team,
            **fields,
        )
        return "created"

    def _one(self, row: _Row, name: str, queryset):
        hits = list(queryset[:2])
        if len(hits) > 1:
            row.fail(
                name,
                _("Several existing records match %(value)s: make them distinct first.")
                % {"value": row.get(name) or row.texts.get(name, "")},
            )
        return hits[0] if hits else None

    def _contact_row(self, row: _Row) -> str:
        self._required(row, "name")
        account = self._account(row, self._owner(row))
        names = [n for n, f in self.setup.fields.items() if f.model]
        fields = self._fields(row, names)
        contacts = Contact.objects.filter(account=account)
        existing = None
        external = fields.get("external_id")
        if external:
            existing = self._one(row, "external_id", contacts.filter(external_id=external))
        if existing is None:
            same_name = contacts.filter(name__iexact=fields["name"])
            if external:
                same_name = same_name.filter(external_id="")
            existing = self._one(row, "name", same_name)
        return self._save(
            existing,
            fields,
            lambda: _create(Contact, self.user, account=account, **fields),
        )

    def _opportunity_row(self, row: _Row) -> str:
        self._required(row, "name")
        owner = self._owner(row)
        account = self._account(row, owner)
        team = self._explicit_team(row)
        stage, outcome = self._deal_state(row)
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
        opportunities = visible(self.user, Opportunity.objects.all())
        existing = None
        external = fields.get("external_id")
        if external:
            existing = self._one(row, "external_id", opportunities.filter(external_id=external))
        if existing is None:
            same = opportunities.filter(account=account, name__iexact=fields["name"])
            if external:
                same = same.filter(external_id="")
            existing = self._one(row, "name", same)
        if "amount" not in fields and (existing is None or row.given("amount")):
            # Salesforce's reports, and its users, count a deal without an amount as 0.
            fields["amount"] = Decimal(0)
            row.warn("amount", _("No amount: taken as 0."))
        self._currency(row, fields, creating=existing is None)
        if owner is not None and (existing is None or row.get("owner")):
            fields["owner"] = owner.pk
        if team is not None:
            fields["team"] = team.pk
        closed_on = row.get("closed_on")
        reason = row.get("close_reason") or ""
        if existing is not None:
            before = existing.version
            opp = actions.update_record(
                existing,
                acting_user=self.user,
                source=SOURCE,
                expected_version=existing.version,
                changes=fields,
            )
            opp = self._move(row, opp, stage, outcome, reason)
            return "updated" if opp.version != before else "skipped"
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
        _create(Opportunity, self.user, account=account, **fields, **state)
        return "created"

    def _currency(self, row: _Row, fields: dict, *, creating: bool) -> None:
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

    def _activity_row(self, row: _Row) -> str:
        self._required(row, "kind", "on")
        owner = self._owner(row)
        account = self._account(row, owner)
        opportunity = self._activity_opportunity(row, account)
        contacts = [self._contact_named(row, account, n) for n in row.get("contacts") or []]
        fields = self._fields(
            row, ("kind", "on", "notes", "cost", "next_step", "next_pretext", "next_on")
        )
        fields.setdefault("notes", "")
        if row.given("opportunity") or row.given("opportunity_external_id"):
            fields["opportunity"] = opportunity
        if row.given("contacts"):
            fields["contacts"] = contacts
        existing = (
            visible(self.user, Activity.objects.all())
            .filter(account=account, on=fields["on"], kind=fields["kind"], notes=fields["notes"])
            .order_by("pk")
            .first()
        )
        if existing is not None:
            changes = {k: v for k, v in fields.items() if k not in ("kind", "on", "notes")}
            if owner is not None and row.get("owner"):
                changes["owner"] = owner.pk
            return self._save(existing, changes, None)
        if owner is not None:
            fields["owner"] = owner
        actions.log_activity(account=account, acting_user=self.user, source=SOURCE, **fields)
        return "created"

    def _activity_opportunity(self, row: _Row, account: Account) -> Opportunity | None:
        external = row.get("opportunity_external_id")
        name = row.get("opportunity")
        if not external and not name:
            return None
        deals = Opportunity.objects.filter(account=account)
        hits = list(deals.filter(external_id=external)[:2]) if external else []
        if not hits and name:
            hits = list(deals.filter(name__iexact=name)[:2])
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
        hits = list(Contact.objects.filter(account=account, name__iexact=name)[:2])
        if len(hits) != 1:
            message = (
                _("No contact %(name)s at %(account)s: import the contacts first.")
                if not hits
                else _("Several contacts at %(account)s are called %(name)s.")
            )
            row.fail("contacts", message % {"name": name, "account": account.name})
        return hits[0]

    def _order_row(self, row: _Row) -> str:
        self._required(row, "amount", "on")
        owner = self._owner(row)
        account = self._account(row, owner)
        fields = self._fields(row, ("amount", "currency", "on", "note"))
        existing = (
            visible(self.user, OffFunnelOrder.objects.all())
            .filter(account=account, on=fields["on"], amount=fields["amount"])
            .order_by("pk")
            .first()
        )
        self._currency(row, fields, creating=existing is None)
        if existing is not None:
            changes = {k: v for k, v in fields.items() if k not in ("on", "amount")}
            if owner is not None and row.get("owner"):
                changes["owner"] = owner.pk
            return self._save(existing, changes, None)
        actions.add_off_funnel_order(
            account,
            acting_user=self.user,
            source=SOURCE,
            owner=owner,
            **fields,
        )
        return "created"


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
