"""Backing up and restoring KAM's database.

SQLite (the default): ``backup`` copies the live database with SQLite's online
backup API (``sqlite3.Connection.backup``), which gives a consistent copy while
the server keeps running and writing; ``restore`` first checks that the file is
a KAM SQLite database (an SQLite file holding the ``django_migrations`` table),
backs up the current database beside the others (``kam-before-restore-...``),
then copies the backup into the live database with the same API, so open
connections see the restored data and no stale write-ahead log is left behind.

PostgreSQL (``DATABASE_URL``): ``backup`` runs ``pg_dump --format=custom`` and
``restore`` runs ``pg_restore --clean --if-exists --no-owner`` with the
connection parameters of ``DATABASE_URL`` (the password through ``PGPASSWORD``,
never on the command line). Both need PostgreSQL's client programs
(``apt install postgresql-client``); without them they stop with a message
saying so.

Backups go by default to ``backups/`` in the data directory, named
``kam-YYYYMMDD-HHMMSS.sqlite3`` (or ``.dump``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

SQLITE_MAGIC = b"SQLite format 3\x00"
PAGES_PER_STEP = 1024


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why and what to do."""


def engine(alias: str = "default") -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return "sqlite" if connections[alias].vendor == "sqlite" else "postgresql"


def default_directory() -> Path:
    return Path(settings.DATA_DIR) / "backups"


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def target_path(path: str | Path | None, *, suffix: str, prefix: str = "kam") -> Path:
    """Where a backup goes: ``path`` when it names a file, a timestamped file in
    ``path`` when it is a directory, else in ``default_directory()``. Refuses to
    overwrite a file."""
    if path is None:
        directory = default_directory()
    else:
        given = Path(path).expanduser()
        if not given.is_dir():
            if given.exists():
                raise BackupError(
                    _("%(path)s exists: KAM does not overwrite a backup.") % {"path": given}
                )
            given.parent.mkdir(parents=True, exist_ok=True)
            return given
        directory = given
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{prefix}-{_stamp()}{suffix}"
    n = 1
    while target.exists():
        n += 1
        target = directory / f"{prefix}-{_stamp()}-{n}{suffix}"
    return target


def backup(path: str | Path | None = None, *, progress: Callable | None = None) -> Path:
    """Back up the database; returns the backup's path. ``progress(done, total)``
    is called with pages copied (SQLite only)."""
    if engine() == "sqlite":
        target = target_path(path, suffix=".sqlite3")
        _sqlite_copy(_sqlite_path(), target, progress=progress)
        _check_sqlite(target)
        return target
    target = target_path(path, suffix=".dump")
    argv, env = pg_command("pg_dump", settings.DATABASES["default"])
    _run([*argv, "--format=custom", f"--file={target}"], env, target)
    return target


def restore(path: str | Path, *, progress: Callable | None = None) -> Path | None:
    """Replace the database's content with the backup at ``path``. For SQLite,
    returns the path of the copy of the database as it was before."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise BackupError(_("%(path)s: no such file.") % {"path": source})
    if engine() == "sqlite":
        _check_sqlite(source)
        live = _sqlite_path()
        before = target_path(None, suffix=".sqlite3", prefix="kam-before-restore")
        _sqlite_copy(live, before)
        connections.close_all()
        _sqlite_copy(source, live, progress=progress, standalone=False)
        return before
    argv, env = pg_command("pg_restore", settings.DATABASES["default"])
    _run([*argv, "--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)], env)
    return None


# ---------------------------------------------------------------------------
# SQLite
# ---------------------------------------------------------------------------


def _sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def _sqlite_copy(
    source: Path, target: Path, *, progress: Callable | None = None, standalone: bool = True
) -> None:
    """Copy one SQLite database into another with the online backup API; a
    ``standalone`` copy is one file (no write-ahead log beside it)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:

        def step(status, remaining, total):
            if progress is not None:
                progress(total - remaining, total)

        src.backup(dst, pages=PAGES_PER_STEP, progress=step)
        if standalone:
            dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _check_sqlite(path: Path) -> None:
    """Raise ``BackupError`` unless ``path`` is an intact SQLite database made by KAM."""
    with open(path, "rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(_("%(path)s is not an SQLite database.") % {"path": path})
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "django_migrations" not in tables:
            raise BackupError(
                _("%(path)s is an SQLite database, but not KAM's (no migrations).") % {"path": path}
            )
        verdict = db.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(_("%(path)s is damaged: %(why)s") % {"path": path, "why": verdict})
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            _("%(path)s cannot be read as a database: %(why)s") % {"path": path, "why": exc}
        ) from None
    finally:
        db.close()


# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------


def pg_command(program: str, database: dict) -> tuple[list[str], dict]:
    """The argv and environment to run ``program`` (pg_dump, pg_restore) against
    ``database`` (a Django ``DATABASES`` entry); the password goes in ``PGPASSWORD``."""
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            _(
                "%(program)s is not installed: install PostgreSQL's client programs "
                "(Debian/Ubuntu: apt install postgresql-client) in a version at least the "
                "server's, then run this again."
            )
            % {"program": program}
        )
    argv = [found, "--no-password"]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if database.get(key):
            argv.append(f"{flag}={database[key]}")
    argv.append(f"--dbname={database['NAME']}")
    env = dict(os.environ)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return argv, env


def _run(argv: list[str], env: dict, created: Path | None = None) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        if created is not None and created.exists():
            created.unlink()
        program = Path(argv[0]).name
        raise BackupError(
            _("%(program)s failed (%(code)s): %(why)s")
            % {"program": program, "code": result.returncode, "why": result.stderr.strip()}
        )
