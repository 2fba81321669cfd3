from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    """Leads, accounts, contacts, opportunities, activities, orders and targets."""

    name = "kam.sales"
    verbose_name = _("Sales")

    def ready(self):
        from kam.compat import single_column_tuple_in

        single_column_tuple_in()
