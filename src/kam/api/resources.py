"""The seven record resources, declared once and routed alike.

Each resource is a model with its fields (read, settable on create, settable
later), its filters and its search fields. Every read starts from
``kam.org.scoping.visible`` (out of scope answers 404), every write goes
through ``kam.sales.actions`` with ``source=API``; links to other records
(owner, team, account, contacts, ...) must be records the caller can see.
"""

import datetime as dt
import typing
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, create_model

from kam.api import etags
from kam.api.errors import ApiError
from kam.history.record import Source
from kam.org.models import Team
from kam.org.scoping import may_set_target, visible
from kam.sales import actions
from kam.sales.models import (
    Account,
    Activity,
    Contact,
    Deletable,
    Lead,
    OffFunnelOrder,
    Opportunity,
    Target,
)

API = Source.API
MAX_LIMIT = 500
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Resource:
    """One collection under /api/v1/: how to read, filter and write its records."""

    path: str
    model: type[models.Model]
    read: tuple[str, ...]
    create: tuple[str, ...]
    update: tuple[str, ...]
    required: tuple[str, ...] = ()
    filters: dict[str, str] = field(default_factory=dict)
    search: tuple[str, ...] = ("name",)
    prefetch: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.model._meta.model_name

    def queryset(self, user):
        qs = visible(user, self.model.objects.all())
        if self.model in (Contact, Opportunity, Activity, OffFunnelOrder):
            # A record whose account is in the recycle bin goes with it.
            qs = qs.filter(account__deleted_at__isnull=True)
        return qs.prefetch_related(*self.prefetch) if self.prefetch else qs


def resource(
    path: str,
    model: type[models.Model],
    *,
    fields: tuple[str, ...],
    computed: tuple[str, ...] = (),
    fixed: tuple[str, ...] = (),
    **options,
) -> Resource:
    """A collection from its writable ``fields``: reading adds the id, the ``computed``
    fields only actions set, and the version and timestamps where the model has them;
    updating takes every writable field but the ``fixed`` ones (set at creation only)."""
    stamps = ("version", "created_at", "updated_at") if hasattr(model, "version") else ()
    return Resource(
        path,
        model,
        read=("id", *fields, *computed, *stamps),
        create=fields,
        update=tuple(f for f in fields if f not in fixed),
        **options,
    )


RESOURCES = (
    resource(
        "leads",
        Lead,
        fields=(
            "name",
            "company",
            "source",
            "known",
            "amount",
            "currency",
            "expected_close",
            "win_likelihood",
            "owner",
            "team",
        ),
        computed=(
            "scores",
            "score",
            "grade",
            "decision",
            "decision_reason",
            "account",
            "opportunity",
        ),
        required=("name", "company", "source"),
        filters={
            "owner": "owner",
            "team": "team",
            "grade": "grade",
            "source": "source",
            "decision": "decision",
        },
        search=("name", "company"),
    ),
    resource(
        "accounts",
        Account,
        fields=(
            "name",
            "external_id",
            "industry",
            "region",
            "scale",
            "ownership",
            "traits",
            "collective_decision",
            "grade",
            "funding_notes",
            "credit_notes",
            "business",
            "innovation_goals",
            "products_in_use",
            "decision_process",
            "latent_needs",
            "lifecycle",
            "relationship_type",
            "relationship_level",
            "owner",
            "team",
        ),
        required=("name",),
        filters={
            "owner": "owner",
            "team": "team",
            "grade": "grade",
            "industry": "industry",
            "region": "region",
            "scale": "scale",
            "ownership": "ownership",
            "lifecycle": "lifecycle",
            "relationship_type": "relationship_type",
            "relationship_level": "relationship_level",
        },
    ),
    resource(
        "contacts",
        Contact,
        fields=(
            "account",
            "name",
            "external_id",
            "title",
            "department",
            "reports_to",
            "leadership_member",
            "phone",
            "email",
            "wechat",
            "brain_phrases",
            "brain_direct",
            "notes",
        ),
        fixed=("account",),
        required=("account", "name"),
        filters={"account": "account", "owner": "account__owner", "team": "account__team"},
        search=("name", "title", "department"),
    ),
    resource(
        "opportunities",
        Opportunity,
        fields=(
            "account",
            "name",
            "amount",
            "currency",
            "expected_close",
            "grade",
            "competitors",
            "proposal_emphasis",
            "source",
            "external_id",
            "owner",
            "team",
        ),
        computed=("stage", "stage_entered_on", "outcome", "closed_on", "close_reason"),
        fixed=("account",),
        required=("account", "name", "amount"),
        filters={
            "owner": "owner",
            "team": "team",
            "account": "account",
            "grade": "grade",
            "stage": "stage",
            "outcome": "outcome",
            "source": "source",
            "industry": "account__industry",
            "region": "account__region",
        },
        search=("name", "account__name"),
    ),
    resource(
        "activities",
        Activity,
        fields=(
            "kind",
            "on",
            "account",
            "opportunity",
            "contacts",
            "participants",
            "notes",
            "cost",
            "next_step",
            "next_pretext",
            "next_on",
            "owner",
            "team",
        ),
        fixed=("account",),
        required=("kind", "on", "account"),
        filters={
            "owner": "owner",
            "team": "team",
            "account": "account",
            "opportunity": "opportunity",
            "kind": "kind",
            "since": "on__gte",
            "until": "on__lte",
        },
        search=("notes", "account__name"),
        prefetch=("contacts", "participants"),
    ),
    resource(
        "off-funnel-orders",
        OffFunnelOrder,
        fields=("account", "amount", "currency", "on", "note", "owner", "team"),
        fixed=("account",),
        required=("account", "amount", "on"),
        filters={
            "owner": "owner",
            "team": "team",
            "account": "account",
            "since": "on__gte",
            "until": "on__lte",
        },
        search=("note", "account__name"),
    ),
    resource(
        "targets",
        Target,
        fields=("user", "team", "start", "end", "amount"),
        fixed=("user", "team", "start", "end"),
        required=("start", "end", "amount"),
        filters={"user": "user", "team": "team", "since": "end__gte", "until": "start__lte"},
        search=(),
    ),
)
BY_MODEL = {r.model: r for r in RESOURCES}


