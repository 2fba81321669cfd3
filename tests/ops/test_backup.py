"""``kam backup`` and ``kam restore``: on a real SQLite file, through the real ``kam``."""

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from kam.ops import backup as ops


def _env(data_dir):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KAM_DATA_DIR=str(data_dir), KAM_DEBUG="1", KAM_TIME_ZONE="UTC")
    return env


def kam(data_dir, *args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "kam.cli", *args],
        env=_env(data_dir),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A data directory with a migrated SQLite database and a user alice, made once and
    copied per test."""
    data = tmp_path_factory.mktemp("template")
    done = kam(data, "migrate", "-v0")
    assert done.returncode == 0, done.stderr
    _add(data, "alice")
    return data


@pytest.fixture
def data_dir(migrated, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(migrated, target)
    return target


def _users(db):
    with sqlite3.connect(db) as conn:
        return sorted(r[0] for r in conn.execute("SELECT username FROM auth_user"))


def _add(data_dir, username):
    done = kam(
        data_dir,
        "createuser",
        username,
        "--team",
        "north",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert done.returncode == 0, done.stderr


def test_a_backup_restores_the_database_as_it_was(data_dir):
    made = kam(data_dir, "backup")
    assert made.returncode == 0, made.stderr
    path = made.stdout.strip()
    assert path.startswith(str(data_dir / "backups" / "kam-"))
    _add(data_dir, "bob")

    restored = kam(data_dir, "restore", path, "--yes")

    assert restored.returncode == 0, restored.stderr
    assert _users(data_dir / "kam.sqlite3") == ["alice"]
    before = next((data_dir / "backups").glob("kam-before-restore-*.sqlite3"))
    assert _users(before) == ["alice", "bob"]


def test_a_backup_into_a_directory_is_one_timestamped_self_contained_file(data_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()

    made = kam(data_dir, "backup", str(out))

    assert made.returncode == 0, made.stderr
    name = os.path.basename(made.stdout.strip())
    assert os.listdir(out) == [name]
    assert name.startswith("kam-") and name.endswith(".sqlite3")
    assert _users(out / name) == ["alice"]


def test_a_backup_never_overwrites_a_file(data_dir, tmp_path):
    existing = tmp_path / "old.sqlite3"
    existing.write_text("precious")

    made = kam(data_dir, "backup", str(existing))

    assert made.returncode == 1
    assert "does not overwrite" in made.stderr
    assert existing.read_text() == "precious"


@pytest.mark.parametrize("kind", ["text", "sqlite without migrations"])
def test_restore_refuses_a_file_that_is_not_a_kam_database(data_dir, tmp_path, kind):
    other = tmp_path / "other.sqlite3"
    if kind == "text":
        other.write_text("name,amount\n")
    else:
        with sqlite3.connect(other) as conn:
            conn.execute("CREATE TABLE t (x)")

    done = kam(data_dir, "restore", str(other), "--yes")

    assert done.returncode == 1
    assert "not" in done.stderr
    assert _users(data_dir / "kam.sqlite3") == ["alice"]


def test_restore_asks_for_yes_when_no_one_can_answer(data_dir, migrated):
    done = kam(data_dir, "restore", str(migrated / "kam.sqlite3"))

    assert done.returncode == 1
    assert "--yes" in done.stderr
    assert _users(data_dir / "kam.sqlite3") == ["alice"]


def test_postgresql_tools_get_the_connection_and_the_password_stays_off_the_command_line(
    monkeypatch,
):
    monkeypatch.setattr(ops.shutil, "which", lambda name: f"/usr/bin/{name}")
    database = {"NAME": "kam", "HOST": "db", "PORT": 5433, "USER": "kam", "PASSWORD": "s3cret"}

    argv, env = ops.pg_command("pg_dump", database)

    assert argv == [
        "/usr/bin/pg_dump",
        "--no-password",
        "--host=db",
        "--port=5433",
        "--username=kam",
        "--dbname=kam",
    ]
    assert env["PGPASSWORD"] == "s3cret"
    assert not any("s3cret" in a for a in argv)


def test_a_missing_pg_dump_says_what_to_install(monkeypatch):
    monkeypatch.setattr(ops.shutil, "which", lambda name: None)

    with pytest.raises(ops.BackupError, match="postgresql-client"):
        ops.pg_command("pg_dump", {"NAME": "kam"})
