"""What changed on a record (who, when, from where) and the recycle bin (回收站).

A record's history is shown to whoever may see the record
(``kam.org.scoping.get_visible_or_404``); rows that would name a deal's insider
are left out for those ``may_see_insider`` does not allow. The recycle bin lists
the deleted accounts, contacts and opportunities the user may see: anyone who
sees one may restore it within ``RECYCLE_DAYS`` days; only administrators purge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.history.models import Change
from kam.history.record import Source, history_of
from kam.org.scoping import get_visible_or_404, may_see_insider, visible
from kam.sales import actions
from kam.sales.models import (
    RECYCLE_DAYS,
    Account,
    BuyingCenterEntry,
    Contact,
    InsiderClaim,
    Opportunity,
)
from kam.web.i18n import person_name
from kam.web.pagination import paginate

# Apps whose records have a history page; visibility still decides per record.
HISTORY_APPS = {"sales", "org", "auth"}
BIN_MODELS = {"account": Account, "contact": Contact, "opportunity": Opportunity}


# ---------------------------------------------------------------------------
# A record's history
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: object
    new: object


@dataclass(frozen=True)
class Row:
    """One history row as the page shows it."""

    change: Change
    part: str  # the part of the record it concerns, empty for the record itself
    fields: list[FieldChange]


def _record_or_404(user, app_label: str, model_name: str, pk: str):
    if app_label not in HISTORY_APPS:
        raise Http404("No history here.")
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        raise Http404("No such kind of record.") from None
    try:
        return get_visible_or_404(user, model._base_manager.all(), pk=pk)
    except KeyError:  # a model scoping does not know: only admins see it, via the admin
        raise Http404("No history here.") from None
    except (ValueError, ValidationError):
        raise Http404("No such record.") from None


def _opportunity_of(obj) -> Opportunity | None:
    if isinstance(obj, Opportunity):
        return obj
    if isinstance(obj, (BuyingCenterEntry, InsiderClaim)):
        return Opportunity.all_objects.get(pk=obj.opportunity_id)
    return None


def rows_naming_insider(changes) -> set[int]:
    """The ids of the rows that name a deal's insider: ``reveals_insider`` for many rows
    at once (one query, not one per buying-center row), plus the insider's claims,
    which name the insider as their source."""
    entry_ids = {c.object_id for c in changes if c.content_type.model == "buyingcenterentry"}
    insiders = {
        str(pk)
        for pk in BuyingCenterEntry.objects.filter(pk__in=entry_ids, insider=True).values_list(
            "pk", flat=True
        )
    }
    hidden = set()
    for change in changes:
        kind = change.content_type.model
        if kind == "insiderclaim":
            hidden.add(change.pk)
        elif kind == "buyingcenterentry":
            old, new = change.changes.get("insider", [None, None])
            if old or new or change.object_id in insiders:
                hidden.add(change.pk)
    return hidden


def _shown(value, field, names: dict) -> object:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field is not None and field.is_relation and field.related_model is not None:
        known = names.get(field.related_model, {})
        if isinstance(value, list):
            return ", ".join(known.get(str(v), str(v)) for v in value)
        return known.get(str(value), value)
    if field is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _field(change: Change, name: str):
    model = change.content_type.model_class()
    try:
        return model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        return None


def _related_names(changes) -> dict:
    """``{model: {pk: name}}`` for the records the changes link to: one query per kind
    of linked record (owner, team, account, ...), whatever the number of rows."""
    wanted: dict = {}
    for change in changes:
        for name, pair in change.changes.items():
            field = _field(change, name)
            if field is None or not field.is_relation or field.related_model is None:
                continue
            for value in pair if isinstance(pair, list) else [pair]:
                for pk in value if isinstance(value, list) else [value]:
                    if pk not in (None, ""):
                        wanted.setdefault(field.related_model, set()).add(pk)
    names = {}
    for model, pks in wanted.items():
        found = model._base_manager.filter(pk__in=pks)
        names[model] = {str(obj.pk): _name(obj) for obj in found}
    return names


def _name(obj) -> str:
    # A name field, not ``str()``: some records name themselves through a link
    # (a contact by its account), which would cost a query each.
    if isinstance(obj, get_user_model()):
        return person_name(obj)
    return str(getattr(obj, "name", "") or obj.pk)


def _fields(change: Change, names: dict) -> list[FieldChange]:
    found = []
    for name, pair in change.changes.items():
        if name == "id":
            continue
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        field = _field(change, name)
        label = str(getattr(field, "verbose_name", name)) if field is not None else name
        found.append(FieldChange(label, _shown(old, field, names), _shown(new, field, names)))
    return found


@login_required
def record(request, app_label: str, model: str, pk: str):
    """The history of one record the user may see, with its parts, newest first."""
    obj = _record_or_404(request.user, app_label, model, pk)
    opportunity = _opportunity_of(obj)
    hides_insider = opportunity is not None and not may_see_insider(request.user, opportunity)
    if hides_insider and isinstance(obj, BuyingCenterEntry) and obj.insider:
        raise Http404("No such record.")  # its very name says who the insider is
    pagination = paginate(
        request, history_of(obj).select_related("content_type").order_by("-at", "-id")
    )
    changes = pagination.rows
    if hides_insider:
        hidden = rows_naming_insider(changes)
        changes = [c for c in changes if c.pk not in hidden]
    names = _related_names(changes)
    own_type = (type(obj)._meta.app_label, type(obj)._meta.model_name)
    rows = [
        Row(
            change=c,
            part=""
            if (c.content_type.app_label, c.content_type.model) == own_type
            and c.object_id == str(obj.pk)
            else f"{c.content_type.model_class()._meta.verbose_name}: {c.object_repr}",
            fields=_fields(c, names),
        )
        for c in changes
    ]
    return render(
        request,
        "kam/history/record.html",
        {
            "record": obj,
            "kind": type(obj)._meta.verbose_name,
            "rows": rows,
            "pagination": pagination,
        },
    )


# ---------------------------------------------------------------------------
# The recycle bin
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BinItem:
    obj: object
    kind: str
    days_left: int
    restorable: bool
    with_account: bool  # deleted with its account: restoring either brings back both


def _in_bin(user, model):
    return visible(user, model.all_objects.filter(deleted_at__isnull=False))


@login_required
def recycle_bin(request):
    """The deleted accounts, contacts and opportunities the user may see."""
    now = timezone.now()
    bins = []
    for kind, model in BIN_MODELS.items():
        records = _in_bin(request.user, model).order_by("-deleted_at", "-pk")
        if model is not Account:
            records = records.select_related("account")
        # One page per kind, each with its own page number (?account_page=2).
        pagination = paginate(request, records, param=f"{kind}_page")
        items = []
        for obj in pagination.rows:
            left = RECYCLE_DAYS - (now - obj.deleted_at) / dt.timedelta(days=1)
            with_account = (
                model is not Account
                and obj.account.deleted_at is not None
                and obj.account.deleted_batch == obj.deleted_batch
            )
            items.append(BinItem(obj, kind, max(0, int(left)), left > 0, with_account))
        bins.append((kind, model._meta.verbose_name_plural, items, pagination))
    return render(
        request,
        "kam/history/bin.html",
        {"bins": bins, "days": RECYCLE_DAYS, "may_purge": request.user.is_superuser},
    )


def _bin_record(user, kind: str, pk: int):
    model = BIN_MODELS.get(kind)
    if model is None:
        raise Http404("No such kind of record.")
    return get_visible_or_404(user, model.all_objects.filter(deleted_at__isnull=False), pk=pk)


@login_required
@require_POST
def restore(request, kind: str, pk: int):
    """Bring a record back from the recycle bin, with what was deleted along with it."""
    obj = _bin_record(request.user, kind, pk)
    try:
        actions.restore_record(obj, acting_user=request.user, source=Source.PAGE)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(name)s was restored.") % {"name": obj})
    return redirect("history:bin")


@login_required
@require_POST
def purge(request, kind: str, pk: int):
    """Delete a record in the recycle bin for good; administrators only."""
    if not request.user.is_superuser:
        raise PermissionDenied(_("Only an administrator can purge records."))
    obj = _bin_record(request.user, kind, pk)
    try:
        actions.purge_record(obj, acting_user=request.user, source=Source.PAGE)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(name)s was deleted for good.") % {"name": obj})
    return redirect("history:bin")


app_name = "history"
urlpatterns = [
    path("bin/", recycle_bin, name="bin"),
    path("bin/<str:kind>/<int:pk>/restore/", restore, name="restore"),
    path("bin/<str:kind>/<int:pk>/purge/", purge, name="purge"),
    path("<str:app_label>/<str:model>/<str:pk>/", record, name="record"),
]
