"""What changed, who changed it, when, and from where."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class HistoryIsReadOnly(Exception):
    """History is written once, by an action, and never changed or deleted afterwards."""


class ChangeQuerySet(models.QuerySet):
    """Refuses bulk edits and deletes: history rows are append-only."""

    def delete(self):
        raise HistoryIsReadOnly("history rows cannot be deleted")

    def update(self, **kwargs):
        # Deleting a user sets ``user`` to NULL on their past changes (SET_NULL): the
        # change stays, only the link to the removed account goes. Nothing else may change.
        if set(kwargs) == {"user"} and kwargs["user"] is None:
            return super().update(**kwargs)
        raise HistoryIsReadOnly("history rows cannot be changed")


class Change(models.Model):
    """One write to one record: the fields it touched with their old and new values.

    Written by ``kam.history.record`` in the same transaction as the write, never
    edited or deleted: ``save()`` on an existing row, ``delete()`` and bulk
    ``update()``/``delete()`` raise ``HistoryIsReadOnly``. The admin registers it
    read-only (no add, change or delete permission).

    ``version`` is the record's version after the write (records with a
    ``version`` field), which lets a stale save learn which fields changed since
    the version it started from. A change to a part of a record (a key-node
    evidence, a buying-center entry, a familiarity, a trust-building action, ...)
    names that record as its ``parent`` so the record's history shows it.
    ``note`` keeps the reason a user gave for a verb (forcing a gate, closing,
    reopening, a screening decision).
    """

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("moved to the recycle bin")
        RESTORE = "restore", _("restored")
        PURGE = "purge", _("purged")
        REMOVE = "remove", _("removed")

    class Source(models.TextChoices):
        PAGE = "page", _("page")
        API = "api", _("API")
        IMPORT = "import", _("import")
        DEMO = "demo", _("demo data")
        SYSTEM = "system", _("system")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(_("record"), max_length=200)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict, help_text=_("field: [old, new]"))
    version = models.PositiveIntegerField(_("version"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    parent_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    parent_id = models.CharField(max_length=40, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    source = models.CharField(_("made through"), max_length=10, choices=Source.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("history")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["parent_type", "parent_id"]),
        ]

    def __str__(self):
        return f"{self.object_repr}: {self.get_action_display()} ({self.at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise HistoryIsReadOnly("history rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HistoryIsReadOnly("history rows cannot be deleted")
