"""create_record, update_record and remove_record: the generic writes behind forms,
admin, API and import, with optimistic concurrency."""

from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from kam.history.models import Change
from kam.history.record import history_of
from kam.org.scoping import visible
from kam.sales import actions
from kam.sales.actions import StaleRecord
from kam.sales.models import Account, Activity, Lead, Opportunity

from . import factories as f
from .factories import PAGE, TODAY

pytestmark = pytest.mark.django_db


def test_creating_a_record_writes_it_with_a_history_row_of_its_values(rep):
    account = f.account(rep, industry="建筑施工", region="武汉")

    assert Account.objects.get().name == "中建三局第二建设工程"
    (change,) = history_of(account)
    assert change.action == Change.Action.CREATE
    assert change.user == rep
    assert change.source == "page"
    assert change.version == 1
    assert change.changes["industry"] == [None, "建筑施工"]
    assert change.changes["name"] == [None, "中建三局第二建设工程"]


def test_the_owner_defaults_to_the_acting_user_and_the_team_to_their_only_team(rep, teams):
    account = f.account(rep)

    assert account.owner == rep
    assert account.team == teams["north"]


def test_a_user_in_several_teams_must_choose_the_team(manager, teams):
    with pytest.raises(ValidationError) as refused:
        f.account(manager)

    assert "team" in refused.value.message_dict
    assert f.account(manager, team=teams["east"]).team == teams["east"]


def test_records_at_an_account_default_to_the_accounts_team(manager, rep, teams):
    account = f.account(rep)

    deal = f.opportunity(manager, account)

    assert deal.team == teams["north"]
    assert deal.owner == manager


def test_bad_input_names_the_field_and_writes_nothing(rep):
    account = f.account(rep)
    before = Change.objects.count()

    with pytest.raises(ValidationError) as refused:
        f.opportunity(rep, account, amount=Decimal("-1"), name="")

    assert set(refused.value.message_dict) == {"amount", "name"}
    assert not Opportunity.all_objects.exists()
    assert Change.objects.count() == before


def test_an_unknown_or_computed_field_is_refused(rep):
    with pytest.raises(ValidationError) as refused:
        f.account(rep, colour="red", version=7)

    assert set(refused.value.message_dict) == {"colour", "version"}


def test_a_page_cannot_set_the_stage_but_an_import_can(rep):
    account = f.account(rep)

    with pytest.raises(ValidationError) as refused:
        f.opportunity(rep, account, stage=4)
    assert "stage" in refused.value.message_dict

    imported = actions.create_record(
        Opportunity,
        acting_user=rep,
        source="import",
        account=account,
        name="已在投标的项目",
        amount=Decimal("500000"),
        stage=4,
    )
    assert imported.stage == 4
    assert history_of(imported).get().source == "import"


def test_a_link_to_a_record_in_the_recycle_bin_is_refused(rep):
    account = f.account(rep)
    actions.delete_record(account, acting_user=rep, source=PAGE)

    with pytest.raises(ValidationError) as refused:
        f.opportunity(rep, account)

    assert refused.value.message_dict == {"account": ["This record is in the recycle bin."]}


def test_an_update_records_old_and_new_values_and_bumps_the_version(rep):
    account = f.account(rep, region="武汉")

    saved = actions.update_record(
        account,
        acting_user=rep,
        source="api",
        expected_version=1,
        changes={"region": "长沙", "grade": "A"},
    )

    assert saved.version == 2
    assert Account.objects.get().region == "长沙"
    change = history_of(account).first()
    assert change.action == Change.Action.UPDATE
    assert change.changes == {"region": ["武汉", "长沙"], "grade": ["", "A"]}
    assert (change.version, change.source, change.user) == (2, "api", rep)


def test_an_update_that_changes_nothing_writes_nothing(rep):
    deal = f.opportunity(rep, f.account(rep), amount=Decimal("800000"))

    saved = actions.update_record(
        deal,
        acting_user=rep,
        source=PAGE,
        expected_version=1,
        changes={"amount": "800000.00", "name": deal.name},
    )

    assert saved.version == 1
    assert history_of(deal).count() == 1


def test_a_stale_save_of_a_field_changed_since_is_refused_with_what_changed(rep, teammate):
    account = f.account(rep, region="武汉")
    actions.update_record(
        account,
        acting_user=teammate,
        source=PAGE,
        expected_version=1,
        changes={"region": "长沙"},
    )

    with pytest.raises(StaleRecord) as refused:
        actions.update_record(
            account,
            acting_user=rep,
            source=PAGE,
            expected_version=1,
            changes={"region": "郑州", "industry": "建材"},
        )

    stale = refused.value
    assert stale.conflicts == {"region"}
    ((since),) = stale.changes_since
    assert (since.field, since.old, since.new, since.user) == ("region", "武汉", "长沙", teammate)
    assert stale.rejected == {"region": "郑州", "industry": "建材"}
    assert (stale.expected_version, stale.current_version) == (1, 2)
    assert "长沙" in stale.message_dict["region"][0]
    assert "teammate" in stale.message_dict["region"][0] or "芳" in stale.message_dict["region"][0]
    stored = Account.objects.get()
    assert (stored.region, stored.industry, stored.version) == ("长沙", "", 2)


def test_edits_to_different_fields_of_the_same_record_merge(rep, teammate):
    account = f.account(rep, region="武汉")
    actions.update_record(
        account, acting_user=teammate, source=PAGE, expected_version=1, changes={"region": "长沙"}
    )

    merged = actions.update_record(
        account, acting_user=rep, source=PAGE, expected_version=1, changes={"industry": "建材"}
    )

    assert (merged.region, merged.industry, merged.version) == ("长沙", "建材", 3)


