"""``make bench``: every benchmark of KAM in one table with its target and PASS/FAIL.

    make bench                 # the medium preset (50,000 deals); within 45 minutes here
    make bench PRESET=large    # 200,000 deals: the figures of record
    make bench PRESET=small    # a quick look
    DATABASE_URL=postgres://... make bench   # the forecast, load and import on PostgreSQL

The data set is generated once per preset and cached (``bench/.cache``, see
``common.py``). Each benchmark runs in a process of its own (so that one
Django set-up never leaks into another's timing) and prints its results as JSON;
this collects them. Every figure is the absolute time and, where there is one,
its ratio to a baseline measured in the same run. Exit status 1 when any target
is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Result, collect_static, data_dir

# (module, what it measures); each has run(data) -> list[Result].
BENCHMARKS = ("forecast", "pages", "coach", "load", "imports")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.1f} s"


def print_table(results: list[Result]) -> None:
    head = ("benchmark", "who", "time", "baseline", "ratio", "target", "", "note")
    rows = [
        (
            r.benchmark,
            r.who,
            _seconds(r.seconds),
            _seconds(r.baseline),
            f"{r.ratio:.2f}x" if r.ratio is not None else "-",
            r.target,
            "PASS" if r.passed else "FAIL",
            r.note,
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in (head, *rows)) for i in range(len(head))]
    for row in (head, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def _child(module: str, preset: str) -> list[Result]:
    """Runs one benchmark module in a process of its own and reads its results."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", module, "--preset", preset],
        capture_output=True,
        text=True,
    )
    sys.stderr.write(done.stderr[-4000:] if done.returncode else "")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        return [Result(module, "-", None, "runs", False, note=f"exit {done.returncode}")]
    return [Result(**row) for row in json.loads(lines[-1])["results"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run just these")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import importlib

        data = data_dir(args.preset)
        if args.child == "imports":
            results = importlib.import_module("imports_bench").run(data, preset=args.preset)
        elif args.child == "load":
            url = os.environ.get("DATABASE_URL") or None
            results = importlib.import_module("load").run(data, database_url=url)
        else:
            results = importlib.import_module(args.child).run(data)
        print(json.dumps({"results": [asdict(r) for r in results]}, default=str))
        return 0

    started = time.perf_counter()
    data = data_dir(args.preset)  # generated here once, not by every child at once
    collect_static(data)
    print(f"bench: preset {args.preset}, data in {data}", flush=True)
    results = []
    for module in args.only or BENCHMARKS:
        print(f"bench: {module} ...", flush=True)
        results += _child(module, args.preset)
    print()
    print_table(results)
    failed = sum(not r.passed for r in results)
    print(
        f"\n{len(results) - failed} PASS, {failed} FAIL; "
        f"{(time.perf_counter() - started) / 60:.1f} minutes (data set generated in "
        f"{(data / 'ready').read_text().strip()} s when first cached)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
