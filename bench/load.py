"""The daily mix under load: 20 simulated users against ``kam serve`` for a minute.

``kam serve 127.0.0.1:<free port>`` (granian and the task worker, as deployed) runs
on a copy of the data (SQLite) or on the database ``database_url`` names (prepared
by the caller); locust, headless, runs ``bench/locustfile.py`` against it: each
user signs in as one of the generated users (reps, managers and the admin), then
works through My day, the opportunity list, opportunities, accounts and the funnel
with 1-3 s between requests, logging an activity on one request in five.

Results: p95 and p99 of every request (locust's aggregated row), the number of
failed requests, and how many times "database is locked" appears in the server's
log. Targets: p95 <= 250 ms, p99 <= 1 s, no errors, no "database is locked".

    .venv/bin/python bench/load.py --preset small --seconds 20
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import KAM, PASSWORD, Result, copy_of, data_dir

HOST = "127.0.0.1"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
P95, P99 = 0.250, 1.0
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0  # kam serve gives its children 30 s
LOCKED = "database is locked"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _usernames(env: dict, users: int) -> list[str]:
    """``users`` sign-ins spread over the generated users: the admin, a manager for
    every six users, reps for the rest (reps repeat when there are fewer)."""
    listed = subprocess.run(
        [
            KAM,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model;"
            "print('USERS:' + ','.join(get_user_model().objects.filter(is_active=True)"
            ".order_by('username').values_list('username', flat=True)))",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names = next(line for line in listed.splitlines() if line.startswith("USERS:"))
    names = names.removeprefix("USERS:").split(",")
    reps = [n for n in names if n.startswith("rep")]
    managers = [n for n in names if n.startswith("mgr")]
    admins = [n for n in names if n == "admin"]
    assert reps and managers and admins, f"not the generated users: {names[:10]}"
    chosen = admins[:1] + managers[: min(len(managers), max(1, users // 6))]
    chosen += [reps[i % len(reps)] for i in range(max(0, users - len(chosen)))]
    return chosen[:users]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"kam serve stopped ({server.returncode}):\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"kam serve did not answer on {url} within {START_TIMEOUT:.0f} s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _aggregated(stats: Path) -> tuple[dict, list[dict]]:
    with stats.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return next(row for row in rows if row["Name"] == "Aggregated"), rows


def _failures(path: Path) -> str:
    """The most frequent failure, for the note."""
    if not path.exists():
        return ""
    with path.open(newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: -int(r["Occurrences"]))
    if not rows:
        return ""
    top = rows[0]
    return f"; most: {top['Occurrences']}x {top['Method']} {top['Name']}: {top['Error'][:80]}"


# Requests made once per simulated user before its day starts.
SETUP = ("sign-in form", "sign in", "[ids]")


def _work_percentiles(path: Path) -> str:
    """p95 and p99 of the day's work alone (without signing in and looking up ids)."""
    if not path.exists():
        return ""
    times = sorted(
        float(ms)
        for name, _tab, ms in (line.rpartition("\t") for line in path.read_text().splitlines())
        if not any(name.endswith(step) for step in SETUP)
    )
    if not times:
        return ""

    def pick(q):
        return times[min(len(times) - 1, int(q * len(times)))]

    return f"; without sign-in: p95 {pick(0.95):.0f} ms, p99 {pick(0.99):.0f} ms"


