"""The buying center and the org chart: set_buying_center_entry,
remove_buying_center_entry, set_reports_to and set_familiarity."""

import pytest
from django.core.exceptions import ValidationError

from kam.history.models import Change
from kam.history.record import history_of, reveals_insider
from kam.sales import actions
from kam.sales.actions import StaleRecord
from kam.sales.models import BuyingCenterEntry, Contact, Familiarity

from . import factories as f
from .factories import PAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(rep):
    return f.account(rep)


@pytest.fixture
def deal(rep, account):
    return f.opportunity(rep, account)


def test_a_contact_joins_the_buying_center_with_roles_for_this_deal(rep, account, deal):
    engineer = f.contact(rep, account, name="王总工", title="总工程师")

    entry = actions.set_buying_center_entry(
        deal,
        engineer,
        roles=["technical", "decision_maker"],
        influence=3,
        attitude="supporter",
        strength=2,
        acting_user=rep,
        source=PAGE,
    )

    assert (entry.technical, entry.decision_maker, entry.purchaser) == (True, True, False)
    assert (entry.influence, entry.attitude, entry.strength) == (3, "supporter", 2)
    change = history_of(deal).first()
    assert change.content_type.model == "buyingcenterentry"
    assert change.changes["technical"] == [None, True]
    assert change.user == rep


def test_setting_an_entry_again_replaces_it_and_records_what_changed(rep, account, deal):
    engineer = f.contact(rep, account)
    actions.set_buying_center_entry(
        deal, engineer, roles=["technical"], attitude="neutral", acting_user=rep, source=PAGE
    )

    actions.set_buying_center_entry(
        deal, engineer, roles=["technical"], attitude="opponent", acting_user=rep, source=PAGE
    )

    assert BuyingCenterEntry.objects.get().attitude == "opponent"
    change = history_of(deal).first()
    assert (change.action, change.changes) == (
        Change.Action.UPDATE,
        {"attitude": ["neutral", "opponent"]},
    )


def test_a_contact_from_another_account_is_refused(rep, deal):
    elsewhere = f.contact(rep, f.account(rep, name="国网湖北电力"), name="赵处长")

    with pytest.raises(ValidationError) as refused:
        actions.set_buying_center_entry(deal, elsewhere, acting_user=rep, source=PAGE)

    assert "contact" in refused.value.message_dict
    assert not BuyingCenterEntry.objects.exists()


def test_a_contact_in_the_recycle_bin_is_refused(rep, account, deal):
    engineer = f.contact(rep, account)
    actions.delete_record(engineer, acting_user=rep, source=PAGE)

    with pytest.raises(ValidationError) as refused:
        actions.set_buying_center_entry(deal, engineer, acting_user=rep, source=PAGE)

    assert "contact" in refused.value.message_dict


def test_an_unknown_role_is_refused(rep, account, deal):
    with pytest.raises(ValidationError) as refused:
        actions.set_buying_center_entry(
            deal, f.contact(rep, account), roles=["chauffeur"], acting_user=rep, source=PAGE
        )

    assert "roles" in refused.value.message_dict


def test_removing_an_entry_keeps_it_in_the_history(rep, account, deal):
    engineer = f.contact(rep, account)
    actions.set_buying_center_entry(deal, engineer, roles=["user"], acting_user=rep, source=PAGE)

    actions.remove_buying_center_entry(deal, engineer, acting_user=rep, source=PAGE)

    assert not BuyingCenterEntry.objects.exists()
    assert history_of(deal).first().changes["user"] == [True, None]
    with pytest.raises(ValidationError):
        actions.remove_buying_center_entry(deal, engineer, acting_user=rep, source=PAGE)


