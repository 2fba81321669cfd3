"""``kam recompute``: rebuild every stored figure from the records.

Needed after an upgrade that changes the method's rules, or to repair; a change
of the company settings queues the same work as a background task by itself.
Each chunk of 500 deals or accounts is written in its own short transaction, so
the pages stay usable while it runs. ``--jobs N`` shares the work between N
processes (default: one per core, at most 4): the method runs in Python, so
one process keeps one core busy.
"""

import os
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from kam.sales import figures
from kam.sales.management.commands.refresh import progress_printer, today_argument


def _part(value: str) -> tuple[int, int]:
    index, parts = (int(v) for v in value.split("/"))
    if not 0 <= index < parts:
        raise ValueError(value)
    return index, parts


class Command(BaseCommand):
    help = "Recompute every deal's and account's stored figures (likelihood, coach findings)."

    def add_arguments(self, parser):
        today_argument(parser)
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(os.cpu_count() or 1, 4),
            help="processes sharing the work (default: one per core, at most 4)",
        )
        parser.add_argument("--part", type=_part, default=None, help="(internal) I/N")

    def handle(self, *args, **opts):
        started = time.monotonic()
        if opts["part"] is not None or opts["jobs"] <= 1:
            deals, accounts = figures.recompute_all(
                today=opts["today"],
                progress=progress_printer(self.stderr),
                part=opts["part"] or (0, 1),
            )
        else:
            deals = accounts = 0
            jobs = opts["jobs"]
            today = ["--today", opts["today"].isoformat()] if opts["today"] else []
            children = [
                subprocess.Popen(
                    [sys.executable, "-m", "kam.cli", "recompute", "--part", f"{i}/{jobs}", *today],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for i in range(jobs)
            ]
            for child in children:
                out, _err = child.communicate()
                if child.returncode:
                    raise CommandError(f"a recompute process failed (exit {child.returncode})")
                numbers = [int(w) for w in out.split() if w.isdigit()]
                deals, accounts = deals + numbers[0], accounts + numbers[1]
        self.stdout.write(
            f"Recomputed the figures of {deals} deals and {accounts} accounts "
            f"in {time.monotonic() - started:.1f} s."
        )
