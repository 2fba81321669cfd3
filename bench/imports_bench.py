"""The import benchmark (``import_speed.py``) as rows of the ``make bench`` table:
200,000 rows for the large preset, 50,000 for the others, memory compared with a
quarter of that."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_speed
from common import Result

ROWS = {"small": 10_000, "medium": 50_000, "large": 200_000}


def run(data: Path, *, preset: str) -> list[Result]:
    rows = ROWS[preset]
    base = import_speed._run_child("baseline", str(rows))
    small = import_speed._run_child("import", str(rows // 4))
    large = import_speed._run_child("import", str(rows))
    rate = large["rows"] / large["seconds"]
    per_row_base = base["seconds"] / base["rows"]
    flat = large["peak_mb"] <= small["peak_mb"] * 1.10 + 10
    return [
        Result(
            f"import of {rows:,} opportunity rows",
            "admin",
            large["seconds"],
            f">= {import_speed.TARGET_RATE:,} rows/s and <= {import_speed.TARGET_RATIO}x",
            rate >= import_speed.TARGET_RATE
            and large["seconds"] <= import_speed.TARGET_RATIO * per_row_base * large["rows"],
            baseline=per_row_base * large["rows"],
            note=f"{rate:,.0f} rows/s; baseline: one executemany in one transaction",
        ),
        Result(
            "import peak memory",
            "admin",
            None,
            f"<= {import_speed.TARGET_PEAK_MB} MB, flat",
            max(small["peak_mb"], large["peak_mb"]) <= import_speed.TARGET_PEAK_MB and flat,
            note=f"{small['peak_mb']:.0f} MB at {small['rows']:,} rows, "
            f"{large['peak_mb']:.0f} MB at {large['rows']:,}",
        ),
    ]
