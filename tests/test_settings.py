import os
import sqlite3
import subprocess
import sys

import dj_database_url
import pytest

from kam.config.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list


def run_kam(*args, env_extra, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAM_", "DATABASE_URL"))}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "kam.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False)]
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("KAM_X", raw)
    assert env_bool("KAM_X") is expected


def test_env_bool_refuses_a_typo_and_names_the_variable(monkeypatch):
    monkeypatch.setenv("KAM_DEBUG", "ture")
    with pytest.raises(ImproperlyConfiguredEnv, match="KAM_DEBUG='ture' is not a boolean"):
        env_bool("KAM_DEBUG")


def test_env_int_refuses_words(monkeypatch):
    monkeypatch.setenv("KAM_SQLITE_TIMEOUT", "twenty")
    with pytest.raises(ImproperlyConfiguredEnv, match="KAM_SQLITE_TIMEOUT"):
        env_int("KAM_SQLITE_TIMEOUT", 20)


def test_env_list_refuses_an_empty_host(monkeypatch):
    monkeypatch.setenv("KAM_ALLOWED_HOSTS", "kam.example.com,,localhost")
    with pytest.raises(ImproperlyConfiguredEnv, match="empty item"):
        env_list("KAM_ALLOWED_HOSTS", [])


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("KAM_ALLOWED_HOSTS", "kam.example.com, localhost")
    assert env_list("KAM_ALLOWED_HOSTS", []) == ["kam.example.com", "localhost"]


def test_a_bad_debug_value_stops_kam_at_start(tmp_path):
    result = run_kam(
        "check", env_extra={"KAM_DEBUG": "maybe", "KAM_DATA_DIR": str(tmp_path)}, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "KAM_DEBUG='maybe' is not a boolean" in result.stderr


def test_a_short_secret_key_stops_kam_at_start(tmp_path):
    result = run_kam(
        "check", env_extra={"KAM_SECRET_KEY": "short", "KAM_DATA_DIR": str(tmp_path)}, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "KAM_SECRET_KEY is shorter than 32 characters" in result.stderr


def test_an_unsupported_database_url_stops_kam_at_start(tmp_path):
    result = run_kam(
        "check",
        env_extra={"DATABASE_URL": "mysql://u:p@localhost/kam", "KAM_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "unsupported database" in result.stderr


def test_first_run_creates_the_data_dir_with_a_wal_sqlite_database_and_a_private_key(tmp_path):
    data_dir = tmp_path / "fresh" / "data"
    result = run_kam(
        "migrate", "--noinput", env_extra={"KAM_DATA_DIR": str(data_dir)}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(data_dir / "kam.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    key = data_dir / "secret_key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert len(key.read_text()) >= 50


def test_the_database_is_sqlite_with_an_immediate_write_lock_or_the_database_url(settings):
    """Without DATABASE_URL the suite runs on SQLite, which takes the write lock at BEGIN
    and waits when busy; with it (the second CI pass) on the PostgreSQL it names."""
    database = settings.DATABASES["default"]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        expected = dj_database_url.parse(url)
        assert database["ENGINE"] == "django.db.backends.postgresql"
        # NAME is left out: the test runner swaps in its own test_<name> database.
        for key in ("USER", "HOST", "PORT"):
            assert database[key] == expected[key]
        return
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    options = database["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] == 20
    assert "journal_mode=WAL" in options["init_command"]


def test_behind_an_https_proxy_kam_trusts_x_forwarded_proto_and_secures_cookies(tmp_path):
    script = (
        "from django.conf import settings; "
        "print(settings.SECURE_PROXY_SSL_HEADER, settings.SESSION_COOKIE_SECURE)"
    )
    behind = run_kam(
        "shell",
        "-v",
        "0",
        "-c",
        script,
        env_extra={"KAM_HTTPS_PROXY": "1", "KAM_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
    )
    direct = run_kam(
        "shell", "-v", "0", "-c", script, env_extra={"KAM_DATA_DIR": str(tmp_path)}, cwd=tmp_path
    )
    assert behind.stdout.split() == ["('HTTP_X_FORWARDED_PROTO',", "'https')", "True"], (
        behind.stderr
    )
    assert direct.stdout.split() == ["None", "False"], direct.stderr
