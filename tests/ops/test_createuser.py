"""``kam createuser USERNAME --team TEAM``: a user in a team, with a checked password."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from kam.history.models import Change
from kam.org.models import Membership, Team

pytestmark = pytest.mark.django_db

GOOD = "a long enough passphrase 42"


def _createuser(monkeypatch, *args, password=GOOD):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("createuser", *args, "--password-stdin", stdout=out)
    return out.getvalue()


def test_the_user_joins_the_team_and_can_sign_in(monkeypatch, teams):
    output = _createuser(monkeypatch, "wangwei", "--team", "north", "--first-name", "伟")

    user = get_user_model().objects.get(username="wangwei")
    assert user.check_password(GOOD)
    assert (user.first_name, user.is_superuser) == ("伟", False)
    assert Membership.objects.get(user=user).team == teams["north"]
    assert Membership.objects.get(user=user).role == "rep"
    assert "wangwei created" in output


def test_a_manager_manages_and_an_admin_administers(monkeypatch, teams):
    _createuser(monkeypatch, "boss", "--team", "north", "--manager")
    _createuser(monkeypatch, "root", "--team", "north", "--admin", "--email", "r@EXAMPLE.com")

    assert Membership.objects.get(user__username="boss").role == "manager"
    root = get_user_model().objects.get(username="root")
    assert (root.is_superuser, root.is_staff, root.email) == (True, True, "r@example.com")


def test_a_missing_team_is_created(monkeypatch, db):
    output = _createuser(monkeypatch, "first", "--team", "华东大客户部")

    assert Team.objects.get().name == "华东大客户部"
    assert "Team 华东大客户部 created." in output


def test_history_records_the_user_and_the_membership_without_the_password(monkeypatch, teams):
    _createuser(monkeypatch, "wangwei", "--team", "north")

    changes = Change.objects.filter(source="system").order_by("id")
    assert [c.content_type.model for c in changes] == ["user", "membership"]
    assert "password" not in changes[0].changes
    assert changes[0].changes["username"] == [None, "wangwei"]


@pytest.mark.parametrize("password", ["12345678", "short", "password", "wangwei123"])
def test_a_weak_password_is_refused_and_nothing_is_created(monkeypatch, db, password):
    with pytest.raises(CommandError) as caught:
        _createuser(monkeypatch, "wangwei", "--team", "new team", password=password)

    assert caught.value.returncode == 1
    assert "password" in str(caught.value)
    assert not get_user_model().objects.exists()
    assert not Team.objects.exists()


def test_a_taken_username_is_refused(monkeypatch, rep):
    with pytest.raises(CommandError) as caught:
        _createuser(monkeypatch, "rep", "--team", "north")

    assert "username" in str(caught.value)


def test_without_a_terminal_the_password_must_come_from_stdin(monkeypatch, teams):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    with pytest.raises(CommandError) as caught:
        call_command("createuser", "wangwei", "--team", "north")

    assert "--password-stdin" in str(caught.value)
