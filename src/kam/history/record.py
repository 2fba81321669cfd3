"""Writing history: called by every action, inside the action's transaction."""

import datetime as dt
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from kam.history.models import Change

Source = Change.Source
Action = Change.Action


def snapshot(obj: models.Model) -> dict:
    """The concrete field values of a record, as JSON-safe values, keyed by field name."""
    values = {}
    for field in obj._meta.concrete_fields:
        if field.name in {"version", "created_at", "updated_at"}:
            continue
        values[field.name] = _json(getattr(obj, field.attname))
    return values


def _json(value):
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


def record(obj: models.Model, *, action: str, user, source: str, changes: dict | None = None):
    """Write one history row for ``obj``; must run inside the write's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("history must be written in the same transaction as the change")
    if action == Action.CREATE and changes is None:
        changes = {k: [None, v] for k, v in snapshot(obj).items() if v not in (None, "", [], {})}
    return Change.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        changes=changes or {},
        user=user if user is not None and user.is_authenticated else None,
        source=source,
    )


def history_of(obj: models.Model):
    """The changes of one record, newest first."""
    return Change.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
    ).select_related("user")
