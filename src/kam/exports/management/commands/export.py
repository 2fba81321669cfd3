"""``kam export KIND --format csv|xlsx --user USERNAME``: see ``kam.exports``."""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kam.cli import ERROR, USAGE, ProgressLine
from kam.exports.files import write_csv, write_xlsx
from kam.exports.rows import FILTERS, KINDS, ExportRefused, export_rows


class Command(BaseCommand):
    help = (
        "Export the accounts, contacts, opportunities, activities, off-funnel orders or leads "
        "a user may see, as CSV (UTF-8; to stdout unless --output) or XLSX, narrowed by the "
        "list filters. The columns are KAM's field names, so `kam import` reads the file "
        "back. Text cells a spreadsheet would run as a formula (starting with = + - @, tab "
        "or carriage return) get a leading single quote. "
        f"Exit status: 0 done, {ERROR} refused (unknown user or filter value), "
        f"{USAGE} wrong command line."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS), help="what to export")
        parser.add_argument(
            "--format", choices=("csv", "xlsx"), default="csv", help="file format (default csv)"
        )
        parser.add_argument(
            "--user",
            required=True,
            help="username whose view is exported: only the records they may see",
        )
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            help="write to FILE (required for xlsx; CSV files get a BOM so Excel reads "
            "Chinese); default: CSV to stdout",
        )
        parser.add_argument("--owner", help="only records of this owner (username)")
        parser.add_argument("--team", help="only records of this team (name)")
        parser.add_argument("--stage", help="opportunities at this stage (1-6)")
        parser.add_argument("--outcome", help="opportunities with this outcome (open, won ...)")
        parser.add_argument("--grade", help="this grade (A-D); an account's for its records")
        parser.add_argument("--industry", help="accounts (or records of accounts) in industry")
        parser.add_argument("--region", help="accounts (or records of accounts) in this region")
        parser.add_argument("--q", help="a word in the names and notes")

    def handle(self, *args, **opts):
        user = get_user_model().objects.filter(username=opts["user"], is_active=True).first()
        if user is None:
            raise CommandError(
                _("--user %(name)s: no such active user") % {"name": opts["user"]}, returncode=ERROR
            )
        if opts["format"] == "xlsx" and not opts["output"]:
            raise CommandError(_("--format xlsx needs --output FILE"), returncode=USAGE)
        progress = ProgressLine(opts["kind"])
        try:
            rows = export_rows(
                opts["kind"], user, {name: opts[name] for name in FILTERS}, progress=progress
            )
            if progress.enabled:
                progress.total = rows.count()
        except ExportRefused as exc:
            raise CommandError(" ".join(exc.messages), returncode=ERROR) from None
        try:
            count = self._write(rows, opts)
        finally:
            progress.close()
        if opts["output"]:
            self.stderr.write(f"{count} {opts['kind']} → {opts['output']}")

    def _write(self, rows, opts) -> int:
        if opts["format"] == "xlsx":
            return write_xlsx(rows, opts["output"], sheet=opts["kind"])
        if opts["output"]:
            with open(opts["output"], "w", encoding="utf-8", newline="") as out:
                return write_csv(rows, out, bom=True)
        stream = self.stdout._out if hasattr(self.stdout, "_out") else sys.stdout
        return write_csv(rows, stream)
