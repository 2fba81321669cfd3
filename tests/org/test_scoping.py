"""Who sees which records: every scoped model, every persona, zero leaks.

The world: one full tree of records (account, contact, deal, buying center,
evidence, activities, ...) in each of the north, east and south teams. The rep
and the teammate work in north, the manager manages north and east, the
outsider works in south. Records are made with the ORM: this is test set-up,
not a write path.
"""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from kam.org.models import Membership, Team
from kam.org.scoping import _PATHS, get_visible_or_404, may_see_insider, visible
from kam.sales import models as m
from tests.org.records import tree

pytestmark = pytest.mark.django_db

# Every model scoped through an owner and a team, plus the two with their own rule.
SCOPED = [*_PATHS, "insiderclaim", "target"]


@pytest.fixture
def easterner(teams):
    user = get_user_model().objects.create_user("easterner", password="correct horse battery")
    Membership.objects.create(user=user, team=teams["east"])
    return user


@pytest.fixture
def inactive(teams):
    user = get_user_model().objects.create_user(
        "inactive", password="correct horse battery", is_active=False
    )
    Membership.objects.create(user=user, team=teams["north"])
    return user


@pytest.fixture
def anonymous():
    return AnonymousUser()


@pytest.fixture
def world(teams, rep, teammate, manager, outsider, easterner):
    return {
        "north": tree(rep, teams["north"], "北"),
        "east": tree(easterner, teams["east"], "东"),
        "south": tree(outsider, teams["south"], "南"),
    }


def _model(name):
    return apps.get_model("sales", name)


def _records(world, name, *team_names):
    """The records of model ``name`` in the given teams' trees."""
    found = set()
    for team_name in team_names:
        tree = world[team_name]
        found.add(tree[name])
        if name == "target":
            found.add(tree["team target"])
    return found


def _seen(user, name):
    return set(visible(user, _model(name).objects.all()))


@pytest.mark.parametrize("name", SCOPED)
def test_a_rep_sees_every_record_of_their_team_and_nothing_of_the_others(world, rep, name):
    assert _seen(rep, name) == _records(world, name, "north")


@pytest.mark.parametrize("name", SCOPED)
def test_a_manager_of_two_teams_sees_the_records_of_both_and_nothing_else(world, manager, name):
    assert _seen(manager, name) == _records(world, name, "north", "east")


@pytest.mark.parametrize("name", SCOPED)
def test_a_rep_of_another_team_sees_only_their_own_team(world, outsider, name):
    assert _seen(outsider, name) == _records(world, name, "south")


@pytest.mark.parametrize("name", SCOPED)
def test_an_admin_sees_every_record(world, admin, name):
    assert _seen(admin, name) == _records(world, name, "north", "east", "south")


@pytest.mark.parametrize("persona", ["anonymous", "inactive"])
@pytest.mark.parametrize("name", SCOPED)
def test_anonymous_and_deactivated_users_see_nothing(world, request, persona, name):
    assert _seen(request.getfixturevalue(persona), name) == set()


@pytest.mark.parametrize("name", sorted(set(SCOPED) - {"insiderclaim", "target"}))
def test_a_teammate_sees_the_records_of_the_team_they_share(world, teammate, name):
    assert _seen(teammate, name) == _records(world, name, "north")


def test_a_teammate_does_not_see_the_insiders_claims_which_would_name_the_insider(world, teammate):
    assert _seen(teammate, "insiderclaim") == set()


def test_a_teammate_sees_the_team_target_but_not_a_colleagues_personal_target(world, teammate):
    assert _seen(teammate, "target") == {world["north"]["team target"]}


def test_a_manager_sees_the_personal_targets_of_the_reps_in_the_teams_they_manage(world, manager):
    personal = {t for t in _seen(manager, "target") if t.user_id}
    assert {t.user.username for t in personal} == {"rep", "easterner"}


def test_a_rep_sees_a_record_they_own_in_another_team_and_that_teams_people_do_too(
    world, teams, rep, teammate, outsider
):
    account = m.Account.objects.create(name="借调项目", owner=rep, team=teams["south"])

    assert account in _seen(rep, "account")
    assert account in _seen(outsider, "account")
    assert account not in _seen(teammate, "account")


def test_a_member_of_several_teams_sees_each_of_them(world, teams, teammate):
    Membership.objects.create(user=teammate, team=teams["south"])

    assert _seen(teammate, "opportunity") == _records(world, "opportunity", "north", "south")


