"""delete_record, restore_record, purge_record and purge_expired: the recycle bin keeps
accounts, contacts and opportunities restorable with their children for 30 days."""

import datetime as dt

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.utils import timezone

from kam.history.models import Change
from kam.history.record import history_of
from kam.sales import actions
from kam.sales.models import (
    OPPORTUNITY_PREFETCH,
    RECYCLE_DAYS,
    Account,
    Activity,
    Contact,
    Lead,
    Opportunity,
    opportunity_to_deal,
)

from . import factories as f
from .factories import PAGE, TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(rep):
    """An account with two contacts and a deal."""
    account = f.account(rep)
    return {
        "account": account,
        "zhang": f.contact(rep, account),
        "li": f.contact(rep, account, name="李科长"),
        "deal": f.opportunity(rep, account),
    }


def test_deleting_an_account_takes_its_contacts_and_deals_into_one_batch(rep, customer):
    account = actions.delete_record(customer["account"], acting_user=rep, source=PAGE)

    assert not Account.objects.exists()
    assert not Contact.objects.exists()
    assert not Opportunity.objects.exists()
    batches = {
        r.deleted_batch
        for r in [*Contact.all_objects.all(), *Opportunity.all_objects.all(), account]
    }
    assert batches == {account.deleted_batch}
    for record in [account, customer["zhang"], customer["li"], customer["deal"]]:
        change = history_of(record, parts=False).first()
        assert (change.action, change.user, change.version) == (Change.Action.DELETE, rep, 2)
        assert change.changes["deleted_at"][0] is None


def test_restoring_any_record_of_a_batch_restores_the_whole_batch(rep, customer):
    actions.delete_record(customer["account"], acting_user=rep, source=PAGE)
    zhang = Contact.all_objects.get(pk=customer["zhang"].pk)

    actions.restore_record(zhang, acting_user=rep, source=PAGE)

    assert Account.objects.count() == 1
    assert Contact.objects.count() == 2
    assert Opportunity.objects.count() == 1
    assert history_of(customer["deal"]).first().action == Change.Action.RESTORE
    assert Account.objects.get().deleted_batch is None


def test_a_contact_deleted_before_its_account_stays_deleted_when_the_account_returns(rep, customer):
    actions.delete_record(customer["li"], acting_user=rep, source=PAGE)
    account = actions.delete_record(customer["account"], acting_user=rep, source=PAGE)

    actions.restore_record(account, acting_user=rep, source=PAGE)

    assert list(Contact.objects.all()) == [customer["zhang"]]


def test_a_record_whose_account_is_in_the_bin_on_its_own_cannot_come_back_alone(rep, customer):
    actions.delete_record(customer["deal"], acting_user=rep, source=PAGE)
    actions.delete_record(customer["account"], acting_user=rep, source=PAGE)
    deal = Opportunity.all_objects.get()

    with pytest.raises(ValidationError) as refused:
        actions.restore_record(deal, acting_user=rep, source=PAGE)

    assert "account" in refused.value.message_dict
    assert not Opportunity.objects.exists()


def test_restoring_is_possible_for_30_days_only(rep, customer):
    account = actions.delete_record(customer["account"], acting_user=rep, source=PAGE)
    deleted_at = account.deleted_at

    with pytest.raises(ValidationError) as refused:
        actions.restore_record(
            account,
            acting_user=rep,
            source=PAGE,
            now=deleted_at + dt.timedelta(days=RECYCLE_DAYS, seconds=1),
        )
    assert "30 days" in refused.value.message_dict[NON_FIELD_ERRORS][0]
    assert not Account.objects.exists()

    actions.restore_record(
        account, acting_user=rep, source=PAGE, now=deleted_at + dt.timedelta(days=RECYCLE_DAYS)
    )
    assert Account.objects.exists()


def test_a_live_record_cannot_be_restored_or_deleted_twice(rep, customer):
    with pytest.raises(ValidationError):
        actions.restore_record(customer["account"], acting_user=rep, source=PAGE)
    account = actions.delete_record(customer["account"], acting_user=rep, source=PAGE)
    with pytest.raises(ValidationError):
        actions.delete_record(account, acting_user=rep, source=PAGE)


def test_only_an_admin_purges(rep, manager, customer):
    account = actions.delete_record(customer["account"], acting_user=rep, source=PAGE)

    for user in (rep, manager):
        with pytest.raises(PermissionDenied):
            actions.purge_record(account, acting_user=user, source=PAGE)

    assert Account.all_objects.exists()


def test_purging_removes_the_record_and_its_children_for_good_and_keeps_the_history(
    rep, admin, customer
):
    account = customer["account"]
    actions.log_activity(account=account, kind="visit", on=TODAY, acting_user=rep, source=PAGE)
    account = actions.delete_record(account, acting_user=rep, source=PAGE)

    purged = actions.purge_record(account, acting_user=admin, source=PAGE)

    assert purged == 4
    assert not Account.all_objects.exists()
    assert not Contact.all_objects.exists()
    assert not Opportunity.all_objects.exists()
    assert not Activity.objects.exists()
    change = history_of(account, parts=False).first()
    assert (change.action, change.user, change.changes) == (Change.Action.PURGE, admin, {})
    assert history_of(customer["deal"]).first().action == Change.Action.PURGE


def test_a_lead_losing_its_purged_account_gets_a_history_row(rep, admin):
    lead = f.lead(rep)
    conversion = actions.convert_lead(lead, acting_user=rep, source=PAGE)
    account = actions.delete_record(conversion.account, acting_user=rep, source=PAGE)

    actions.purge_record(account, acting_user=admin, source=PAGE)

    lead = Lead.objects.get()
    assert (lead.account, lead.opportunity) == (None, None)
    change = history_of(lead).first()
    assert change.changes["account"] == [account.pk, None]
    assert change.user == admin


def test_a_live_record_cannot_be_purged(admin, rep):
    with pytest.raises(ValidationError):
        actions.purge_record(f.account(rep), acting_user=admin, source=PAGE)


def test_expired_records_are_purged_and_recent_ones_kept(rep, customer):
    old = actions.delete_record(customer["account"], acting_user=rep, source=PAGE)
    recent = actions.delete_record(
        f.account(rep, name="国网湖北电力"), acting_user=rep, source=PAGE
    )
    now = timezone.now()
    Account.all_objects.filter(pk=old.pk).update(deleted_at=now - dt.timedelta(days=31))

    purged = actions.purge_expired(now=now)

    assert purged == 4
    assert list(Account.all_objects.all()) == [recent]
    assert history_of(old, parts=False).first().source == "system"


def test_a_contact_in_the_bin_leaves_the_deals_buying_center(rep, customer):
    deal, zhang = customer["deal"], customer["zhang"]
    actions.set_buying_center_entry(deal, zhang, roles=["technical"], acting_user=rep, source=PAGE)
    actions.delete_record(zhang, acting_user=rep, source=PAGE)

    prefetch_related_objects([deal], *OPPORTUNITY_PREFETCH)
    assert opportunity_to_deal(deal).people == ()
