"""``kam recompute``: rebuild every stored figure from the records.

Needed after an upgrade that changes the method's rules, or to repair; a change
of the company settings queues the same work as a background task by itself.
Each chunk of 500 deals or accounts is written in its own short transaction, so
the pages stay usable while it runs.
"""

import time

from django.core.management.base import BaseCommand

from kam.sales import figures
from kam.sales.management.commands.refresh import progress_printer, today_argument


class Command(BaseCommand):
    help = "Recompute every deal's and account's stored figures (likelihood, coach findings)."

    def add_arguments(self, parser):
        today_argument(parser)

    def handle(self, *args, **opts):
        started = time.monotonic()
        deals, accounts = figures.recompute_all(
            today=opts["today"], progress=progress_printer(self.stderr)
        )
        self.stdout.write(
            f"Recomputed the figures of {deals} deals and {accounts} accounts "
            f"in {time.monotonic() - started:.1f} s."
        )
