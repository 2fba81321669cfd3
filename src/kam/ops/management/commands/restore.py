"""``kam restore PATH --yes``: see ``kam.ops.backup``."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kam.cli import ERROR, ProgressLine
from kam.ops.backup import BackupError, engine, restore


class Command(BaseCommand):
    help = (
        "Replace the database's content with a backup made by `kam backup`. SQLite: the file "
        "must be a KAM database; the current database is first backed up beside the others "
        "(kam-before-restore-...). PostgreSQL: pg_restore --clean of a pg_dump custom-format "
        "file. Everything written since the backup is lost, so it asks first; --yes answers "
        "for scripts. Run `kam migrate` afterwards if the backup is from an older KAM. "
        f"Exit status: 0 done, {ERROR} refused or failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup file")
        parser.add_argument(
            "--yes", action="store_true", help="do not ask: replace the database's content"
        )

    def handle(self, *args, **opts):
        if not opts["yes"]:
            if not sys.stdin.isatty():
                raise CommandError(
                    _("Restoring replaces everything in the database: add --yes to go ahead."),
                    returncode=ERROR,
                )
            answer = input(
                _("Replace everything in the %(engine)s database with %(path)s? [y/N] ")
                % {"engine": engine(), "path": opts["path"]}
            )
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError(_("Nothing restored."), returncode=ERROR)
        progress = ProgressLine("pages")

        def step(done, total):
            progress.total = total
            progress(done)

        try:
            before = restore(opts["path"], progress=step)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc), returncode=ERROR) from None
        finally:
            progress.close()
        if before is not None:
            self.stdout.write(
                _("The database as it was before is kept in %(path)s") % {"path": before}
            )
        self.stdout.write(
            _("Restored %(path)s. Run `kam migrate` if it predates this KAM.")
            % {"path": opts["path"]}
        )
