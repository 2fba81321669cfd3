"""The coach from stored findings, and recomputing every stored figure.

- My day of a rep with 400 open deals (``prepare.py`` hands them over), whose
  "top advice" ranks the coach's findings over all of them: target <= 0.5 s.
  The baseline is the coach run over the same deals from scratch (what My day
  did before figures were stored), timed once.
- ``kam recompute`` over the whole data set, on a copy: target <= 10 minutes.

    .venv/bin/python bench/coach.py --preset small
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import KAM, REP, Result, best_of, copy_of, data_dir, setup_django

MY_DAY_TARGET = 0.5
RECOMPUTE_TARGET = 600.0


def my_day(data: Path) -> Result:
    setup_django(data)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from kam.sales import figures
    from kam.sales.models import Opportunity, Outcome

    rep = get_user_model().objects.get(username=REP)
    client = Client(raise_request_exception=True)
    client.force_login(rep)

    def page():
        response = client.get("/", HTTP_HOST="127.0.0.1")
        assert response.status_code == 200, response.status_code

    seconds = best_of(page, repeat=5)
    open_ids = list(
        Opportunity.objects.filter(owner=rep, outcome=Outcome.OPEN).values_list("pk", flat=True)
    )
    started = time.perf_counter()
    figures.build_deal_rows(open_ids, today=dt.date.today())
    scratch = time.perf_counter() - started
    return Result(
        "My day: the coach over my open deals",
        REP,
        seconds,
        f"<= {MY_DAY_TARGET} s",
        seconds <= MY_DAY_TARGET,
        baseline=scratch,
        note=f"{len(open_ids)} open deals; baseline = the coach from scratch",
    )


def recompute(data: Path) -> Result:
    with tempfile.TemporaryDirectory(prefix="kam-bench-") as tmp:
        copy = copy_of(data, Path(tmp))
        env = {**os.environ, "KAM_DATA_DIR": str(copy)}
        env.pop("DATABASE_URL", None)
        started = time.perf_counter()
        done = subprocess.run(
            [KAM, "recompute"], env=env, check=True, capture_output=True, text=True
        )
        seconds = time.perf_counter() - started
    return Result(
        "kam recompute: every stored figure",
        "-",
        seconds,
        f"<= {RECOMPUTE_TARGET / 60:.0f} min",
        seconds <= RECOMPUTE_TARGET,
        note=done.stdout.strip().splitlines()[-1],
    )


def run(data: Path) -> list[Result]:
    return [my_day(data), recompute(data)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    args = parser.parse_args()
    from run import print_table

    results = run(data_dir(args.preset))
    print_table(results)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
