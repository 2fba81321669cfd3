from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    """Leads, accounts, contacts, opportunities, activities, orders and targets."""

    name = "kam.sales"
    verbose_name = _("Sales")
