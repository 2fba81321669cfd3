"""Who may see what: the one place that answers it.

- an admin (superuser) sees everything;
- a manager sees the records of every team they manage;
- everyone sees the records of the teams they belong to, and their own;
- anonymous and deactivated users see nothing.

Every path that reads records (pages, API, exports, search, autocomplete,
admin) starts from ``visible(user, queryset)`` or ``get_visible_or_404``; a
record out of scope answers 404, so its existence is not revealed.

The insider's identity is narrower still: see ``may_see_insider``. The facts
an insider supplied (``InsiderClaim``) name the insider, so they are scoped
the same narrow way; targets belong to a person or a team, see ``_targets``.
Teams, memberships and users are seen by the people who share a team with
them (the choices of an owner or a team on a form come from here too).
"""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404

from kam.org.models import Membership, Team

# How each model reaches the owner and team that decide its visibility.
_PATHS = {
    "account": "",
    "lead": "",
    "opportunity": "",
    "activity": "",
    "offfunnelorder": "",
    "contact": "account__",
    "familiarity": "contact__account__",
    "trustactiondone": "account__",
    "buyingcenterentry": "opportunity__",
    "keynodeevidence": "opportunity__",
    "stageoverride": "opportunity__",
    "dealfigures": "opportunity__",
    "accountfigures": "account__",
}


def team_ids(user) -> set[int]:
    """The teams whose records the user sees (member or manager)."""
    return set(_teams(user).values_list("team_id", flat=True))


def managed_team_ids(user) -> set[int]:
    """The teams the user manages."""
    return set(_managed_teams(user).values_list("team_id", flat=True))


# Subqueries rather than id lists: ``visible`` then costs no query of its own and
# stays one SQL statement however many teams a manager runs.
def _teams(user):
    return Membership.objects.filter(user=user).values("team_id")


def _managed_teams(user):
    return Membership.objects.filter(user=user, role=Membership.Role.MANAGER).values("team_id")


def _may_see_anything(user) -> bool:
    return user.is_authenticated and user.is_active


def visible(user, queryset: QuerySet) -> QuerySet:
    """The part of ``queryset`` the user may see; nothing for anonymous or inactive users.

    Raises ``KeyError`` for a model this module does not know: a new model must
    say here how it is scoped before any path can list it.
    """
    if not _may_see_anything(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    if queryset.model is get_user_model():
        colleagues = Membership.objects.filter(team__in=_teams(user)).values("user_id")
        return queryset.filter(Q(pk=user.pk) | Q(pk__in=colleagues))
    if queryset.model is Team:
        return queryset.filter(pk__in=_teams(user))
    if queryset.model is Membership:
        return queryset.filter(team__in=_teams(user))
    name = queryset.model._meta.model_name
    if name == "insiderclaim":
        return queryset.filter(insider_circle(user, "opportunity__"))
    if name == "target":
        return queryset.filter(_targets(user))
    path = _PATHS[name]
    return queryset.filter(Q(**{f"{path}owner": user}) | Q(**{f"{path}team__in": _teams(user)}))


def insider_circle(user, path: str = "") -> Q:
    """The deals (reached through ``path``) whose insider the user may learn: the
    condition of ``may_see_insider`` for a query. Everything for an admin."""
    if user.is_superuser:
        return Q(pk__isnull=False) if not path else Q(**{f"{path}pk__isnull": False})
    return Q(**{f"{path}owner": user}) | Q(**{f"{path}team__in": _managed_teams(user)})


def _targets(user) -> Q:
    """One's own targets, the targets of one's teams, and a manager's reps' targets;
    a rep does not see a teammate's personal target."""
    members_of_managed_teams = Membership.objects.filter(team__in=_managed_teams(user)).values(
        "user_id"
    )
    return Q(user=user) | Q(team__in=_teams(user)) | Q(user__in=members_of_managed_teams)


def get_visible_or_404(user, queryset: QuerySet, **lookup):
    """One record the user may see, or 404 whether it is missing or out of scope."""
    try:
        return visible(user, queryset).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None


def may_see_insider(user, opportunity) -> bool:
    """Only the deal's owner, the managers of its team and admins learn who the insider is;
    teammates see only that an insider exists. Inactive users learn nothing."""
    if not _may_see_anything(user):
        return False
    return (
        user.is_superuser
        or opportunity.owner_id == user.pk
        or opportunity.team_id in managed_team_ids(user)
    )


def may_set_target(user, *, user_id=None, team_id=None) -> bool:
    """Targets are set by an admin, or by a manager of the team (or of the person's team)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    managed = managed_team_ids(user)
    if team_id is not None and team_id in managed:
        return True
    return user_id is not None and (
        Membership.objects.filter(user_id=user_id, team_id__in=managed).exists()
    )