def run(
    data: Path,
    *,
    database_url: str | None = None,
    seconds: int = 60,
    users: int = 20,
    keep: Path | None = None,
) -> list[Result]:
    """``keep``: a folder to copy locust's CSV files and both logs into."""
    with tempfile.TemporaryDirectory(prefix="kam-bench-load-") as tmp:
        tmp = Path(tmp)
        workdir = tmp / "data"
        if database_url:
            workdir.mkdir()
        else:
            copy_of(data, workdir)
        env = {
            **os.environ,
            "KAM_DATA_DIR": str(workdir),
            "KAM_DEBUG": "0",
            "KAM_ALLOWED_HOSTS": f"{HOST},localhost",
        }
        env.setdefault("KAM_SECRET_KEY", "bench-" + "x" * 40)
        if database_url:
            env["DATABASE_URL"] = database_url
        else:
            env.pop("DATABASE_URL", None)
        backend = "PostgreSQL" if database_url else "SQLite"
        if not database_url:
            # A cached data set may predate a migration that adds no data (an index).
            subprocess.run([KAM, "migrate", "--noinput", "-v0"], env=env, check=True)
        names = _usernames(env, users)

        port = _free_port()
        host = f"http://{HOST}:{port}"
        assert HOST == "127.0.0.1", "loopback only"
        server_log = tmp / "server.log"
        with server_log.open("wb") as log:
            server = subprocess.Popen(
                [KAM, "serve", f"{HOST}:{port}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(f"{host}/accounts/login/", server, server_log)
            locust_log = tmp / "locust.log"
            with locust_log.open("wb") as log:
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "locust",
                        "-f",
                        str(LOCUSTFILE),
                        "--headless",
                        "--host",
                        host,
                        "-u",
                        str(users),
                        "-r",
                        "5",
                        "--run-time",
                        f"{seconds}s",
                        "--stop-timeout",
                        "10",
                        "--csv",
                        str(tmp / "locust"),
                        "--only-summary",
                        # Sign-ins happen while the users are spawned; the figures are of
                        # the day's work after that (a rep signs in once, not per request).
                        "--reset-stats",
                    ],
                    env={
                        **os.environ,
                        "KAM_BENCH_USERS": ",".join(names),
                        "KAM_BENCH_PASSWORD": PASSWORD,
                        "KAM_BENCH_TIMES": str(tmp / "times.tsv"),
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=seconds + 120,
                )
        finally:
            _stop(server)
        stats = tmp / "locust_stats.csv"
        if not stats.exists():
            raise RuntimeError(
                f"locust wrote no statistics (exit {done.returncode}):\n"
                + locust_log.read_text()[-3000:]
            )
        total, rows = _aggregated(stats)
        requests, errors = int(total["Request Count"]), int(total["Failure Count"])
        p95, p99 = float(total["95%"]) / 1000, float(total["99%"]) / 1000
        slowest = max(
            (r for r in rows if r["Name"] != "Aggregated" and r["95%"] not in ("", "N/A")),
            key=lambda r: float(r["95%"]),
        )
        server_text = server_log.read_text(errors="replace")
        locked = server_text.count(LOCKED)
        failures = _failures(tmp / "locust_failures.csv")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for path in [*tmp.glob("locust*"), server_log, tmp / "times.tsv"]:
                if path.is_file():
                    shutil.copy2(path, keep / path.name)
        work = _work_percentiles(tmp / "times.tsv")

    who = f"{users} users"
    base = f"{backend}, {seconds} s, {requests} requests ({float(total['Requests/s']):.1f}/s)"
    slow = f"; slowest p95: {slowest['Type']} {slowest['Name']} {float(slowest['95%']):.0f} ms"
    return [
        Result("load p95, daily mix", who, p95, "<= 250 ms", p95 <= P95, note=base + work + slow),
        Result("load p99, daily mix", who, p99, "<= 1 s", p99 <= P99, note=base + work),
        Result(
            "load errors",
            who,
            None,
            "0 failed requests",
            errors == 0,
            note=f"{errors} of {requests} failed" + failures,
        ),
        Result(
            "load database is locked",
            who,
            None,
            '0 "database is locked"',
            locked == 0,
            note=f"{locked} in the server's log",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--database-url", default=None, help="a prepared PostgreSQL database (default: SQLite)"
    )
    parser.add_argument("--keep", type=Path, help="copy locust's CSV files and the logs here")
    parser.add_argument("--data", type=Path, help="this data directory instead of the preset's")
    args = parser.parse_args()
    results = run(
        args.data or data_dir(args.preset),
        database_url=args.database_url,
        seconds=args.seconds,
        users=args.users,
        keep=args.keep,
    )
    from run import print_table

    print_table(results)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