def test_every_sales_model_with_an_owner_or_a_parent_is_scoped(world, rep):
    """A new model must be added to the scoping module before any path can list it."""
    for model in apps.get_app_config("sales").get_models():
        if model._meta.auto_created:
            continue
        assert model._meta.model_name in SCOPED, model
        visible(rep, model.objects.all())  # raises KeyError for an unknown model


def test_visibility_costs_one_query_however_many_teams_a_manager_runs(
    world, manager, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert len(list(visible(manager, m.Opportunity.objects.all()))) == 2


def test_get_visible_or_404_returns_a_record_in_scope(world, teammate):
    deal = world["north"]["opportunity"]

    assert get_visible_or_404(teammate, m.Opportunity.objects, pk=deal.pk) == deal


def test_a_record_out_of_scope_answers_404_without_its_name(world, outsider):
    deal = world["north"]["opportunity"]

    with pytest.raises(Http404) as raised:
        get_visible_or_404(outsider, m.Opportunity.objects, pk=deal.pk)

    assert deal.name not in str(raised.value)


def test_a_missing_record_answers_the_same_404_as_a_hidden_one(world, outsider):
    hidden = world["north"]["opportunity"]
    with pytest.raises(Http404) as for_hidden:
        get_visible_or_404(outsider, m.Opportunity.objects, pk=hidden.pk)
    with pytest.raises(Http404) as for_missing:
        get_visible_or_404(outsider, m.Opportunity.objects, pk=10**9)

    assert str(for_hidden.value) == str(for_missing.value)


def test_an_anonymous_visitor_gets_404_even_for_an_existing_record(world, anonymous):
    with pytest.raises(Http404):
        get_visible_or_404(anonymous, m.Account.objects, pk=world["north"]["account"].pk)


@pytest.mark.parametrize("name", ["account", "contact", "opportunity"])
def test_a_record_in_the_recycle_bin_is_not_among_the_live_records(world, admin, name):
    record = world["north"][name]
    _model(name).all_objects.filter(pk=record.pk).update(deleted_at=timezone.now())

    assert not _model(name).objects.filter(pk=record.pk).exists()
    assert record not in _seen(admin, name)
    assert _model(name).all_objects.filter(pk=record.pk).exists()
    with pytest.raises(Http404):
        get_visible_or_404(admin, _model(name).objects, pk=record.pk)


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("rep", True),
        ("manager", True),
        ("admin", True),
        ("teammate", False),
        ("outsider", False),
        ("anonymous", False),
        ("inactive", False),
    ],
)
def test_only_the_owner_their_manager_and_admins_learn_who_the_insider_is(
    world, request, persona, sees
):
    deal = world["north"]["opportunity"]

    assert may_see_insider(request.getfixturevalue(persona), deal) is sees


def test_the_manager_of_another_team_does_not_learn_who_the_insider_is(world, teams):
    south_manager = get_user_model().objects.create_user("south_manager", password="x" * 12)
    Membership.objects.create(user=south_manager, team=teams["south"], role="manager")

    assert may_see_insider(south_manager, world["south"]["opportunity"])
    assert not may_see_insider(south_manager, world["north"]["opportunity"])


def test_a_deactivated_admin_sees_nothing(world, admin):
    admin.is_active = False

    assert _seen(admin, "account") == set()
    assert not may_see_insider(admin, world["north"]["opportunity"])


def test_people_see_the_teams_they_are_in_and_the_people_who_share_them(
    world, rep, manager, outsider, admin
):
    users = get_user_model().objects.all()

    assert {t.name for t in visible(rep, Team.objects.all())} == {"north"}
    assert {t.name for t in visible(manager, Team.objects.all())} == {"north", "east"}
    assert {u.username for u in visible(rep, users)} == {"rep", "teammate", "manager"}
    assert {u.username for u in visible(manager, users)} == {
        "rep",
        "teammate",
        "manager",
        "easterner",
    }
    assert {u.username for u in visible(outsider, users)} == {"outsider"}
    assert {ms.user.username for ms in visible(outsider, Membership.objects.all())} == {"outsider"}
    assert set(visible(admin, users)) == set(users)


def test_a_user_in_no_team_sees_only_themselves_and_their_own_records(world, teams):
    loner = get_user_model().objects.create_user("loner", password="x" * 12)
    account = m.Account.objects.create(name="独立客户", owner=loner, team=teams["south"])

    assert set(visible(loner, get_user_model().objects.all())) == {loner}
    assert set(visible(loner, Team.objects.all())) == set()
    assert _seen(loner, "account") == {account}