def test_both_saving_the_same_value_is_no_conflict(rep, teammate):
    account = f.account(rep, region="武汉")
    actions.update_record(
        account, acting_user=teammate, source=PAGE, expected_version=1, changes={"region": "长沙"}
    )

    saved = actions.update_record(
        account,
        acting_user=rep,
        source=PAGE,
        expected_version=1,
        changes={"region": "长沙", "industry": "建材"},
    )

    assert saved.version == 3
    assert history_of(account).first().changes == {"industry": ["", "建材"]}


def test_a_save_that_does_not_say_its_version_is_refused(rep):
    account = f.account(rep)

    with pytest.raises(ValidationError) as refused:
        actions.update_record(
            account,
            acting_user=rep,
            source="api",
            expected_version=None,
            changes={"region": "长沙"},
        )

    assert "expected_version" in refused.value.message_dict
    assert Account.objects.get().region == ""


def test_a_version_without_history_refuses_the_whole_save(rep):
    account = f.account(rep)
    # A write that bypassed the actions: nobody can say which fields it changed.
    Account.objects.filter(pk=account.pk).update(version=2, region="长沙")

    with pytest.raises(StaleRecord) as refused:
        actions.update_record(
            account, acting_user=rep, source=PAGE, expected_version=1, changes={"industry": "建材"}
        )

    assert NON_FIELD_ERRORS in refused.value.message_dict
    assert refused.value.rejected == {"industry": "建材"}


def test_an_update_through_a_scoped_queryset_cannot_reach_other_teams_records(rep, outsider):
    theirs = f.account(outsider)

    with pytest.raises(Account.DoesNotExist):
        actions.update_record(
            visible(rep, Account.objects.all()),
            pk=theirs.pk,
            acting_user=rep,
            source=PAGE,
            expected_version=1,
            changes={"name": "改名"},
        )

    assert Account.objects.get().name == theirs.name


def test_an_invalid_update_leaves_record_and_history_unchanged(rep):
    deal = f.opportunity(rep, f.account(rep))

    with pytest.raises(ValidationError) as refused:
        actions.update_record(
            deal,
            acting_user=rep,
            source=PAGE,
            expected_version=1,
            changes={"name": "新名称", "amount": "-5"},
        )

    assert set(refused.value.message_dict) == {"amount"}
    stored = Opportunity.objects.get()
    assert (stored.name, stored.version) == ("搅拌站扩建供货", 1)
    assert history_of(deal).count() == 1


def test_verb_owned_and_fixed_fields_are_refused_by_update(rep):
    account, other = f.account(rep), f.account(rep, name="国网湖北电力")
    deal = f.opportunity(rep, account)

    with pytest.raises(ValidationError) as refused:
        actions.update_record(
            deal,
            acting_user=rep,
            source=PAGE,
            expected_version=1,
            changes={"stage": 3, "outcome": "won", "account": other},
        )

    assert set(refused.value.message_dict) == {"stage", "outcome", "account"}


def test_a_lead_screening_result_cannot_be_typed_in(rep):
    lead = f.lead(rep)

    with pytest.raises(ValidationError) as refused:
        actions.update_record(
            lead, acting_user=rep, source=PAGE, expected_version=1, changes={"grade": "A"}
        )

    assert "screening" in refused.value.message_dict["grade"][0]
    assert Lead.objects.get().grade == ""


def test_a_record_in_the_recycle_bin_cannot_be_updated(rep):
    account = f.account(rep)
    actions.delete_record(account, acting_user=rep, source=PAGE)

    with pytest.raises(ValidationError) as refused:
        actions.update_record(
            account, acting_user=rep, source=PAGE, expected_version=2, changes={"region": "长沙"}
        )

    assert "recycle bin" in refused.value.message_dict[NON_FIELD_ERRORS][0]


def test_many_to_many_changes_are_recorded_as_lists(rep, teammate):
    account = f.account(rep)
    zhang, li = f.contact(rep, account), f.contact(rep, account, name="李科长")
    visit = actions.log_activity(
        account=account, kind="visit", on=TODAY, contacts=[zhang], acting_user=rep, source=PAGE
    )

    saved = actions.update_record(
        visit,
        acting_user=rep,
        source=PAGE,
        expected_version=1,
        changes={"contacts": [zhang, li.pk], "participants": [teammate]},
    )

    assert set(saved.contacts.all()) == {zhang, li}
    change = history_of(visit).first()
    assert change.changes["contacts"] == [[zhang.pk], sorted([zhang.pk, li.pk])]
    assert change.changes["participants"] == [[], [teammate.pk]]


def test_an_unversioned_record_is_refused_by_update_record(rep):
    account = f.account(rep)
    trust = actions.add_trust_action(
        account, action="factory_visit", on=TODAY, acting_user=rep, source=PAGE
    )

    with pytest.raises(TypeError):
        actions.update_record(
            trust, acting_user=rep, source=PAGE, expected_version=1, changes={"evidence": "x"}
        )


def test_remove_record_deletes_and_keeps_the_old_values_in_history(rep):
    account = f.account(rep)
    visit = actions.log_activity(
        account=account, kind="call", on=TODAY, notes="约了下周三", acting_user=rep, source=PAGE
    )

    actions.remove_record(visit, acting_user=rep, source=PAGE)

    assert not Activity.objects.exists()
    change = history_of(visit).first()
    assert change.action == Change.Action.REMOVE
    assert change.changes["notes"] == ["约了下周三", None]


def test_accounts_go_to_the_recycle_bin_not_through_remove_record(rep):
    with pytest.raises(TypeError):
        actions.remove_record(f.account(rep), acting_user=rep, source=PAGE)


def test_an_unknown_source_is_refused(rep):
    with pytest.raises(ValueError):
        actions.create_record(Account, acting_user=rep, source="email", name="x")
