"""What changed, who changed it, when, and from where."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Change(models.Model):
    """One write to one record: the fields it touched with their old and new values.

    Written by ``kam.history.record`` in the same transaction as the write, never
    edited or deleted through the application (the admin shows it read-only).
    """

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("moved to the recycle bin")
        RESTORE = "restore", _("restored")
        PURGE = "purge", _("purged")

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
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    source = models.CharField(_("from"), max_length=10, choices=Source.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("history")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.object_repr}: {self.get_action_display()} ({self.at:%Y-%m-%d %H:%M})"
