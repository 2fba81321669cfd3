"""The framework work-arounds of kam.compat."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.org.models import Team
from kam.sales.models import Account, BuyingCenterEntry, Contact, Opportunity

pytestmark = pytest.mark.django_db


def test_a_prefetch_over_a_forward_key_of_thousands_of_rows_is_one_flat_in_list():
    """Django 5.2 wrote it as an OR chain SQLite refuses past ~1,000 terms."""
    owner = get_user_model().objects.create_user("owner")
    team = Team.objects.create(name="华东")
    account = Account.objects.create(name="大客户", owner=owner, team=team)
    contacts = Contact.objects.bulk_create(
        Contact(account=account, name=f"联系人{n}") for n in range(1_200)
    )
    deal = Opportunity.objects.create(
        account=account, name="项目", amount=Decimal(1), owner=owner, team=team
    )
    BuyingCenterEntry.objects.bulk_create(
        BuyingCenterEntry(opportunity=deal, contact=c) for c in contacts
    )
    with CaptureQueriesContext(connection) as captured:
        (loaded,) = Opportunity.objects.prefetch_related("buying_center__contact")
    assert len({e.contact.pk for e in loaded.buying_center.all()}) == 1_200
    contact_query = captured.captured_queries[-1]["sql"]
    assert " IN (" in contact_query and " OR " not in contact_query
