"""The admin: for staff only, scoped like every other path, saving through the actions,
and showing the history read-only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.history.models import Change
from kam.history.record import history_of, record
from kam.org.models import CompanySettings, Membership, Team
from kam.sales import actions
from kam.sales.models import Account, BuyingCenterEntry, Opportunity
from tests.org.records import tree

pytestmark = pytest.mark.django_db

PAGE = Change.Source.PAGE
KAM_APPS = {"sales", "org", "history"}
ADMINS = sorted(
    (
        model
        for model in django_admin.site._registry
        if model._meta.app_label in KAM_APPS or model is get_user_model()
    ),
    key=lambda model: model._meta.label,
)


def _grow(count):
    """Make ``count`` more teams, each with a rep, a full tree of records and history."""
    start = Team.objects.count()
    for i in range(start, start + count):
        team = Team.objects.create(name=f"第{i}组")
        user = get_user_model().objects.create_user(f"user{i}", password="x" * 12)
        Membership.objects.create(user=user, team=team)
        records = tree(user, team, f"{i}号")
        with transaction.atomic():
            record(records["account"], action=Change.Action.CREATE, user=user, source=PAGE)


def _changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _change(obj):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def staff_manager(manager):
    """The manager of north and east, made staff by an admin and given the sales models'
    permissions (the admin is not given to managers by default)."""
    manager.is_staff = True
    manager.save()
    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="sales"))
    return get_user_model().objects.get(pk=manager.pk)  # without a stale permission cache


@pytest.fixture
def world(teams, rep, outsider):
    north = tree(rep, teams["north"], "北")
    east_rep = get_user_model().objects.create_user("easterner", password="x" * 12)
    Membership.objects.create(user=east_rep, team=teams["east"])
    return {
        "north": north,
        "east": tree(east_rep, teams["east"], "东"),
        "south": tree(outsider, teams["south"], "南"),
    }


# The company settings are one row: their list opens the row (see below).
@pytest.mark.parametrize(
    "model", [m for m in ADMINS if m is not CompanySettings], ids=lambda model: model._meta.label
)
def test_every_list_loads_for_an_admin_in_as_many_queries_for_20_rows_as_for_2(
    admin_client, model, django_assert_max_num_queries
):
    url = _changelist(model)
    _grow(2)
    admin_client.get(url)  # warm the per-process caches (content types, ...)

    with django_assert_max_num_queries(20):
        with_2 = _queries(admin_client, url)
    _grow(18)
    with django_assert_max_num_queries(20):
        with_20 = _queries(admin_client, url)

    assert model._default_manager.count() >= 20
    assert with_20 == with_2


@pytest.mark.parametrize("model", ADMINS, ids=lambda model: model._meta.label)
def test_every_record_page_opens_for_an_admin(admin_client, model):
    _grow(1)
    CompanySettings.load()
    obj = model._default_manager.first()

    assert admin_client.get(_change(obj)).status_code == 200


def test_a_rep_is_not_staff_and_is_sent_to_the_login_page(client, rep, world):
    client.force_login(rep)

    response = client.get(_changelist(Account))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_staff_manager_lists_only_the_records_of_the_teams_they_manage(
    client, staff_manager, world
):
    client.force_login(staff_manager)

    response = client.get(_changelist(Opportunity))

    assert response.status_code == 200
    listed = {o.name for o in response.context["cl"].result_list}
    assert listed == {world["north"]["opportunity"].name, world["east"]["opportunity"].name}
    assert world["south"]["opportunity"].name not in response.content.decode()


def test_a_staff_manager_cannot_open_a_record_of_another_team(client, staff_manager, world):
    client.force_login(staff_manager)
    south = world["south"]["account"]

    response = client.get(_change(south), follow=True)

    assert south.name not in response.content.decode().split("<title>")[0]
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert client.get(_change(world["north"]["account"])).status_code == 200


def test_a_staff_managers_filters_and_choices_offer_only_their_teams(
    client, staff_manager, world, outsider, teams
):
    client.force_login(staff_manager)

    response = client.get(reverse("admin:sales_opportunity_add"))

    team_choices = response.context["adminform"].form.fields["team"].queryset
    assert {t.name for t in team_choices} == {"north", "east"}
    owner_choices = response.context["adminform"].form.fields["owner"].queryset
    assert "outsider" not in {u.username for u in owner_choices}
    listing = client.get(_changelist(Account)).content.decode()
    assert f"team__id__exact={teams['north'].pk}" in listing
    assert f"team__id__exact={teams['south'].pk}" not in listing
    assert f"owner__id__exact={outsider.pk}" not in listing


def test_autocomplete_offers_a_staff_manager_only_their_teams_accounts(
    client, staff_manager, world
):
    client.force_login(staff_manager)

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "sales", "model_name": "opportunity", "field_name": "account", "term": ""},
    )

    assert response.status_code == 200
    names = {r["text"] for r in response.json()["results"]}
    assert names == {world["north"]["account"].name, world["east"]["account"].name}


def test_a_posted_account_out_of_scope_is_refused(client, staff_manager, world, teams):
    client.force_login(staff_manager)

    response = client.post(
        reverse("admin:sales_opportunity_add"),
        {
            "account": world["south"]["account"].pk,
            "name": "越权项目",
            "amount": "1000",
            "currency": "CNY",
            "owner": staff_manager.pk,
            "team": teams["north"].pk,
        },
    )

    assert response.status_code == 200
    assert "account" in response.context["adminform"].form.errors
    assert not Opportunity.objects.filter(name="越权项目").exists()


def test_an_account_added_in_the_admin_is_created_by_the_action_with_its_history(
    admin_client, admin, teams
):
    response = admin_client.post(
        reverse("admin:sales_account_add"),
        {
            "name": "中石化镇海炼化",
            "owner": admin.pk,
            "team": teams["east"].pk,
            "lifecycle": "incubation",
            "relationship_type": "outsider",
            "relationship_level": 1,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    account = Account.objects.get(name="中石化镇海炼化")
    (change,) = history_of(account)
    assert (change.action, change.source, change.user) == ("create", PAGE, admin)


def _account_form(account, **changes):
    data = {
        "name": account.name,
        "grade": account.grade,
        "industry": account.industry,
        "region": account.region,
        "scale": account.scale,
        "ownership": account.ownership,
        "owner": account.owner_id,
        "team": account.team_id,
        "lifecycle": account.lifecycle,
        "relationship_type": account.relationship_type,
        "relationship_level": account.relationship_level,
        "expected_version": account.version,
    }
    for name in ("funding_notes", "credit_notes", *Account.FILE_FIELDS):
        data[name] = getattr(account, name)
    data.update(changes)
    return data


def test_a_change_in_the_admin_bumps_the_version_and_writes_history(
    admin_client, admin, rep, teams
):
    account = actions.create_record(
        Account, acting_user=rep, source=PAGE, name="海螺水泥", team=teams["north"]
    )

    response = admin_client.post(_change(account), _account_form(account, region="安徽芜湖"))

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.region, account.version) == ("安徽芜湖", 2)
    latest = history_of(account).first()
    assert (latest.action, latest.source, latest.user) == ("update", PAGE, admin)
    assert latest.changes == {"region": ["", "安徽芜湖"]}


def test_a_stale_save_in_the_admin_is_refused_with_the_input_kept(
    admin_client, rep, teammate, teams
):
    account = actions.create_record(
        Account, acting_user=rep, source=PAGE, name="海螺水泥", team=teams["north"]
    )
    opened = _account_form(account, region="安徽芜湖")
    actions.update_record(
        account,
        acting_user=teammate,
        source=PAGE,
        expected_version=1,
        changes={"region": "安徽马鞍山"},
    )

    response = admin_client.post(_change(account), opened)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "region" in form.errors
    assert form["region"].value() == "安徽芜湖"
    account.refresh_from_db()
    assert account.region == "安徽马鞍山"


def test_a_save_of_other_fields_after_someone_elses_merges(admin_client, rep, teammate, teams):
    account = actions.create_record(
        Account, acting_user=rep, source=PAGE, name="海螺水泥", team=teams["north"]
    )
    opened = _account_form(account, industry="建材")
    actions.update_record(
        account,
        acting_user=teammate,
        source=PAGE,
        expected_version=1,
        changes={"region": "安徽马鞍山"},
    )

    response = admin_client.post(_change(account), {**opened, "region": "安徽马鞍山"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.industry, account.region, account.version) == ("建材", "安徽马鞍山", 3)


def test_deleting_an_account_in_the_admin_moves_it_to_the_recycle_bin(admin_client, admin, world):
    account = world["north"]["account"]

    response = admin_client.post(
        reverse("admin:sales_account_delete", args=[account.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Account.objects.filter(pk=account.pk).exists()
    assert Account.all_objects.get(pk=account.pk).deleted_at is not None
    assert history_of(account, parts=False).first().action == "delete"


def test_a_stage_cannot_be_set_in_the_admin(admin_client, world):
    deal = world["north"]["opportunity"]

    response = admin_client.get(_change(deal))

    form = response.context["adminform"].form
    assert "stage" not in form.fields
    assert "outcome" not in form.fields
    assert "name" in form.fields


def test_the_insider_is_hidden_from_a_staff_teammate_and_shown_to_the_manager(
    client, staff_manager, teammate, world
):
    teammate.is_staff = True
    teammate.save()
    teammate.user_permissions.add(*Permission.objects.filter(content_type__app_label="sales"))
    entry = world["north"]["buyingcenterentry"]
    assert entry.insider

    client.force_login(teammate)
    assert "insider" not in client.get(_change(entry)).context["adminform"].form.fields
    client.force_login(staff_manager)
    assert "insider" in client.get(_change(entry)).context["adminform"].form.fields


def test_a_staff_teammate_does_not_see_the_insiders_claims(client, teammate, world):
    teammate.is_staff = True
    teammate.save()
    teammate.user_permissions.add(*Permission.objects.filter(content_type__app_label="sales"))
    client.force_login(teammate)

    response = client.get(reverse("admin:sales_insiderclaim_changelist"))

    assert list(response.context["cl"].result_list) == []


def test_a_buying_center_entry_saved_in_the_admin_goes_through_its_verb(admin_client, world):
    entry = world["north"]["buyingcenterentry"]

    response = admin_client.post(
        _change(entry),
        {
            "decision_maker": "on",
            "influence": 3,
            "attitude": "supporter",
            "strength": 2,
            "insider": "on",
        },
    )

    assert response.status_code == 302
    entry = BuyingCenterEntry.objects.get(pk=entry.pk)
    assert (entry.decision_maker, entry.technical, entry.attitude) == (True, False, "supporter")
    assert history_of(entry, parts=False).first().source == PAGE


@pytest.mark.parametrize("persona", ["admin", "staff_manager"])
def test_no_one_adds_changes_or_deletes_history_in_the_admin(client, request, persona, world):
    user = request.getfixturevalue(persona)
    with transaction.atomic():
        change = record(world["north"]["account"], action="create", user=user, source=PAGE)
    client.force_login(user)
    meta = "admin:history_change"

    assert client.get(reverse(f"{meta}_add")).status_code == 403
    assert client.post(reverse(f"{meta}_add"), {"object_repr": "伪造"}).status_code == 403
    delete = client.post(reverse(f"{meta}_delete", args=[change.pk]), {"post": "yes"})
    assert delete.status_code == 403
    edit = client.post(reverse(f"{meta}_change", args=[change.pk]), {"note": "改"})
    assert edit.status_code == 403
    assert Change.objects.get(pk=change.pk).note == ""
    history_admin = django_admin.site._registry[Change]
    fake = type("Request", (), {"user": user})()
    assert not history_admin.has_add_permission(fake)
    assert not history_admin.has_change_permission(fake, change)
    assert not history_admin.has_delete_permission(fake, change)


def test_an_admin_reads_the_history_with_its_old_and_new_values(admin_client, admin, rep, teams):
    account = actions.create_record(
        Account, acting_user=rep, source=PAGE, name="海螺水泥", team=teams["north"]
    )
    change = history_of(account).first()

    response = admin_client.get(_change(change))

    assert response.status_code == 200
    assert "海螺水泥" in response.content.decode()
    # No bulk delete action either: the list offers no action at all.
    assert admin_client.get(_changelist(Change)).context["action_form"] is None


def test_a_staff_manager_does_not_read_the_history(client, staff_manager):
    staff_manager.user_permissions.add(*Permission.objects.filter(codename="view_change"))
    client.force_login(get_user_model().objects.get(pk=staff_manager.pk))

    assert client.get(_changelist(Change)).status_code == 403


def test_the_company_settings_are_one_row_that_cannot_be_added_again_or_deleted(
    admin_client, admin
):
    settings_row = CompanySettings.load()

    listing = admin_client.get(_changelist(CompanySettings))

    assert listing.status_code == 302
    assert listing["Location"] == _change(settings_row)
    assert admin_client.get(reverse("admin:org_companysettings_add")).status_code == 403
    delete_url = reverse("admin:org_companysettings_delete", args=[settings_row.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert CompanySettings.objects.count() == 1


def test_changing_the_company_settings_writes_history(admin_client, admin):
    settings_row = CompanySettings.load()
    form = admin_client.get(_change(settings_row)).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data["off_funnel_threshold"] = "80000"

    response = admin_client.post(_change(settings_row), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    settings_row.refresh_from_db()
    assert settings_row.off_funnel_threshold == Decimal("80000")
    change = history_of(settings_row).first()
    assert (change.action, change.source, change.user) == ("update", PAGE, admin)
    assert change.changes["off_funnel_threshold"][1] == "80000.00"


def test_a_membership_added_in_the_admin_is_in_the_history(admin_client, admin, teams):
    newcomer = get_user_model().objects.create_user("newcomer", password="x" * 12)

    response = admin_client.post(
        reverse("admin:org_membership_add"),
        {"user": newcomer.pk, "team": teams["south"].pk, "role": "rep"},
    )

    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    assert history_of(membership).first().action == "create"


def test_targets_are_set_through_the_action(admin_client, rep):
    response = admin_client.post(
        reverse("admin:sales_target_add"),
        {"user": rep.pk, "start": "2026-01-01", "end": "2026-12-31", "amount": "5000000"},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    target = rep.targets.get()
    assert (target.start, target.amount) == (dt.date(2026, 1, 1), Decimal("5000000"))
    assert history_of(target).first().source == PAGE


def test_what_only_the_action_refuses_is_shown_on_the_form_and_nothing_is_saved(
    admin_client, admin, world, teams
):
    north, east = world["north"], world["east"]

    response = admin_client.post(
        reverse("admin:sales_activity_add"),
        {
            "kind": "visit",
            "on": "2025-03-02",
            "account": north["account"].pk,
            "contacts": [east["contact"].pk],
            "cost": "0",
            "owner": admin.pk,
            "team": teams["north"].pk,
        },
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["contacts"] == ["Every contact must work at the activity's account."]
    assert form["kind"].value() == "visit"
    assert not north["account"].activities.filter(on=dt.date(2025, 3, 2)).exists()


def test_the_rows_of_a_deal_in_the_recycle_bin_are_not_listed(admin_client, admin, world):
    deal = world["north"]["opportunity"]
    actions.delete_record(deal, acting_user=admin, source=PAGE)

    for model in ("keynodeevidence", "buyingcenterentry", "stageoverride", "insiderclaim"):
        listed = admin_client.get(reverse(f"admin:sales_{model}_changelist")).context["cl"]
        assert deal.pk not in {row.opportunity_id for row in listed.result_list}, model
        assert listed.result_count == 2, model  # east's and south's
