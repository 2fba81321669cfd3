from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """Pages shared by every part of KAM: the home page and the base layout."""

    name = "kam.web"
    verbose_name = _("KAM")
