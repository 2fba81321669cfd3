"""``kam refresh``: the daily refresh of the stored figures that read the day.

Whether a deal is stuck or overdue, visit cadences, a grade's age and the age of
an insider's claims change with the date alone; run this once a day, shortly
after midnight in the team's time zone, by cron or a systemd timer (see
docs/deploy.md), and whenever you like on demand. It also computes figures that
other rules made or nothing has computed yet (after an upgrade or an import).
"""

import argparse
import datetime as dt
import time

from django.core.management.base import BaseCommand

from kam.sales import figures


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value} is not a date like 2026-03-15") from None


def today_argument(parser) -> None:
    parser.add_argument(
        "--today",
        type=_date,
        default=None,
        help="compute as of this day (YYYY-MM-DD); default: today",
    )


def progress_printer(stream):
    """Prints ``done/total`` at most every 5 seconds."""
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 5 or done == total:
            last[0] = now
            stream.write(f"{done}/{total}")

    return show


class Command(BaseCommand):
    help = "Recompute what reads today's date (stuck, overdue, cadence ...) in the stored figures."

    def add_arguments(self, parser):
        today_argument(parser)

    def handle(self, *args, **opts):
        started = time.monotonic()
        deals, accounts = figures.refresh(
            today=opts["today"], progress=progress_printer(self.stderr)
        )
        self.stdout.write(
            f"Refreshed the figures of {deals} deals and {accounts} accounts "
            f"in {time.monotonic() - started:.1f} s."
        )
