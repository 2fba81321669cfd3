"""Who may see what: the one place that answers it.

- an admin (superuser) sees everything;
- a manager sees the records of every team they manage;
- everyone sees the records of the teams they belong to, and their own.

Every path that reads records (pages, API, exports, search, autocomplete,
admin) starts from ``visible(user, queryset)`` or ``get_visible_or_404``; a
record out of scope answers 404, so its existence is not revealed.

The insider's identity is narrower still: see ``may_see_insider``.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from kam.org.models import Membership

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
    "insiderclaim": "opportunity__",
}


def team_ids(user) -> set[int]:
    """The teams whose records the user sees (member or manager)."""
    return set(Membership.objects.filter(user=user).values_list("team_id", flat=True))


def managed_team_ids(user) -> set[int]:
    return set(
        Membership.objects.filter(user=user, role=Membership.Role.MANAGER).values_list(
            "team_id", flat=True
        )
    )


def visible(user, queryset: QuerySet) -> QuerySet:
    """The part of ``queryset`` the user may see; nothing for anonymous users."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    path = _PATHS[queryset.model._meta.model_name]
    return queryset.filter(Q(**{f"{path}owner": user}) | Q(**{f"{path}team__in": team_ids(user)}))


def get_visible_or_404(user, queryset: QuerySet, **lookup):
    """One record the user may see, or 404 whether it is missing or out of scope."""
    try:
        return visible(user, queryset).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None


def may_see_insider(user, opportunity) -> bool:
    """Only the deal's owner, the managers of its team and admins learn who the insider is;
    teammates see only that an insider exists."""
    if not user.is_authenticated:
        return False
    return (
        user.is_superuser
        or opportunity.owner_id == user.pk
        or opportunity.team_id in managed_team_ids(user)
    )
