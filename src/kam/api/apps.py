from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The JSON API under /api/v1/ and the personal tokens that open it."""

    name = "kam.api"
    label = "api"
    verbose_name = _("API")
