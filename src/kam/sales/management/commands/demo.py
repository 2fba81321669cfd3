"""``kam demo``: load the demo data set into an empty database.

Every demo user's password is ``kam-demo``, so the command only runs in demo
mode (``KAM_DEBUG=1``) or when told ``--i-know-this-is-a-demo``. ``--if-empty``
makes it safe to run on every start (``make run`` does): on a database that
already holds accounts it does nothing and succeeds; without it the command
refuses such a database and fails.
"""

import argparse
import datetime as dt
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kam.sales.demo import DEMO_PASSWORD, database_is_empty, load_demo, logins


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)s is not a date like 2026-03-15.") % {"value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Load the demo data set (3 teams, 8 users, 40 accounts, 120 opportunities, "
        "1,500 activities...) into an empty database and print the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing, successfully, when the database already holds accounts.",
        )
        parser.add_argument(
            "--i-know-this-is-a-demo",
            action="store_true",
            dest="confirmed",
            help=f"Create the demo users (password {DEMO_PASSWORD!r}) although KAM_DEBUG is off.",
        )
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help="The day the demo is dated from (YYYY-MM-DD); default: today. "
            "The same day always gives the same data.",
        )

    def handle(self, *args, if_empty: bool, confirmed: bool, today: dt.date | None, **options):
        if not database_is_empty():
            if if_empty:
                self.stdout.write("The database already holds accounts: demo data not loaded.")
                return
            raise CommandError(
                _(
                    "The database already holds accounts: kam demo loads only into an "
                    "empty database."
                )
            )
        if not (settings.DEBUG or confirmed):
            raise CommandError(
                _(
                    "kam demo creates users whose password is %(password)s. Run it in demo "
                    "mode (KAM_DEBUG=1) or pass --i-know-this-is-a-demo."
                )
                % {"password": DEMO_PASSWORD}
            )
        started = time.perf_counter()
        try:
            demo = load_demo(today=today)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data dated {demo.today} loaded in {seconds:.1f} s: "
                f"{len(demo.teams)} teams, {len(demo.users)} users, "
                f"{len(demo.accounts)} accounts, {len(demo.contacts)} contacts, "
                f"{len(demo.opportunities)} opportunities, {len(demo.leads)} leads, "
                f"{len(demo.off_funnel_orders)} off-funnel orders, "
                f"{len(demo.activities)} activities, {len(demo.targets)} targets."
            )
        )
        self.stdout.write(f"Sign in as any of these users; every password is {DEMO_PASSWORD}:")
        for username, name, role in logins():
            self.stdout.write(f"  {username:<12} {name}  {role}")
