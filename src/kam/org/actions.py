"""Writes to users, teams and memberships: atomic, with their history rows.

Like ``kam.sales.actions``: keyword-only ``acting_user`` (``None`` for the
command line run by the machine's operator) and ``source`` (a
``Change.Source``), validation before anything is written, and a
``kam.history`` row in the same transaction. A user's history never holds the
password, not even hashed.
"""

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kam.history.record import Action, record, snapshot
from kam.org.models import Membership, Team

# Fields of a user that history keeps.
_USER_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff")
_USER_FIELDS += ("is_superuser",)


def create_team(name: str, *, acting_user=None, source: str) -> Team:
    """A new team called ``name``; ``ValidationError`` if the name is taken or empty."""
    with transaction.atomic():
        team = Team(name=name.strip())
        team.full_clean()
        team.save()
        record(team, action=Action.CREATE, user=acting_user, source=source)
    return team


def create_user(
    username: str,
    *,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    admin: bool = False,
    acting_user=None,
    source: str,
):
    """A new active user with ``password``, which Django's password validators
    check first (``ValidationError({"password": [...]})`` lists every reason).
    ``admin`` makes a superuser who may use the admin site. Add them to a team
    with ``join_team``; ``create_user`` alone gives a user who sees nothing of
    anyone else's."""
    model = get_user_model()
    user = model(
        username=username,
        email=model.objects.normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        is_staff=admin,
        is_superuser=admin,
    )
    errors = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        values = snapshot(user)
        changes = {k: [None, values[k]] for k in _USER_FIELDS if values.get(k) not in (None, "")}
        record(user, action=Action.CREATE, user=acting_user, source=source, changes=changes)
    return user


def join_team(user, team: Team, *, role: str = Membership.Role.REP, acting_user=None, source: str):
    """``user`` joins ``team`` as a rep or a manager (or changes role if already in it)."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("A role is rep or manager.")})
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user=user, team=team).first()
        if membership is None:
            membership = Membership.objects.create(user=user, team=team, role=role)
            record(membership, action=Action.CREATE, user=acting_user, source=source, parent=user)
        elif membership.role != role:
            old = membership.role
            membership.role = role
            membership.save(update_fields=["role"])
            record(
                membership,
                action=Action.UPDATE,
                user=acting_user,
                source=source,
                changes={"role": [old, role]},
                parent=user,
            )
    return membership