def test_history_that_names_the_insider_is_marked(rep, account, deal):
    secretary = f.contact(rep, account, name="刘秘书")
    engineer = f.contact(rep, account, name="王总工")
    actions.set_buying_center_entry(deal, secretary, insider=True, acting_user=rep, source=PAGE)
    actions.set_buying_center_entry(
        deal, engineer, roles=["technical"], acting_user=rep, source=PAGE
    )
    actions.set_buying_center_entry(
        deal, secretary, insider=True, attitude="supporter", acting_user=rep, source=PAGE
    )

    marked = {(c.object_repr, reveals_insider(c)) for c in history_of(deal, parts=True)}

    assert ("刘秘书 @ 搅拌站扩建供货", True) in marked
    assert ("王总工 @ 搅拌站扩建供货", False) in marked
    assert all(reveals_insider(c) for c in history_of(deal) if "刘秘书" in c.object_repr)


def test_reports_to_is_recorded_with_old_and_new_manager(rep, account):
    boss = f.contact(rep, account, name="陈总经理")
    engineer = f.contact(rep, account)

    saved = actions.set_reports_to(engineer, boss, acting_user=rep, source=PAGE)

    assert saved.reports_to == boss
    assert history_of(engineer).first().changes == {"reports_to": [None, boss.pk]}
    assert saved.version == 2


def test_a_reporting_cycle_is_refused(rep, account):
    boss = f.contact(rep, account, name="陈总经理")
    deputy = f.contact(rep, account, name="周副总")
    engineer = f.contact(rep, account)
    actions.set_reports_to(deputy, boss, acting_user=rep, source=PAGE)
    actions.set_reports_to(engineer, deputy, acting_user=rep, source=PAGE)

    with pytest.raises(ValidationError) as refused:
        actions.set_reports_to(boss, engineer, acting_user=rep, source=PAGE)

    assert "cycle" in refused.value.message_dict["reports_to"][0]
    assert Contact.objects.get(pk=boss.pk).reports_to is None


def test_reporting_to_oneself_or_to_another_company_is_refused(rep, account):
    engineer = f.contact(rep, account)
    elsewhere = f.contact(rep, f.account(rep, name="国网湖北电力"), name="赵处长")

    for manager in (engineer, elsewhere):
        with pytest.raises(ValidationError) as refused:
            actions.set_reports_to(engineer, manager, acting_user=rep, source=PAGE)
        assert "reports_to" in refused.value.message_dict


def test_the_same_cycle_is_refused_through_update_record(rep, account):
    boss = f.contact(rep, account, name="陈总经理")
    engineer = f.contact(rep, account)
    actions.set_reports_to(engineer, boss, acting_user=rep, source=PAGE)

    with pytest.raises(ValidationError) as refused:
        actions.update_record(
            boss,
            acting_user=rep,
            source=PAGE,
            expected_version=1,
            changes={"reports_to": engineer},
        )

    assert "reports_to" in refused.value.message_dict


def test_a_stale_reports_to_change_is_refused(rep, teammate, account):
    boss = f.contact(rep, account, name="陈总经理")
    deputy = f.contact(rep, account, name="周副总")
    engineer = f.contact(rep, account)
    actions.set_reports_to(engineer, boss, acting_user=teammate, source=PAGE)

    with pytest.raises(StaleRecord):
        actions.set_reports_to(engineer, deputy, acting_user=rep, source=PAGE, expected_version=1)


def test_familiarity_is_set_and_changed_per_person_of_ours(rep, teammate, account):
    engineer = f.contact(rep, account)

    actions.set_familiarity(engineer, rep, 3, acting_user=rep, source=PAGE)
    actions.set_familiarity(engineer, teammate, 1, acting_user=rep, source=PAGE)
    actions.set_familiarity(engineer, rep, 2, acting_user=rep, source=PAGE)

    assert dict(Familiarity.objects.values_list("user__username", "strength")) == {
        "rep": 2,
        "teammate": 1,
    }
    assert history_of(engineer).first().changes == {"strength": [3, 2]}


def test_an_impossible_familiarity_is_refused(rep, account):
    with pytest.raises(ValidationError) as refused:
        actions.set_familiarity(f.contact(rep, account), rep, 9, acting_user=rep, source=PAGE)

    assert "strength" in refused.value.message_dict
