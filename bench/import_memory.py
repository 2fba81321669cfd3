"""Memory stays flat while importing: peak memory of a dry-run import of 2,000 and
20,000 opportunity rows, and their ratio against the smaller file measured in the
same run (flat means a ratio near 1, not 10).

    .venv/bin/python bench/import_memory.py [--small 2000] [--large 20000]

It works in a throwaway SQLite database under a temporary KAM_DATA_DIR and
leaves nothing behind. Peaks are Python allocations as ``tracemalloc`` counts
them, while ``run_import(..., dry_run=True)`` reads and writes every row (the
dry run runs the same code as a real import, then rolls back).
"""

import argparse
import csv
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HEADER = ["客户名称", "商机名称", "金额", "预计成交日期", "阶段", "负责人"]
ACCOUNTS = 200  # rows share accounts, as real files do


def write_file(path: Path, rows: int) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                [
                    f"客户{n % ACCOUNTS:04d}集团",
                    f"商机{n:06d} 搅拌站扩建供货",
                    f"{(n % 97 + 1) * 1000}",
                    f"2027-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
                    str(n % 5 + 1),
                    "bench",
                ]
            )
    return path


def peak_of(path: Path, user) -> tuple[int, float, int]:
    """Peak traced bytes, seconds and rows of one dry-run import of ``path``."""
    from kam.imports.run import run_import

    tracemalloc.reset_peak()
    start_current, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    report = run_import("opportunities", path, acting_user=user, dry_run=True)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    assert report.failed == 0, report.summary()
    return peak - start_current, seconds, report.rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=20000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kam-bench-") as tmp:
        os.environ["KAM_DATA_DIR"] = tmp
        os.environ.pop("KAM_DEBUG", None)  # DEBUG keeps every query in memory
        os.environ.pop("DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.config.settings")
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from kam.org.models import Membership, Team

        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user(username="bench", password="x")
        Membership.objects.create(user=user, team=Team.objects.create(name="bench"), role="rep")

        folder = Path(tmp)
        warmup = write_file(folder / "warmup.csv", 50)
        small = write_file(folder / "small.csv", args.small)
        large = write_file(folder / "large.csv", args.large)

        tracemalloc.start()
        peak_of(warmup, user)  # imports, caches and translations load once, not in the baseline
        small_peak, small_s, small_rows = peak_of(small, user)
        large_peak, large_s, large_rows = peak_of(large, user)
        tracemalloc.stop()

    mib = 1024 * 1024
    print(f"{small_rows:>6} rows: peak {small_peak / mib:6.2f} MiB ({small_s:.1f} s)  baseline")
    print(
        f"{large_rows:>6} rows: peak {large_peak / mib:6.2f} MiB ({large_s:.1f} s)  "
        f"ratio {large_peak / small_peak:.2f} for {large_rows / small_rows:.0f}x the rows"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
