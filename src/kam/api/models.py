"""Personal API tokens: ``Authorization: Bearer <secret>``.

Only the SHA-256 of the secret is stored; the secret is shown once, when the
token is created (``kam token create USERNAME``), and cannot be read back.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Secrets start with this so that a leaked one is recognisable (and greppable).
PREFIX = "kam_"


def hash_secret(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenQuerySet(models.QuerySet):
    def usable(self):
        """Tokens not revoked, of active users."""
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class Token(models.Model):
    """A personal token acting as its user; revocable, stored hashed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(_("hashed key"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = TokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["user", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="one_token_name_per_user")
        ]

    def __str__(self):
        return f"{self.user} · {self.name}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def issue(cls, user, name: str) -> tuple["Token", str]:
        """Create a token for ``user`` and return it with its secret (shown once)."""
        secret = PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_secret(secret))
        return token, secret

    @classmethod
    def authenticate(cls, secret: str):
        """The usable token for ``secret``, its ``last_used`` brought up to date; or None."""
        token = cls.objects.usable().select_related("user").filter(key_hash=hash_secret(secret))
        token = token.first()
        if token is None:
            return None
        now = timezone.now()
        # One write per minute at most: a busy integration should not write on every call.
        if token.last_used is None or (now - token.last_used).total_seconds() > 60:
            cls.objects.filter(pk=token.pk).update(last_used=now)
            token.last_used = now
        return token

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