# ---------------------------------------------------------------------------
# Schemas, derived from the model fields so the OpenAPI document follows the models
# ---------------------------------------------------------------------------


def _python_type(f) -> typing.Any:
    if f.many_to_many:
        return list[int]
    if f.is_relation:
        return int
    if isinstance(f, models.DecimalField):
        return Decimal
    if isinstance(f, models.DateTimeField):
        return dt.datetime
    if isinstance(f, models.DateField):
        return dt.date
    if isinstance(f, models.BooleanField):
        return bool
    if isinstance(f, models.FloatField):
        return float
    if isinstance(f, (models.IntegerField, models.AutoField)):
        return int
    if isinstance(f, models.JSONField):
        return typing.Any
    return str


def _description(f) -> str:
    text = str(getattr(f, "verbose_name", "") or "")
    if getattr(f, "choices", None):
        text += " (" + ", ".join(str(value) for value, _label in f.choices) + ")"
    return text


def _schema(name: str, model, names, *, required=(), optional_all=False, out=False):
    fields = {}
    for n in names:
        f = model._meta.get_field(n)
        kind = _python_type(f)
        nullable = out and (getattr(f, "null", False) and not f.many_to_many)
        if nullable or not out:
            kind = typing.Optional[kind]  # noqa: UP045 (a runtime annotation for pydantic)
        default = ... if out or (n in required and not optional_all) else None
        fields[n] = (kind, Field(default, description=_description(f)))
    # Unknown fields are refused, not ignored: a client sending ``stage`` must learn
    # that the stage changes only by /advance.
    base = _Out if out else _In
    return create_model(name, __base__=base, **fields)


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class _Out(Schema):
    pass


class Page(Schema):
    count: int


def _page_schema(res: Resource, item):
    return create_model(f"{_camel(res.path)}Page", __base__=Page, items=(list[item], Field(...)))


def _filter_schema(res: Resource):
    fields = {
        "limit": (int, Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)),
        "offset": (int, Field(0, ge=0)),
    }
    if res.search:
        fields["q"] = (typing.Optional[str], Field(None, description=_search_text(res)))  # noqa: UP045
    for param in res.filters:
        fields[param] = (typing.Optional[str], None)  # noqa: UP045
    return create_model(f"{_camel(res.path)}Filters", __base__=Schema, **fields)


def _search_text(res: Resource) -> str:
    return "Search in: " + ", ".join(res.search)


def _camel(path: str) -> str:
    return "".join(part.capitalize() for part in path.split("-"))


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def dump(res: Resource, obj) -> dict:
    data = {}
    for n in res.read:
        f = obj._meta.get_field(n)
        if f.many_to_many:
            data[n] = sorted(o.pk for o in getattr(obj, n).all())
        elif f.is_relation:
            data[n] = getattr(obj, f.attname)
        else:
            data[n] = getattr(obj, n)
    return data


def filtered(res: Resource, user, params) -> models.QuerySet:
    qs = res.queryset(user)
    for param, lookup in res.filters.items():
        value = getattr(params, param, None)
        if value in (None, ""):
            continue
        try:
            qs = qs.filter(**{lookup: value})
        except (ValidationError, ValueError, TypeError):
            raise ApiError(422, "validation_error", _("Enter a valid value."), param) from None
    q = (getattr(params, "q", None) or "").strip()
    if q:
        match = Q()
        for name in res.search:
            match |= Q(**{f"{name}__icontains": q})
        qs = qs.filter(match)
    return qs


def get_record(res: Resource, user, pk: int):
    return get_object_or_404(res.queryset(user), pk=pk)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

_SCOPED = (Account, Contact, Opportunity, Team)


