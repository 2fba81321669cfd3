"""The rows of an export: what a user may see, narrowed by the list filters.

``export_rows(kind, user, filters)`` returns an ``Export``: an iterable of
dicts keyed by the column names of ``COLUMNS[kind]``, with a ``columns``
attribute so an empty export still has its header. Values keep their Python
types (``Decimal``, ``date``, ``bool``, ``int``, ``str``, ``None``); the writers
of ``kam.exports.files`` turn them into cells.

- Kinds: ``accounts``, ``contacts``, ``opportunities``, ``activities``,
  ``off-funnel-orders`` and ``leads``.
- Columns are KAM's field names, which ``kam import`` reads back as the same
  fields: an export re-imports cleanly (records matched by external id or by
  their natural key). Choices are written as their stored values (``won``,
  ``central_soe``, stage ``3``), people by username, teams by name, dates as
  dates. A few columns have no import field (an account's ``traits``, a deal's
  ``proposal_emphasis`` and ``insider``, every column of leads): the importer
  reports them as unknown and leaves them aside.
- Scope: ``kam.org.scoping.visible``; records in the recycle bin, and the
  records of an account in it, are left out. The ``insider`` column of
  opportunities names the deal's insiders only where
  ``kam.org.scoping.may_see_insider`` allows; elsewhere it is empty, whether or
  not the deal has one, so the column never reveals an insider's existence.
- Filters (a mapping such as ``request.GET``; empty values are ignored):
  ``owner`` (username or id), ``team`` (name or id), ``stage`` (1-6),
  ``outcome``, ``grade``, ``industry``, ``region`` (exact, ignoring case) and
  ``q`` (a word in the names and notes the list pages search). An owner or team
  the user cannot see, a value that does not exist, or a filter the kind does
  not have (``stage`` of accounts) raises ``ExportRefused`` naming the filter.
- Rows stream from the database in chunks: memory stays flat however many rows,
  and the query count does not grow with them (beyond one per chunk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.org.models import Team
from kam.org.scoping import may_see_insider, visible
from kam.sales.models import (
    Account,
    Activity,
    BuyingCenterEntry,
    Contact,
    Grade,
    Lead,
    OffFunnelOrder,
    Opportunity,
    Outcome,
    Stage,
)

FILTERS = ("owner", "team", "stage", "outcome", "grade", "industry", "region", "q")
CHUNK = 500


class ExportRefused(ValidationError):
    """A filter or the kind cannot be used; keyed by the filter (or ``kind``)."""


@dataclass(frozen=True)
class _Kind:
    name: str
    columns: tuple[str, ...]
    # Filter name -> lookup path (None: the kind has no such filter).
    paths: Mapping[str, str]
    search: tuple[str, ...]


def _account_paths(prefix: str) -> dict[str, str]:
    return {
        "owner": f"{prefix}owner",
        "team": f"{prefix}team",
        "grade": f"{prefix}grade",
        "industry": f"{prefix}industry",
        "region": f"{prefix}region",
    }


KINDS: dict[str, _Kind] = {
    k.name: k
    for k in (
        _Kind(
            "accounts",
            (
                "name",
                "external_id",
                "industry",
                "region",
                "scale",
                "ownership",
                "traits",
                "collective_decision",
                "grade",
                "lifecycle",
                "relationship_type",
                "relationship_level",
                "funding_notes",
                "credit_notes",
                "business",
                "innovation_goals",
                "products_in_use",
                "decision_process",
                "latent_needs",
                "owner",
                "team",
            ),
            _account_paths(""),
            ("name", "external_id", "industry", "region", "traits"),
        ),
        _Kind(
            "contacts",
            (
                "account",
                "account_external_id",
                "name",
                "external_id",
                "title",
                "department",
                "phone",
                "email",
                "wechat",
                "leadership_member",
                "notes",
                "owner",
                "team",
            ),
            _account_paths("account__"),
            ("name", "title", "department", "email", "phone", "account__name"),
        ),
        _Kind(
            "opportunities",
            (
                "account",
                "account_external_id",
                "name",
                "external_id",
                "amount",
                "currency",
                "stage",
                "outcome",
                "expected_close",
                "closed_on",
                "close_reason",
                "stage_entered_on",
                "source",
                "grade",
                "competitors",
                "proposal_emphasis",
                "insider",
                "owner",
                "team",
            ),
            {
                **_account_paths("account__"),
                "owner": "owner",
                "team": "team",
                "grade": "grade",
                "stage": "stage",
                "outcome": "outcome",
            },
            ("name", "external_id", "competitors", "account__name"),
        ),
        _Kind(
            "activities",
            (
                "account",
                "account_external_id",
                "on",
                "kind",
                "opportunity",
                "contacts",
                "notes",
                "cost",
                "next_step",
                "next_pretext",
                "next_on",
                "owner",
                "team",
            ),
            {**_account_paths("account__"), "owner": "owner", "team": "team"},
            ("notes", "next_step", "next_pretext", "account__name"),
        ),
        _Kind(
            "off-funnel-orders",
            ("account", "account_external_id", "on", "amount", "currency", "note", "owner", "team"),
            {**_account_paths("account__"), "owner": "owner", "team": "team"},
            ("note", "account__name"),
        ),
        _Kind(
            "leads",
            (
                "name",
                "company",
                "source",
                "known",
                "amount",
                "currency",
                "expected_close",
                "win_likelihood",
                "score",
                "grade",
                "decision",
                "decision_reason",
                "account",
                "created_on",
                "owner",
                "team",
            ),
            {"owner": "owner", "team": "team", "grade": "grade"},
            ("name", "company", "known"),
        ),
    )
}


class Export:
    """The rows of one export: iterate for dicts; ``columns`` names their keys in order.

    Iterating runs the query again each time; ``count()`` costs one query.
    """

    def __init__(self, kind: _Kind, queryset: QuerySet, row: Callable, progress=None):
        self.kind = kind.name
        self.columns = list(kind.columns)
        self._queryset = queryset
        self._row = row
        self._progress = progress

    def count(self) -> int:
        return self._queryset.count()

    def __iter__(self) -> Iterator[dict]:
        for done, obj in enumerate(self._queryset.iterator(chunk_size=CHUNK), start=1):
            yield self._row(obj)
            if self._progress is not None:
                self._progress(done)


def export_rows(
    kind: str,
    user,
    filters: Mapping[str, object] | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> Export:
    """The rows of ``kind`` that ``user`` may see, narrowed by ``filters``.

    ``progress`` is called with the count of rows done after each row. Raises
    ``ExportRefused`` for an unknown kind or a filter that cannot be applied.
    """
    spec = KINDS.get(str(kind).strip().lower().replace("_", "-"))
    if spec is None:
        raise ExportRefused(
            {
                "kind": _("Unknown kind %(kind)s: export one of %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(KINDS)}
            }
        )
    queryset = _QUERYSETS[spec.name](user)
    queryset = _filtered(spec, user, queryset, filters or {})
    return Export(spec, queryset, _ROWS[spec.name](user), progress)


# ---------------------------------------------------------------------------
# Querysets: scoped, live, with what the rows read
# ---------------------------------------------------------------------------


def _accounts(user) -> QuerySet:
    return visible(user, Account.objects.select_related("owner", "team")).order_by("pk")


def _contacts(user) -> QuerySet:
    return (
        visible(user, Contact.objects.filter(account__deleted_at__isnull=True))
        .select_related("account__owner", "account__team")
        .order_by("pk")
    )


def _opportunities(user) -> QuerySet:
    insiders = BuyingCenterEntry.objects.filter(
        insider=True, contact__deleted_at__isnull=True
    ).select_related("contact")
    return (
        visible(user, Opportunity.objects.filter(account__deleted_at__isnull=True))
        .select_related("account", "owner", "team")
        .prefetch_related(Prefetch("buying_center", queryset=insiders, to_attr="insiders"))
        .order_by("pk")
    )


def _activities(user) -> QuerySet:
    return (
        visible(user, Activity.objects.filter(account__deleted_at__isnull=True))
        .select_related("account", "opportunity", "owner", "team")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.all_objects.order_by("name"), to_attr="people")
        )
        .order_by("pk")
    )


def _orders(user) -> QuerySet:
    return (
        visible(user, OffFunnelOrder.objects.filter(account__deleted_at__isnull=True))
        .select_related("account", "owner", "team")
        .order_by("pk")
    )


def _leads(user) -> QuerySet:
    return visible(user, Lead.objects.select_related("account", "owner", "team")).order_by("pk")


_QUERYSETS = {
    "accounts": _accounts,
    "contacts": _contacts,
    "opportunities": _opportunities,
    "activities": _activities,
    "off-funnel-orders": _orders,
    "leads": _leads,
}


# ---------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------


def _filtered(spec: _Kind, user, queryset: QuerySet, filters: Mapping) -> QuerySet:
    for name in FILTERS:
        value = filters.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            continue
        if name == "q":
            words = Q()
            for path in spec.search:
                words |= Q(**{f"{path}__icontains": value})
            queryset = queryset.filter(words)
            continue
        path = spec.paths.get(name)
        if path is None:
            raise ExportRefused(
                {name: _("%(kind)s cannot be filtered by %(filter)s.") % _names(spec, name)}
            )
        queryset = queryset.filter(**{_lookup(name, path): _value(name, value, user)})
    return queryset


def _names(spec: _Kind, name: str) -> dict:
    return {"kind": spec.name, "filter": name}


def _lookup(name: str, path: str) -> str:
    return f"{path}__iexact" if name in ("industry", "region") else path


def _value(name: str, value, user):
    if name == "owner":
        return _one_visible(user, get_user_model(), value, "username", name)
    if name == "team":
        return _one_visible(user, Team, value, "name", name)
    text = str(value)
    if name == "stage":
        if text not in {str(s) for s in Stage.values}:
            raise ExportRefused({name: _("A stage is a number from 1 to 6.")})
        return int(text)
    choices = {"outcome": Outcome.values, "grade": Grade.values}.get(name)
    if choices is not None:
        wanted = text.lower() if name == "outcome" else text.upper()
        if wanted not in choices:
            raise ExportRefused(
                {
                    name: _("%(value)s is not one of %(choices)s.")
                    % {"value": text, "choices": ", ".join(choices)}
                }
            )
        return wanted
    return text


def _one_visible(user, model, value, field: str, name: str):
    if isinstance(value, model):
        value = value.pk
    scope = visible(user, model._default_manager.all())
    text = str(value)
    hit = scope.filter(**{field: text}).first()
    if hit is None and text.isdigit():
        hit = scope.filter(pk=int(text)).first()
    if hit is None:
        raise ExportRefused({name: _("No %(filter)s %(value)s.") % {"filter": name, "value": text}})
    return hit


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------


def _who(user) -> str:
    return user.get_username() if user is not None else ""


def _team(team) -> str:
    return team.name if team is not None else ""


def _account_row(user):
    def row(a: Account) -> dict:
        return {
            "name": a.name,
            "external_id": a.external_id,
            "industry": a.industry,
            "region": a.region,
            "scale": a.scale,
            "ownership": a.ownership,
            "traits": a.traits,
            "collective_decision": a.collective_decision,
            "grade": a.grade,
            "lifecycle": a.lifecycle,
            "relationship_type": a.relationship_type,
            "relationship_level": a.relationship_level,
            "funding_notes": a.funding_notes,
            "credit_notes": a.credit_notes,
            "business": a.business,
            "innovation_goals": a.innovation_goals,
            "products_in_use": a.products_in_use,
            "decision_process": a.decision_process,
            "latent_needs": a.latent_needs,
            "owner": _who(a.owner),
            "team": _team(a.team),
        }

    return row


def _contact_row(user):
    def row(c: Contact) -> dict:
        return {
            "account": c.account.name,
            "account_external_id": c.account.external_id,
            "name": c.name,
            "external_id": c.external_id,
            "title": c.title,
            "department": c.department,
            "phone": c.phone,
            "email": c.email,
            "wechat": c.wechat,
            "leadership_member": c.leadership_member,
            "notes": c.notes,
            "owner": _who(c.account.owner),
            "team": _team(c.account.team),
        }

    return row


def _opportunity_row(user):
    allowed: dict[tuple[bool, int], bool] = {}

    def sees_insider(o: Opportunity) -> bool:
        # may_see_insider decides; its answer depends on the owner and the team only,
        # so it is asked once per (own deal?, team) instead of once per row.
        key = (o.owner_id == user.pk, o.team_id)
        if key not in allowed:
            allowed[key] = may_see_insider(user, o)
        return allowed[key]

    def row(o: Opportunity) -> dict:
        insider = ""
        if o.insiders and sees_insider(o):
            insider = "; ".join(sorted(e.contact.name for e in o.insiders))
        return {
            "account": o.account.name,
            "account_external_id": o.account.external_id,
            "name": o.name,
            "external_id": o.external_id,
            "amount": o.amount,
            "currency": o.currency,
            "stage": o.stage,
            "outcome": o.outcome,
            "expected_close": o.expected_close,
            "closed_on": o.closed_on,
            "close_reason": o.close_reason,
            "stage_entered_on": o.stage_entered_on,
            "source": o.source,
            "grade": o.grade,
            "competitors": o.competitors,
            "proposal_emphasis": o.proposal_emphasis,
            "insider": insider,
            "owner": _who(o.owner),
            "team": _team(o.team),
        }

    return row


def _activity_row(user):
    def row(a: Activity) -> dict:
        deal = a.opportunity
        return {
            "account": a.account.name,
            "account_external_id": a.account.external_id,
            "on": a.on,
            "kind": a.kind,
            "opportunity": deal.name if deal is not None and deal.deleted_at is None else "",
            "contacts": "; ".join(c.name for c in a.people if c.deleted_at is None),
            "notes": a.notes,
            "cost": a.cost,
            "next_step": a.next_step,
            "next_pretext": a.next_pretext,
            "next_on": a.next_on,
            "owner": _who(a.owner),
            "team": _team(a.team),
        }

    return row


def _order_row(user):
    def row(o: OffFunnelOrder) -> dict:
        return {
            "account": o.account.name,
            "account_external_id": o.account.external_id,
            "on": o.on,
            "amount": o.amount,
            "currency": o.currency,
            "note": o.note,
            "owner": _who(o.owner),
            "team": _team(o.team),
        }

    return row


def _lead_row(user):
    def row(lead: Lead) -> dict:
        account = lead.account
        return {
            "name": lead.name,
            "company": lead.company,
            "source": lead.source,
            "known": lead.known,
            "amount": lead.amount,
            "currency": lead.currency,
            "expected_close": lead.expected_close,
            "win_likelihood": lead.win_likelihood,
            "score": lead.score,
            "grade": lead.grade,
            "decision": lead.decision,
            "decision_reason": lead.decision_reason,
            "account": account.name if account is not None and account.deleted_at is None else "",
            "created_on": timezone.localdate(lead.created_at) if lead.created_at else None,
            "owner": _who(lead.owner),
            "team": _team(lead.team),
        }

    return row


_ROWS = {
    "accounts": _account_row,
    "contacts": _contact_row,
    "opportunities": _opportunity_row,
    "activities": _activity_row,
    "off-funnel-orders": _order_row,
    "leads": _lead_row,
}
