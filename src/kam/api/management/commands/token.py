"""``kam token create|revoke|list``: personal tokens for the JSON API."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from kam.api.models import Token


class Command(BaseCommand):
    help = (
        "Personal API tokens. 'create USERNAME [--name NAME]' prints the secret once (only its "
        "SHA-256 is stored); 'revoke ID|NAME [--user USERNAME]' stops it working at once; "
        "'list USERNAME' shows a user's tokens. Exit status 1 when the user or token is unknown."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print its secret once")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what the token is for (default: api-N)")
        revoke = sub.add_parser("revoke", help="revoke a token by id or name")
        revoke.add_argument("token", help="the token's id, or its name")
        revoke.add_argument("--user", help="whose token, when the name is not unique")
        listing = sub.add_parser("list", help="list a user's tokens")
        listing.add_argument("username")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _user(self, username):
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None

    def _create(self, *, username, name, **_):
        user = self._user(username)
        if not user.is_active:
            raise CommandError(f"{username} is deactivated.")
        name = name.strip() or f"api-{Token.objects.filter(user=user).count() + 1}"
        try:
            token, secret = Token.issue(user, name)
        except IntegrityError:
            raise CommandError(f"{username} already has a token named {name!r}.") from None
        self.stderr.write(
            f"Token {token.pk} ({name}) for {username}. Keep this secret: it is not shown again."
        )
        self.stdout.write(secret)

    def _revoke(self, *, token, user=None, **_):
        tokens = Token.objects.all()
        if user:
            tokens = tokens.filter(user=self._user(user))
        found = list(tokens.filter(pk=int(token))) if token.isdigit() else []
        found = found or list(tokens.filter(name=token))
        if not found:
            raise CommandError(f"No token {token!r}.")
        if len(found) > 1:
            raise CommandError(f"Several tokens are named {token!r}: give its id or --user.")
        found[0].revoke()
        self.stdout.write(f"Token {found[0].pk} ({found[0].name}) revoked.")

    def _list(self, *, username, **_):
        user = self._user(username)
        for t in Token.objects.filter(user=user).order_by("pk"):
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked else "active"
            used = f"{t.last_used:%Y-%m-%d %H:%M}" if t.last_used else "never"
            self.stdout.write(
                f"{t.pk}\t{t.name}\tcreated {t.created_at:%Y-%m-%d}\tlast used {used}\t{state}"
            )
