from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    """Teams, who manages them, the company's method settings, and who may see what."""

    name = "kam.org"
    verbose_name = _("Organisation")
