from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HistoryConfig(AppConfig):
    """The audit trail of every write, and the recycle bin."""

    name = "kam.history"
    verbose_name = _("History")