def _check_links(user, model, data: dict) -> None:
    """Every record a write links to must be one the caller can see."""
    errors = {}
    for name, value in data.items():
        f = model._meta.get_field(name)
        if not f.is_relation or value in (None, [], ()):
            continue
        related = f.related_model
        if related is not get_user_model() and related not in _SCOPED:
            continue
        wanted = set(value) if f.many_to_many else {value}
        manager = related.objects
        found = visible(user, manager.filter(pk__in=wanted)).count()
        if found != len(wanted):
            errors[name] = _("Choose a record you can see.")
    if errors:
        raise ValidationError(errors)


def _check_target_rights(user, *, user_id=None, team_id=None) -> None:
    if not may_set_target(user, user_id=user_id, team_id=team_id):
        raise PermissionDenied(_("Only a manager of the team or an administrator sets targets."))


def create(res: Resource, user, data: dict):
    _check_links(user, res.model, data)
    if res.model is Target:
        _check_target_rights(user, user_id=data.get("user"), team_id=data.get("team"))
        return actions.set_target(
            user=data.get("user"),
            team=data.get("team"),
            start=data.get("start"),
            end=data.get("end"),
            amount=data.get("amount"),
            acting_user=user,
            source=API,
        )
    if res.model is OffFunnelOrder:
        account = Account.objects.filter(pk=data.pop("account", None)).first()
        if account is None:
            raise ValidationError({"account": _("This field cannot be null.")})
        return actions.add_off_funnel_order(account, acting_user=user, source=API, **data)
    return actions.create_record(res.model, acting_user=user, source=API, fields=data)


def update(res: Resource, user, obj, data: dict):
    _check_links(user, res.model, data)
    if res.model is Target:
        _check_target_rights(user, user_id=obj.user_id, team_id=obj.team_id)
        if "amount" not in data:
            return obj
        return actions.set_target(
            user=obj.user_id,
            team=obj.team_id,
            start=obj.start,
            end=obj.end,
            amount=data["amount"],
            acting_user=user,
            source=API,
        )
    return actions.update_record(
        obj, acting_user=user, source=API, expected_version=obj.version, changes=data
    )


def delete(res: Resource, user, obj) -> None:
    if res.model is Target:
        _check_target_rights(user, user_id=obj.user_id, team_id=obj.team_id)
    if isinstance(obj, Deletable):
        actions.delete_record(obj, acting_user=user, source=API)
    else:
        actions.remove_record(obj, acting_user=user, source=API)


def _refresh(res: Resource, obj):
    """The record as a read returns it: reloaded, so values come back as stored."""
    return res.model._base_manager.prefetch_related(*res.prefetch).get(pk=obj.pk)


# ---------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------


def _respond(response: HttpResponse, obj) -> None:
    response["ETag"] = etags.of(obj)


def router_for(res: Resource) -> Router:
    router = Router(tags=[res.path])
    Out = _schema(_camel(res.path), res.model, res.read, out=True)
    Create = _schema(f"{_camel(res.path)}Create", res.model, res.create, required=res.required)
    Patch = _schema(f"{_camel(res.path)}Patch", res.model, res.update, optional_all=True)
    PageOut = _page_schema(res, Out)
    Filters = _filter_schema(res)
    name = res.path.replace("-", "_")

    @router.get("", response=PageOut, operation_id=f"{name}_list", summary=f"List {res.path}")
    def list_records(request, response: HttpResponse, params: Filters = Query(...)):  # noqa: B008
        qs = filtered(res, request.auth, params)
        count = qs.count()
        items = list(qs[params.offset : params.offset + params.limit])
        # The page's ETag changes when any record on it, or the count, changes.
        response["ETag"] = etags.of_content(
            (f"{count}:" + ",".join(etags.of(o) for o in items)).encode()
        )
        return {"items": [dump(res, o) for o in items], "count": count}

    @router.get("/{int:pk}", response=Out, operation_id=f"{name}_get", summary="Get one")
    def get_one(request, response: HttpResponse, pk: int):
        obj = get_record(res, request.auth, pk)
        _respond(response, obj)
        return dump(res, obj)

    @router.post("", response={201: Out}, operation_id=f"{name}_create", summary="Create")
    def create_one(request, response: HttpResponse, payload: Create):
        data = payload.model_dump(exclude_unset=True)
        obj = _refresh(res, create(res, request.auth, data))
        _respond(response, obj)
        response["Location"] = f"{request.path.rstrip('/')}/{obj.pk}"
        return Status(201, dump(res, obj))

    @router.patch(
        "/{int:pk}",
        response=Out,
        operation_id=f"{name}_update",
        summary="Change some fields (If-Match required)",
    )
    def update_one(request, response: HttpResponse, pk: int, payload: Patch):
        obj = get_record(res, request.auth, pk)
        etags.require_match(request, obj)
        data = payload.model_dump(exclude_unset=True)
        obj = _refresh(res, update(res, request.auth, obj, data))
        _respond(response, obj)
        return dump(res, obj)

    @router.delete(
        "/{int:pk}",
        response={204: None},
        operation_id=f"{name}_delete",
        summary="Delete (to the recycle bin where there is one; If-Match required)",
    )
    def delete_one(request, pk: int):
        obj = get_record(res, request.auth, pk)
        etags.require_match(request, obj)
        delete(res, request.auth, obj)
        return Status(204, None)

    return router
