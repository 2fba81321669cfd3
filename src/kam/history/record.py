"""Writing history: called by every action, inside the action's transaction."""

import datetime as dt
import functools
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast

from kam.history.models import Change

Source = Change.Source
Action = Change.Action

# Kept by the record itself, not by its history.
_SKIPPED = {"version", "created_at", "updated_at"}


def snapshot(obj: models.Model, *, many_to_many: bool = False) -> dict:
    """The field values of a record as JSON-safe values, keyed by field name.

    Foreign keys give the related primary key, decimals are shown with their
    field's decimal places, and with ``many_to_many`` each many-to-many field
    gives the sorted primary keys it holds (one query per field; the record
    must be saved).
    """
    values = {}
    for name, attname, places in _snapshot_fields(type(obj)):
        value = getattr(obj, attname)
        if value is None or type(value) in _AS_IS:
            values[name] = value
            continue
        if places is not None and isinstance(value, Decimal):
            value = value.quantize(places)
        values[name] = _json(value)
    if many_to_many:
        for field in obj._meta.many_to_many:
            values[field.name] = sorted(
                _json(pk) for pk in getattr(obj, field.name).values_list("pk", flat=True)
            )
    return values


_AS_IS = (str, int, bool, float)


@functools.cache
def _snapshot_fields(model) -> tuple:
    """(name, attribute, decimal places as a quantum or None) of the fields a snapshot keeps."""
    return tuple(
        (
            field.name,
            field.attname,
            Decimal(1).scaleb(-field.decimal_places)
            if isinstance(field, models.DecimalField)
            else None,
        )
        for field in model._meta.concrete_fields
        if field.name not in _SKIPPED
    )


def _json(value):
    if value is None or type(value) in _AS_IS:
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "hex") and not isinstance(value, (str, bytes)):
        return str(value)  # UUID
    return value


def diff(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for every field whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record(
    obj: models.Model,
    *,
    action: str,
    user,
    source: str,
    changes: dict | None = None,
    parent: models.Model | None = None,
    note: str = "",
) -> Change:
    """Write one history row for ``obj``; must run inside the write's transaction.

    ``changes`` defaults, for a creation, to every non-empty field as
    ``[None, value]``. The row keeps ``obj.version`` as it stands (call this
    after bumping it) and, for a part of a record, that record as ``parent``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("history must be written in the same transaction as the change")
    change = build(
        obj, action=action, user=user, source=source, changes=changes, parent=parent, note=note
    )
    change.save()
    return change


def build(
    obj: models.Model,
    *,
    action: str,
    user,
    source: str,
    changes: dict | None = None,
    parent: models.Model | None = None,
    note: str = "",
) -> Change:
    """The history row ``record`` writes, unsaved: for writers that save many at
    once (``Change.objects.bulk_create``, in the transaction of the records they
    describe). Same arguments as ``record``; build it once ``obj`` is saved (its
    primary key is the row's ``object_id``)."""
    return Change(
        **_fields(
            obj,
            action=action,
            user=user,
            source=source,
            changes=changes,
            parent=parent,
            note=note,
        )
    )


def values(
    obj: models.Model,
    *,
    action: str,
    user,
    source: str,
    changes: dict | None = None,
    parent: models.Model | None = None,
    note: str = "",
) -> dict:
    """The column values of the row ``build`` makes, by attribute name (``user_id``,
    ``content_type_id``, ...), without a model instance: for writers that insert
    many rows with one statement in the transaction of the records they describe
    (``kam.imports``). Everything but ``id`` and ``at`` (the insert's time)."""
    row = _fields(
        obj, action=action, user=user, source=source, changes=changes, parent=parent, note=note
    )
    for name in ("content_type", "parent_type", "user"):
        related = row.pop(name)
        row[name + "_id"] = related.pk if related is not None else None
    return row


_SOURCES = frozenset(Source.values)


def _fields(obj, *, action, user, source, changes, parent, note) -> dict:
    """The fields of a history row by field name: what ``build`` and ``values`` give."""
    if source not in _SOURCES:
        raise ValueError(f"source {source!r} is not one of {', '.join(Source.values)}")
    if action == Action.CREATE and changes is None:
        changes = {k: [None, v] for k, v in snapshot(obj).items() if v not in (None, "", [], {})}
    return {
        "content_type": _type(obj),
        "object_id": str(obj.pk),
        "object_repr": str(obj)[:200],
        "action": action,
        "changes": changes or {},
        "version": getattr(obj, "version", None) if _has_version(obj) else None,
        "note": note,
        "parent_type": _type(parent) if parent is not None else None,
        "parent_id": str(parent.pk) if parent is not None else "",
        "user": user if user is not None and user.is_authenticated else None,
        "source": source,
    }


def history_of(obj: models.Model, *, parts: bool = True):
    """The changes of one record, newest first; with ``parts``, also those of its parts
    (the key-node evidence of a deal, the familiarities of a contact, ...)."""
    ct = _type(obj)
    mine = Q(content_type=ct, object_id=str(obj.pk))
    if parts:
        mine |= Q(parent_type=ct, parent_id=str(obj.pk))
    return Change.objects.filter(mine).select_related("user")


def history_of_all(*querysets: models.QuerySet, parts: bool = True):
    """The changes of every record of ``querysets`` (and of their parts), newest
    first: one condition per queryset, each a subquery, so the SQL stays the same
    size however many records there are (an ``OR`` per record, or a list of their
    ids, would grow with the data)."""
    mine = Q()
    for queryset in querysets:
        ct = _type(queryset.model)
        ids = queryset.order_by().annotate(_key=Cast("pk", models.CharField())).values("_key")
        mine |= Q(content_type=ct, object_id__in=ids)
        if parts:
            mine |= Q(parent_type=ct, parent_id__in=ids)
    return Change.objects.filter(mine).select_related("user")


def reveals_insider(change: Change) -> bool:
    """Whether a history row names a deal's insider (a buying-center entry marked as
    one): show it only to those ``kam.org.scoping.may_see_insider`` allows."""
    if change.content_type.model != "buyingcenterentry":
        return False
    old, new = change.changes.get("insider", [None, None])
    return bool(old) or bool(new) or _entry_is_insider(change)


def _entry_is_insider(change: Change) -> bool:
    # A later change to an insider's entry (their attitude, say) names them too.
    from django.apps import apps

    entry = apps.get_model("sales", "BuyingCenterEntry")
    return entry.objects.filter(pk=change.object_id, insider=True).exists()


def changes_since(obj: models.Model, version: int):
    """The changes of one record that made versions after ``version``, oldest first."""
    return (
        Change.objects.filter(content_type=_type(obj), object_id=str(obj.pk), version__gt=version)
        .select_related("user")
        .order_by("version", "id")
    )


def _type(obj: models.Model) -> ContentType:
    return ContentType.objects.get_for_model(obj, for_concrete_model=True)


def _has_version(obj: models.Model) -> bool:
    return any(f.name == "version" for f in obj._meta.concrete_fields)
