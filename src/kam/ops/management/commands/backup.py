"""``kam backup [PATH]``: see ``kam.ops.backup``."""

from django.core.management.base import BaseCommand, CommandError

from kam.cli import ERROR, ProgressLine
from kam.ops.backup import BackupError, backup, default_directory


class Command(BaseCommand):
    help = (
        "Back up the database while KAM keeps running: SQLite with its online backup API, "
        "PostgreSQL with pg_dump (custom format, for pg_restore). PATH is a file, or a "
        "directory for a timestamped file; default: backups/ in the data directory. Prints "
        f"the backup's path. Exit status: 0 done, {ERROR} failed (nothing kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            help=f"file or directory for the backup (default: {default_directory()})",
        )

    def handle(self, *args, **opts):
        progress = ProgressLine("pages")

        def step(done, total):
            progress.total = total
            progress(done)

        try:
            path = backup(opts["path"], progress=step)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc), returncode=ERROR) from None
        finally:
            progress.close()
        self.stdout.write(str(path))
