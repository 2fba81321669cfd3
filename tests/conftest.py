"""Shared personas: a rep and a teammate in the north team, their manager (who also
manages the east team), an admin, and an outsider in the south team."""

import os
import tempfile

import pytest

# Tests never touch the developer's ./data: settings read this before Django starts.
_DATA_DIR = tempfile.TemporaryDirectory(prefix="kam-test-data-")
os.environ.setdefault("KAM_DATA_DIR", _DATA_DIR.name)


@pytest.fixture
def teams(db):
    from kam.org.models import Team

    return {name: Team.objects.create(name=name) for name in ("north", "east", "south")}


def _user(username, **extra):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=username, password="correct horse battery", **extra
    )


def _join(user, team, role="rep"):
    from kam.org.models import Membership

    Membership.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def rep(teams):
    return _join(_user("rep", first_name="伟", last_name="王"), teams["north"])


@pytest.fixture
def teammate(teams):
    return _join(_user("teammate", first_name="芳", last_name="李"), teams["north"])


@pytest.fixture
def manager(teams):
    user = _user("manager", first_name="强", last_name="张")
    _join(user, teams["north"], "manager")
    return _join(user, teams["east"], "manager")


@pytest.fixture
def outsider(teams):
    return _join(_user("outsider", first_name="静", last_name="刘"), teams["south"])


@pytest.fixture
def admin(db):
    return _user("admin", is_superuser=True, is_staff=True)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    # PBKDF2 costs about half a second per persona on CI machines; tests check behaviour,
    # not cost. Session-wide so that module-scoped fixtures hash the same way as tests.
    from django.conf import settings

    if not settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
        return  # the pure method tests, run with -p no:django
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
