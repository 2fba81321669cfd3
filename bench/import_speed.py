"""Import speed against the floor SQLite allows: ``kam import`` of N opportunity rows
versus the same rows inserted with one ``executemany`` in one transaction.

    .venv/bin/python bench/import_speed.py [--rows 200000] [--memory-rows 50000]

Each measurement runs in a child process of its own, on a fresh SQLite database
in a temporary ``KAM_DATA_DIR`` (never ./data), so that its peak resident memory
(``resource.getrusage`` maxrss: the whole process, Django included) is its own:

(a) baseline: the opportunity rows (account, owner, team, name, amount,
    expected close, stage, ... every NOT NULL column) inserted into
    ``sales_opportunity`` with one ``executemany`` in one transaction, fed by a
    generator;
(b) import: ``run_import("opportunities", file)`` of a CSV holding the same rows
    (its 200 accounts are created by the import), timed from start to report:
    the rows and their history are written; the stored figures of the touched
    accounts are only queued (``kam.sales.figures.recompute_accounts_later``).

The import is measured at ``--memory-rows`` and at ``--rows`` to show memory
is flat. It prints rows/s, the ratio to the baseline, peak memory, and PASS or
FAIL for each target of the issue: >= 10,000 rows/s, <= 50x the baseline, peak
<= 300 MB, and flat (the larger run's peak within 10% + 10 MB of the smaller's).
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ["客户名称", "商机名称", "金额", "预计成交日期", "阶段", "负责人"]
ACCOUNTS = 200  # rows share accounts, as real files do

TARGET_RATE = 10_000  # rows/s
TARGET_RATIO = 50  # x the executemany baseline
TARGET_PEAK_MB = 300


def row(n: int) -> list[str]:
    return [
        f"客户{n % ACCOUNTS:04d}集团",
        f"商机{n:06d} 搅拌站扩建供货",
        f"{(n % 97 + 1) * 1000}",
        f"2027-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
        str(n % 5 + 1),
        "bench",
    ]


def write_file(path: Path, rows: int) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(row(n))
    return path


def _django(tmp: str):
    os.environ["KAM_DATA_DIR"] = tmp
    os.environ.pop("KAM_DEBUG", None)  # DEBUG keeps every query in memory
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kam.config.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from kam.org.models import CompanySettings, Membership, Team

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username="bench", password="x")
    team = Team.objects.create(name="bench")
    Membership.objects.create(user=user, team=team, role="rep")
    CompanySettings.load()
    return user, team


def _maxrss_mb() -> float:
    # Linux gives kilobytes, macOS bytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def child_baseline(rows: int) -> dict:
    """One executemany of ``rows`` opportunity rows in one transaction."""
    with tempfile.TemporaryDirectory(prefix="kam-bench-") as tmp:
        user, team = _django(tmp)
        import datetime as dt
        from decimal import Decimal

        from django.db import connection, transaction
        from django.utils import timezone

        from kam.sales.models import Account

        accounts = [
            Account.objects.create(name=f"客户{n:04d}集团", owner=user, team=team).pk
            for n in range(ACCOUNTS)
        ]
        now = timezone.now().isoformat()
        today = dt.date.today().isoformat()
        columns = (
            "account_id, owner_id, team_id, name, amount, currency, expected_close, stage, "
            "stage_entered_on, outcome, close_reason, grade, competitors, proposal_emphasis, "
            "source, external_id, version, created_at, updated_at"
        )
        sql = (
            f"INSERT INTO sales_opportunity ({columns}) "
            f"VALUES ({', '.join(['?'] * len(columns.split(',')))})"
        )

        def values():
            for n in range(rows):
                _account, name, amount, close, stage, _owner = row(n)
                yield (
                    accounts[n % ACCOUNTS],
                    user.pk,
                    team.pk,
                    name,
                    str(Decimal(amount)),
                    "CNY",
                    close,
                    int(stage),
                    today,
                    "open",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    1,
                    now,
                    now,
                )

        connection.ensure_connection()
        started = time.perf_counter()
        with transaction.atomic():
            connection.connection.executemany(sql, values())
        seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM sales_opportunity")
            assert cursor.fetchone()[0] == rows
    return {"rows": rows, "seconds": seconds, "peak_mb": _maxrss_mb()}


def child_import(rows: int, batch_size: int | None) -> dict:
    """``run_import`` of a CSV of ``rows`` opportunity rows."""
    with tempfile.TemporaryDirectory(prefix="kam-bench-") as tmp:
        user, _team = _django(tmp)
        from django.db import connection

        from kam.history.models import Change
        from kam.imports.run import run_import
        from kam.sales.models import Opportunity

        path = write_file(Path(tmp) / "deals.csv", rows)
        extra = {"batch_size": batch_size} if batch_size else {}
        started = time.perf_counter()
        report = run_import("opportunities", path, acting_user=user, **extra)
        seconds = time.perf_counter() - started
        assert (report.rows, report.created, report.failed) == (rows, rows, 0), report.summary()
        assert Opportunity.objects.count() == rows
        assert Change.objects.count() == rows + ACCOUNTS
        connection.close()
    return {"rows": rows, "seconds": seconds, "peak_mb": _maxrss_mb()}


def _run_child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--memory-rows", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=None, help="the importer's default")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

    if args.child:
        what, rows = args.child[0], int(args.child[1])
        result = child_baseline(rows) if what == "baseline" else child_import(rows, args.batch_size)
        print(json.dumps(result))
        return 0

    batch = ["--batch-size", str(args.batch_size)] if args.batch_size else []
    base = _run_child("baseline", str(args.rows))
    small = _run_child(*batch, "import", str(args.memory_rows))
    large = _run_child(*batch, "import", str(args.rows))

    base_rate = base["rows"] / base["seconds"]
    print(
        f"(a) executemany, one transaction: {base['rows']:>7} rows in {base['seconds']:6.2f} s"
        f" = {base_rate:>10,.0f} rows/s"
    )
    for run in (small, large):
        rate = run["rows"] / run["seconds"]
        times = rate and base_rate / rate
        print(
            f"(b) kam import:                   {run['rows']:>7} rows in {run['seconds']:6.2f} s"
            f" = {rate:>10,.0f} rows/s, {times:5.1f}x the baseline,"
            f" peak RSS {run['peak_mb']:6.1f} MB"
        )
    rate = large["rows"] / large["seconds"]
    ratio = large["seconds"] / base["seconds"] * base["rows"] / large["rows"]
    peak = max(small["peak_mb"], large["peak_mb"])
    flat = large["peak_mb"] <= small["peak_mb"] * 1.10 + 10
    checks = [
        (f"import >= {TARGET_RATE:,} rows/s ({rate:,.0f})", rate >= TARGET_RATE),
        (
            f"import <= {TARGET_RATIO}x the executemany baseline ({ratio:.1f}x)",
            ratio <= TARGET_RATIO,
        ),
        (f"peak memory <= {TARGET_PEAK_MB} MB ({peak:.1f} MB)", peak <= TARGET_PEAK_MB),
        (
            f"memory flat from {small['rows']:,} to {large['rows']:,} rows "
            f"({small['peak_mb']:.1f} -> {large['peak_mb']:.1f} MB)",
            flat,
        ),
    ]
    for label, ok in checks:
        print(f"{_verdict(ok)}  {label}")
    return 0 if all(ok for _label, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
