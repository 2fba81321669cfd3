"""``kam createuser USERNAME --team TEAM``: a user in a team, with a checked password."""

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from kam.cli import ERROR
from kam.history.models import Change
from kam.org import actions
from kam.org.models import Membership, Team

SOURCE = Change.Source.SYSTEM


class Command(BaseCommand):
    help = (
        "Create a user in a team (the team is created if it does not exist yet), asking "
        "twice for the password, or reading it from the first line of stdin with "
        "--password-stdin. The password must pass Django's validators (length, not common, "
        "not all digits, not like the username). "
        f"Exit status: 0 created, {ERROR} refused (nothing created)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--team", required=True, help="the team the user works in")
        parser.add_argument(
            "--manager", action="store_true", help="manages the team (sees all its records)"
        )
        parser.add_argument(
            "--admin", action="store_true", help="administrator: sees everything, admin site"
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin instead of asking",
        )

    def handle(self, *args, **opts):
        password = self._password(opts)
        role = Membership.Role.MANAGER if opts["manager"] else Membership.Role.REP
        try:
            with transaction.atomic():
                team = Team.objects.filter(name=opts["team"]).first()
                created_team = team is None
                if created_team:
                    team = actions.create_team(opts["team"], source=SOURCE)
                user = actions.create_user(
                    opts["username"],
                    password=password,
                    email=opts["email"],
                    first_name=opts["first_name"],
                    last_name=opts["last_name"],
                    admin=opts["admin"],
                    source=SOURCE,
                )
                actions.join_team(user, team, role=role, source=SOURCE)
        except ValidationError as exc:
            raise CommandError(_messages(exc), returncode=ERROR) from None
        if created_team:
            self.stdout.write(_("Team %(team)s created.") % {"team": team.name})
        message = (
            _("User %(user)s created: %(role)s of %(team)s, administrator.")
            if opts["admin"]
            else _("User %(user)s created: %(role)s of %(team)s.")
        )
        self.stdout.write(
            message % {"user": user.get_username(), "role": role.label, "team": team.name}
        )

    def _password(self, opts) -> str:
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError(
                    _("The two passwords differ; nothing created."), returncode=ERROR
                )
        else:
            raise CommandError(
                _("No terminal to ask the password on: pipe it with --password-stdin."),
                returncode=ERROR,
            )
        if not password:
            raise CommandError(_("The password is empty; nothing created."), returncode=ERROR)
        return password


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)
