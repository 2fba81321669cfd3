from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kam import assets


class Command(BaseCommand):
    help = (
        "Fetch the front-end libraries pinned in assets.lock.json, verify their sha512 "
        "integrity and extract the listed files into kam/web/static/vendor/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lock", type=Path, default=assets.DEFAULT_LOCK, help="the lock file")
        parser.add_argument("--dest", type=Path, default=assets.DEFAULT_DEST, help="vendor folder")

    def handle(self, *args, lock, dest, **options):
        try:
            assets.fetch(assets.load_lock(lock), dest, report=self.stdout.write)
        except assets.AssetError as exc:
            raise CommandError(str(exc)) from None
