import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kam.history.models import Change
from kam.history.record import Source, history_of, reveals_insider
from kam.sales import actions
from kam.sales.models import Account, Attitude, Contact, Opportunity
from kam.web.sections.history import rows_naming_insider
from tests.sales import factories

pytestmark = pytest.mark.django_db
PAGE = Source.PAGE


def _history(client, user, obj, **headers):
    client.force_login(user)
    meta = obj._meta
    return client.get(f"/history/{meta.app_label}/{meta.model_name}/{obj.pk}/", headers=headers)


@pytest.fixture
def deal(rep):
    account = factories.account(rep)
    deal = factories.opportunity(rep, account)
    insider = factories.contact(rep, account, name="小赵秘书")
    engineer = factories.contact(rep, account, name="钱总工")
    actions.set_buying_center_entry(deal, insider, insider=True, acting_user=rep, source=PAGE)
    actions.set_buying_center_entry(
        deal, insider, insider=True, attitude=Attitude.SUPPORTER, acting_user=rep, source=PAGE
    )
    actions.set_buying_center_entry(
        deal,
        engineer,
        roles=["technical"],
        attitude=Attitude.OPPONENT,
        acting_user=rep,
        source=PAGE,
    )
    actions.update_record(
        deal,
        acting_user=rep,
        source=PAGE,
        expected_version=deal.version,
        changes={"amount": Decimal("950000")},
    )
    return deal


def test_the_history_says_what_changed_who_changed_it_and_from_where(client, rep, deal):
    page = _history(client, rep, deal, **{"accept-language": "en"}).content.decode()
    assert "王伟" in page  # who
    assert "through the page" in page  # from where
    assert "800000.00" in page and "950000.00" in page  # before and after
    assert "小赵秘书" in page and "钱总工" in page  # the owner sees the whole buying center


def test_the_insider_is_hidden_from_a_teammate(client, teammate, deal):
    response = _history(client, teammate, deal)
    assert response.status_code == 200
    page = response.content.decode()
    assert "小赵秘书" not in page
    assert "钱总工" in page
    assert "950000.00" in page


def test_a_teammate_cannot_open_the_insiders_own_entry(client, teammate, deal):
    entry = deal.buying_center.get(insider=True)
    assert _history(client, teammate, entry).status_code == 404
    other = deal.buying_center.get(insider=False)
    assert _history(client, teammate, other).status_code == 200


def test_the_manager_sees_the_insider(client, manager, deal):
    assert "小赵秘书" in _history(client, manager, deal).content.decode()


def test_the_batched_insider_check_agrees_with_reveals_insider(rep, deal):
    changes = list(history_of(deal))
    hidden = rows_naming_insider(changes)
    for change in changes:
        if change.content_type.model == "buyingcenterentry":
            assert (change.pk in hidden) == reveals_insider(change)


def test_an_outsider_is_told_the_record_does_not_exist(client, outsider, deal):
    assert _history(client, outsider, deal).status_code == 404
    assert _history(client, outsider, deal.account).status_code == 404


def test_the_history_page_costs_the_same_queries_for_two_changes_or_twenty(
    client, rep, teammate, deal
):
    _history(client, teammate, deal)
    with CaptureQueriesContext(connection) as few:
        _history(client, teammate, deal)
    account = deal.account
    for i in range(9):
        person = factories.contact(rep, account, name=f"人{i}")
        actions.set_buying_center_entry(
            deal, person, insider=i % 2 == 0, acting_user=rep, source=PAGE
        )
        actions.set_buying_center_entry(deal, person, strength=2, acting_user=rep, source=PAGE)
    with CaptureQueriesContext(connection) as many:
        _history(client, teammate, deal)
    assert len(many) == len(few)


def test_restoring_an_account_brings_back_its_contacts(client, rep):
    account = factories.account(rep, name="被删的客户")
    factories.contact(rep, account, name="孙经理")
    actions.delete_record(account, acting_user=rep, source=PAGE)
    client.force_login(rep)
    page = client.get("/history/bin/").content.decode()
    assert "被删的客户" in page and "孙经理" in page
    response = client.post(f"/history/bin/account/{account.pk}/restore/")
    assert response.status_code == 302
    assert Account.objects.filter(pk=account.pk).exists()
    assert Contact.objects.filter(account=account, name="孙经理").exists()
    assert Change.objects.filter(action="restore", object_id=str(account.pk)).exists()


def test_the_bin_shows_nothing_of_other_teams(client, rep, outsider):
    account = factories.account(rep, name="被删的客户")
    actions.delete_record(account, acting_user=rep, source=PAGE)
    client.force_login(outsider)
    assert "被删的客户" not in client.get("/history/bin/").content.decode()
    assert client.post(f"/history/bin/account/{account.pk}/restore/").status_code == 404


def test_a_record_deleted_too_long_ago_is_not_restored(client, rep):
    account = factories.account(rep, name="很久以前")
    actions.delete_record(account, acting_user=rep, source=PAGE)
    Account.all_objects.filter(pk=account.pk).update(
        deleted_at=timezone.now() - dt.timedelta(days=31)
    )
    client.force_login(rep)
    page = client.get("/history/bin/").content.decode()
    assert f"/history/bin/account/{account.pk}/restore/" not in page
    client.post(f"/history/bin/account/{account.pk}/restore/")
    assert not Account.objects.filter(pk=account.pk).exists()


def test_purging_is_refused_to_anyone_but_an_admin(client, rep, manager, admin):
    deal = factories.opportunity(rep, factories.account(rep))
    actions.delete_record(deal, acting_user=rep, source=PAGE)
    for user in (rep, manager):
        client.force_login(user)
        assert (
            f"/history/bin/opportunity/{deal.pk}/purge/"
            not in client.get("/history/bin/").content.decode()
        )
        assert client.post(f"/history/bin/opportunity/{deal.pk}/purge/").status_code == 403
    assert Opportunity.all_objects.filter(pk=deal.pk).exists()
    client.force_login(admin)
    assert client.post(f"/history/bin/opportunity/{deal.pk}/purge/").status_code == 302
    assert not Opportunity.all_objects.filter(pk=deal.pk).exists()


def test_the_bin_costs_the_same_queries_for_two_records_or_twenty(client, rep):
    def delete(n):
        for i in range(n):
            account = factories.account(rep, name=f"客户{i}")
            factories.contact(rep, account)
            factories.opportunity(rep, account)
            actions.delete_record(account, acting_user=rep, source=PAGE)

    delete(2)
    client.force_login(rep)
    client.get("/history/bin/")
    with CaptureQueriesContext(connection) as few:
        client.get("/history/bin/")
    delete(8)
    with CaptureQueriesContext(connection) as many:
        client.get("/history/bin/")
    assert len(many) == len(few)
