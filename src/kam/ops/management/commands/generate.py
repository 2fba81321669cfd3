"""``kam generate``: deterministic synthetic data at scale, for benchmarks and scale tests.

The data and the formula its outcomes follow are described in ``kam.ops.generate``
and docs/cli.md.
"""

import argparse
import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.cli import ERROR, ProgressLine
from kam.ops.generate import DEFAULT_SEED, PRESETS, Refused, generate


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value} is not a date like 2026-03-15.") from None


class Command(BaseCommand):
    help = (
        "Generate a deterministic synthetic data set (users, teams, accounts, contacts, "
        "opportunities with buying centers and key-node evidence, activities, leads, "
        "off-funnel orders, targets) into a database without opportunities. Presets: "
        + "; ".join(
            f"{name}: {s.users} users, {s.accounts:,} accounts, {s.opportunities:,} deals, "
            f"{s.activities:,} activities"
            for name, s in PRESETS.items()
        )
        + f". Exit status: 0 done, {ERROR} refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"The seed of every random draw (default {DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help="The day the data is dated from (YYYY-MM-DD); default: today. "
            "The same seed, preset and day always give the same data.",
        )
        parser.add_argument(
            "--password",
            default=None,
            help="Give every generated user this password (for benchmarks that sign in). "
            "Without it the users have no usable password.",
        )
        parser.add_argument(
            "--no-figures",
            action="store_false",
            dest="figures",
            help="Do not compute the stored figures at the end (run `kam recompute` later); "
            "on the large preset that saves a good part of the time.",
        )

    def handle(self, *args, preset: str, seed: int, today, password, figures, **options):
        lines: dict[str, ProgressLine] = {}

        def progress(kind: str, done: int, total: int) -> None:
            line = lines.get(kind)
            if line is None:
                for other in lines.values():
                    other.close()
                line = lines[kind] = ProgressLine(kind, total=total, stream=self.stderr._out)
            line(done)

        started = time.perf_counter()
        try:
            result = generate(
                sizes=PRESETS[preset],
                seed=seed,
                today=today,
                password=password,
                progress=progress,
                figures=figures,
            )
        except Refused as exc:
            raise CommandError(str(exc), returncode=ERROR) from None
        finally:
            for line in lines.values():
                line.close()
        seconds = time.perf_counter() - started
        counts = ", ".join(f"{n:,} {kind}" for kind, n in result.counts.items())
        phases = ", ".join(f"{phase} {s:.1f} s" for phase, s in result.seconds.items())
        self.stdout.write(
            self.style.SUCCESS(f"Generated the {preset} set (seed {seed}) in {seconds:.1f} s.")
        )
        self.stdout.write(f"Rows: {counts}.")
        self.stdout.write(f"Phases: {phases}.")
        self.stdout.write(
            "Users: admin (administrator), mgr01... (a manager per team), rep001... (reps)."
        )
        if password is None:
            self.stdout.write(
                "They have no usable password: set one with `kam changepassword USERNAME`, "
                "or generate again with --password."
            )
