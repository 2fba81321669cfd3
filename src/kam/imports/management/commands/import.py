"""``kam import KIND FILE``: import a CSV or XLSX file; see ``kam.imports.run``."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from kam.imports.mapping import KINDS
from kam.imports.run import ImportOptions, ImportRefused, run_import

# Exit codes scripts can rely on (2 is argparse's, for a malformed command line).
REFUSED = 1  # nothing was written: the file or an option was refused
SOME_ROWS_FAILED = 3  # the valid rows were written, the others reported


class Command(BaseCommand):
    help = (
        "Import accounts, contacts, opportunities, activities or off-funnel orders from a CSV "
        "(UTF-8, UTF-8 with BOM or GB18030; comma, semicolon or tab) or XLSX file. Rows are "
        "matched to existing records, so running a file again updates instead of duplicating. "
        f"Exit status: 0 all rows imported, {SOME_ROWS_FAILED} some rows failed (listed), "
        f"{REFUSED} nothing imported (the file or an option was refused)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS), help="what the rows are")
        parser.add_argument("file", help="the CSV or XLSX file")
        parser.add_argument(
            "--user",
            required=True,
            help="username of who imports: the records they may see are matched, and "
            "the history names them",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report what the import would do, writing nothing",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="read COLUMN as FIELD (repeatable; several columns for one field: the first "
            "non-empty wins, in the order given; COLUMN= ignores the column)",
        )
        parser.add_argument(
            "--map-value",
            action="append",
            default=[],
            metavar="FIELD:VALUE=VALUE",
            help="read VALUE in FIELD as the other VALUE, e.g. stage:Verbal=5 (repeatable)",
        )
        parser.add_argument(
            "--default",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="VALUE for rows that leave FIELD empty (repeatable)",
        )
        parser.add_argument(
            "--date-format",
            help="us (month first), dmy (day first), ymd, or a pattern such as %%d.%%m.%%Y, "
            "for dates such as 03/05/26 that read both ways",
        )
        parser.add_argument(
            "--owner",
            help="username for rows whose owner is empty or unknown (else those rows fail)",
        )
        parser.add_argument("--team", help="team of the records (default: the account's or yours)")
        parser.add_argument("--encoding", help="the CSV file's encoding (default: detected)")
        parser.add_argument("--delimiter", help="the CSV delimiter: , ; or tab (default: detected)")
        parser.add_argument("--sheet", help="the XLSX sheet (default: the first)")
        parser.add_argument(
            "--no-create-accounts",
            action="store_true",
            help="fail rows whose account does not exist instead of creating it",
        )
        parser.add_argument(
            "--failed-rows",
            metavar="PATH",
            help="write the failed rows to PATH as CSV, with an error column",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of the report (default: the site's)",
        )

    def handle(self, *args, **opts):
        with translation.override(opts["language"] or settings.LANGUAGE_CODE):
            return self._import(opts)

    def _import(self, opts):
        user = get_user_model().objects.filter(username=opts["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"--user {opts['user']}: no such active user", returncode=REFUSED)
        try:
            options = ImportOptions.from_strings(
                map=opts["map"],
                map_value=opts["map_value"],
                default=opts["default"],
                encoding=opts["encoding"],
                delimiter=opts["delimiter"],
                sheet=opts["sheet"],
                date_format=opts["date_format"],
                owner=opts["owner"],
                team=opts["team"],
                create_accounts=not opts["no_create_accounts"],
            )
            if opts["failed_rows"]:
                with open(opts["failed_rows"], "w", encoding="utf-8-sig", newline="") as out:
                    report = self._run(opts, user, options, out)
            else:
                report = self._run(opts, user, options, None)
        except ImportRefused as exc:
            raise CommandError(" ".join(exc.messages), returncode=REFUSED) from None
        for line in report.summary():
            self.stdout.write(line)
        if report.failed or report.stopped:
            raise CommandError(
                f"{report.failed} of {report.rows} rows failed", returncode=SOME_ROWS_FAILED
            )

    def _run(self, opts, user, options, out):
        return run_import(
            opts["kind"],
            opts["file"],
            acting_user=user,
            options=options,
            dry_run=opts["dry_run"],
            failed_rows=out,
        )
