"""Every write of KAM: one function per business verb.

Each action

- runs in one transaction: it validates first (the model's ``full_clean()``
  plus the verb's own rules), then writes the record and its history row(s)
  (``kam.history.record``: who, when, which fields with old and new values,
  from where). An error leaves nothing written;
- takes keyword-only ``acting_user`` and ``source`` (a ``Change.Source``);
- takes records the caller has already scoped (``kam.org.scoping.visible``):
  an instance the user may see, or, for ``update_record``, a scoped queryset and
  a ``pk``. It reloads the row it changes with ``select_for_update()`` (PostgreSQL
  locks the row; SQLite serialises writers with IMMEDIATE transactions), acts on
  that fresh copy and returns it: the instance passed in is left as it was;
- refuses bad input with ``ValidationError({field: message})`` in the user's
  language, a save that collides with someone else's with ``StaleRecord``, and
  what the user may not do with ``PermissionDenied``.

Rules of the method are never computed here: the actions hand the records to
``kam.method`` with the company's settings (``CompanySettings.load().to_method()``)
and store what it returns.

Decisions worth knowing (docs/decisions may take them over):

- Fields a verb owns cannot be set by ``update_record``: an opportunity's stage and
  outcome (``advance_stage``, ``close_opportunity``, ``reopen_opportunity``), a
  lead's screening and conversion (``screen_lead``, ``convert_lead``). Imports and
  demo data may *create* records with them (an existing deal enters the system in
  its stage); the method then reports the stage as drifting ahead of its evidence.
- A screening stores the method's reasons in both languages
  (``Lead.screening_reasons``, shown in the reader's language) and the user's own
  words as given (``Lead.decision_reason``).
- Writes to a part of a record (key-node evidence, buying-center entry, stage
  override, familiarity, trust-building action) are history rows of the part that
  name the record as their parent, so ``history_of(record)`` shows them; they do
  not bump the record's version, since none of its own fields changed.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    PermissionDenied,
    ValidationError,
)
from django.db import models
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kam.history.record import Action, Source, changes_since, diff, record, snapshot
from kam.method import process, screening
from kam.method.settings import MethodSettings
from kam.method.types import Role
from kam.org.models import CompanySettings, Membership
from kam.org.scoping import may_set_target
from kam.sales.figures import touch, writing
from kam.sales.models import (
    OPPORTUNITY_PREFETCH,
    RECYCLE_DAYS,
    Account,
    Activity,
    Attitude,
    BuyingCenterEntry,
    Contact,
    Decision,
    Deletable,
    Familiarity,
    Influence,
    InsiderClaim,
    KeyNodeEvidence,
    Lead,
    OffFunnelOrder,
    Opportunity,
    Outcome,
    StageOverride,
    Strength,
    Target,
    TrustActionDone,
    opportunity_to_deal,
)

__all__ = [
    "ChangeSince",
    "Conversion",
    "StaleRecord",
    "add_off_funnel_order",
    "add_trust_action",
    "advance_stage",
    "close_opportunity",
    "convert_lead",
    "create_record",
    "delete_record",
    "log_activity",
    "purge_expired",
    "purge_record",
    "record_evidence",
    "remove_buying_center_entry",
    "remove_evidence",
    "remove_record",
    "reopen_opportunity",
    "restore_record",
    "screen_lead",
    "set_buying_center_entry",
    "set_familiarity",
    "set_reports_to",
    "set_target",
    "update_record",
]

# ---------------------------------------------------------------------------
# Optimistic concurrency
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeSince:
    """One field someone changed after the version a user started from."""

    field: str
    old: object
    new: object
    user: object  # the user, or None for the system or a removed user
    source: str
    at: dt.datetime
    version: int


class StaleRecord(ValidationError):
    """A save started from an older version collides with changes made since.

    ``changes_since`` is what changed after ``expected_version`` (field, old and new
    value, by whom, when, from where), ``conflicts`` the fields both sides changed,
    and ``rejected`` the changes that were refused, so a form can show the user's
    input again beside what is stored now. As a ``ValidationError`` it names each
    conflicting field with who changed it and what it holds now; when the history
    cannot tell which fields changed, it refuses the whole save (``__all__``).
    """

    def __init__(
        self,
        obj: models.Model,
        *,
        expected_version: int,
        changes_since: Iterable[ChangeSince],
        conflicts: Iterable[str],
        rejected: Mapping,
    ):
        self.record = obj
        self.expected_version = expected_version
        self.current_version = obj.version
        self.changes_since = tuple(changes_since)
        self.conflicts = frozenset(conflicts)
        self.rejected = dict(rejected)
        super().__init__(self._messages())

    def _messages(self) -> dict:
        if not self.conflicts:
            return {
                NON_FIELD_ERRORS: ValidationError(
                    _(
                        "Someone else changed this record after you opened it (version "
                        "%(expected)s, now %(current)s). Your input is kept: check it and "
                        "save again."
                    )
                    % {"expected": self.expected_version, "current": self.current_version},
                    code="stale",
                )
            }
        last = {c.field: c for c in self.changes_since}
        return {
            field: ValidationError(
                _(
                    "%(user)s changed this to “%(value)s” after you opened it. Your input "
                    "is kept: check it and save again."
                )
                % {"user": _who(last[field].user), "value": _display(self.record, field)},
                code="stale",
            )
            for field in sorted(self.conflicts)
        }


def _refuse_if_stale(obj, expected_version: int | None, fields: Iterable[str], rejected: Mapping):
    """Refuse a write of ``fields`` started from ``expected_version`` when any of them
    changed since; a write of other fields merges (``None``: no check)."""
    if expected_version is None or expected_version == obj.version:
        return
    rows = list(changes_since(obj, expected_version))
    since = [
        ChangeSince(field, old, new, row.user, row.source, row.at, row.version)
        for row in rows
        for field, (old, new) in row.changes.items()
    ]
    # Merging needs the history of every version in between; without it, refuse.
    complete = expected_version < obj.version and {row.version for row in rows} >= set(
        range(expected_version + 1, obj.version + 1)
    )
    conflicts = set(fields) & {c.field for c in since}
    if conflicts or not complete:
        raise StaleRecord(
            obj,
            expected_version=expected_version,
            changes_since=since,
            conflicts=conflicts,
            rejected=rejected,
        )


# ---------------------------------------------------------------------------
# Generic record writes (forms, admin, API, import)
# ---------------------------------------------------------------------------

# Fields only a verb writes: (model, field) -> why, in the user's language.
_VERB_FIELDS = {
    Opportunity: {
        "stage": "stage",
        "stage_entered_on": "stage",
        "outcome": "stage",
        "closed_on": "stage",
        "close_reason": "stage",
    },
    Lead: {
        "scores": "screening",
        "grade": "screening",
        "decision": "screening",
        "decision_reason": "screening",
        "account": "conversion",
        "opportunity": "conversion",
    },
}
# Sources that may create records with verb-owned fields: existing data coming in.
_BULK_SOURCES = {Source.IMPORT, Source.DEMO, Source.SYSTEM}
# Links that do not change after creation: moving would strand buying-center
# entries, reporting lines and activities at the old account.
_FIXED_FIELDS = {Opportunity: {"account"}, Contact: {"account"}}
# A part of a record: its history shows under the record.
_PARENTS = {
    KeyNodeEvidence: "opportunity",
    BuyingCenterEntry: "opportunity",
    StageOverride: "opportunity",
    InsiderClaim: "opportunity",
    TrustActionDone: "account",
    Familiarity: "contact",
}


def _verb_message(kind: str) -> str:
    return {
        "stage": _(
            "The stage and outcome change only by advancing, closing or reopening the deal."
        ),
        "screening": _("The screening result changes only by screening the lead again."),
        "conversion": _("A lead is linked to its account and opportunity by converting it."),
    }[kind]


def create_record(
    model: type[models.Model],
    *,
    acting_user,
    source: str,
    fields: Mapping | None = None,
    **more_fields,
):
    """Create one record of ``model`` (a ``kam.sales`` model) from ``fields`` and
    ``more_fields`` and return it.

    ``source`` says where the write comes from; a record's own ``source`` field (the
    lead source of a lead or an opportunity) goes in the ``fields`` mapping. Foreign
    keys take an instance or a primary key, many-to-many fields an iterable of
    either. ``owner`` defaults to the acting user and ``team`` to the
    account's team, else to the acting user's only team. Links to records in the
    recycle bin are refused. Verb-owned fields (stage, outcome, screening, ...)
    are accepted only from imports, demo data and the system.
    """
    _check_source(source)
    if model._meta.app_label != "sales":
        raise TypeError(f"create_record writes kam.sales records, not {model.__name__}")
    with writing():
        return _create(
            model, {**(fields or {}), **more_fields}, acting_user=acting_user, source=source
        )


def update_record(
    target: models.Model | QuerySet,
    *,
    pk=None,
    acting_user,
    source: str,
    expected_version: int,
    changes: Mapping,
):
    """Change the fields in ``changes`` of a record with a ``version`` and return it.

    ``target`` is the record, or a scoped queryset with the record's ``pk``
    (``DoesNotExist`` when it is out of scope). ``expected_version`` is the
    version the user started from. When the record moved on since, the save
    merges if none of the fields it changes were changed since, and raises
    ``StaleRecord`` otherwise. Fields whose value does not change are ignored; a
    save changing nothing writes nothing. Every real change bumps the version.
    """
    _check_source(source)
    if not isinstance(expected_version, int) or isinstance(expected_version, bool):
        # Without it a save could overwrite changes it never saw: refuse, do not guess.
        raise ValidationError(
            {"expected_version": _("The version you started from is missing: reload and retry.")}
        )
    with writing():
        obj = _lock(target, pk)
        if not _versioned(obj):
            raise TypeError(f"{type(obj).__name__} has no version: use its own action")
        _ensure_live(obj)
        _check_names(type(obj), changes, creating=False, source=source)
        changed = {name: value for name, value in changes.items() if not _same(obj, name, value)}
        if not changed:
            return obj  # nothing to write, so nothing to lose on a stale version either
        _refuse_if_stale(obj, expected_version, changed, changes)
        many = any(obj._meta.get_field(name).many_to_many for name in changed)
        before = snapshot(obj, many_to_many=many)
        m2m = _assign(obj, changed)
        _validate(obj, m2m, links=changed)
        _commit(obj, before, acting_user=acting_user, source=source, m2m=m2m)
        return obj


def remove_record(obj: models.Model, *, acting_user, source: str) -> None:
    """Delete a record that has no recycle bin (an activity, an off-funnel order,
    a lead, a target, an insider claim, ...); its history keeps the old values.
    Accounts, contacts and opportunities go through ``delete_record``."""
    _check_source(source)
    if isinstance(obj, Deletable):
        raise TypeError(f"{type(obj).__name__} goes to the recycle bin: use delete_record")
    with writing():
        obj = _lock(obj)
        _record_removal(obj, acting_user=acting_user, source=source)
        obj.delete()


def _create(model, fields: Mapping, *, acting_user, source: str):
    _check_names(model, fields, creating=True, source=source)
    obj = model()
    m2m = _assign(obj, fields)
    names = {f.name for f in model._meta.concrete_fields}
    if "owner" in names and "owner" not in fields:
        obj.owner = acting_user
    if "team" in names and "team" not in fields:
        team_id = _default_team_id(obj, acting_user)
        if team_id is not None:
            obj.team_id = team_id
    _validate(obj, m2m, links=fields)
    obj.save()
    for name, pks in m2m.items():
        getattr(obj, name).set(pks)
    created = {k: [None, v] for k, v in snapshot(obj).items() if v not in (None, "", [], {})}
    created.update({name: [None, pks] for name, pks in m2m.items() if pks})
    _audit(
        obj,
        action=Action.CREATE,
        user=acting_user,
        source=source,
        changes=created,
        parent=_parent(obj),
    )
    return obj


def _check_names(model, fields: Mapping, *, creating: bool, source: str) -> None:
    settable = {
        f.name: f
        for f in model._meta.get_fields()
        if (f.concrete or f.many_to_many)
        and not f.auto_created
        and f.editable
        and not getattr(f, "primary_key", False)
    }
    errors = {}
    for name in fields:
        if name not in settable:
            errors[name] = _("This field cannot be set here.")
        elif name in _VERB_FIELDS.get(model, {}) and not (creating and source in _BULK_SOURCES):
            errors[name] = _verb_message(_VERB_FIELDS[model][name])
        elif not creating and name in _FIXED_FIELDS.get(model, ()):
            errors[name] = _("This cannot change once the record exists.")
    if errors:
        raise ValidationError(errors)


def _assign(obj, fields: Mapping) -> dict[str, list]:
    """Set the concrete fields; return the many-to-many ones as sorted primary keys."""
    m2m = {}
    errors = {}
    for name, value in fields.items():
        field = obj._meta.get_field(name)
        if field.many_to_many:
            try:
                m2m[name] = sorted({_pk(field.related_model, v) for v in value or ()})
            except (ValidationError, TypeError):
                errors[name] = _("Choose existing records.")
        elif field.is_relation and not isinstance(value, models.Model):
            setattr(obj, field.attname, value)
        else:
            setattr(obj, name, _plain(value))
    if errors:
        raise ValidationError(errors)
    return m2m


def _validate(obj, m2m: Mapping, *, links: Iterable[str]) -> None:
    """``full_clean()`` plus what a model cannot check itself: links to records in the
    recycle bin and many-to-many choices. Every error is reported at once."""
    errors: dict = {}
    try:
        obj.full_clean()
    except ValidationError as exc:
        errors = dict(exc.error_dict)
    # Each field gets one message: the model's own, when it has one.
    for name in links:
        field = obj._meta.get_field(name)
        if field.many_to_many or not field.is_relation:
            continue
        pk = getattr(obj, field.attname)
        if issubclass(field.related_model, Deletable) and pk is not None:
            # From the database: the instance handed in may predate its deletion.
            deleted = field.related_model._base_manager.filter(pk=pk, deleted_at__isnull=False)
            if deleted.exists():
                errors.setdefault(name, [_("This record is in the recycle bin.")])
    for name, pks in m2m.items():
        related = obj._meta.get_field(name).related_model
        found = list(related._base_manager.filter(pk__in=pks))
        if len(found) != len(pks):
            errors[name] = [_("Choose existing records.")]
        elif issubclass(related, Deletable) and any(r.deleted_at for r in found):
            errors[name] = [_("This record is in the recycle bin.")]
        elif (type(obj), name) == (Activity, "contacts") and any(
            r.account_id != obj.account_id for r in found
        ):
            errors[name] = [_("Every contact must work at the activity's account.")]
    if errors:
        raise ValidationError(errors)


def _commit(
    obj,
    before: dict,
    *,
    acting_user,
    source: str,
    action: str = Action.UPDATE,
    note: str = "",
    m2m: Mapping | None = None,
):
    """Save an already validated change: bump the version, save, write history.
    An update that changes nothing writes nothing."""
    after = snapshot(obj)
    after.update(m2m or {})
    changes = diff(before, after)
    if not changes and action == Action.UPDATE:
        return None
    if _versioned(obj):
        obj.version += 1
    obj.save()
    for name, pks in (m2m or {}).items():
        getattr(obj, name).set(pks)
    return _audit(
        obj,
        action=action,
        user=acting_user,
        source=source,
        changes=changes,
        parent=_parent(obj),
        note=note,
    )


def _record_removal(obj, *, acting_user, source: str, parent=None) -> None:
    old = {k: [v, None] for k, v in snapshot(obj).items() if v not in (None, "", [], {})}
    _audit(
        obj,
        action=Action.REMOVE,
        user=acting_user,
        source=source,
        changes=old,
        parent=parent if parent is not None else _parent(obj),
    )


# ---------------------------------------------------------------------------
# Recycle bin
# ---------------------------------------------------------------------------

_BIN_MODELS = (Account, Contact, Opportunity)


def delete_record(obj: Account | Contact | Opportunity, *, acting_user, source: str):
    """Move an account, contact or opportunity to the recycle bin and return it.

    An account takes its live contacts and opportunities with it, all in one
    batch that ``restore_record`` brings back together. Its other dependants
    (activities, evidence, ...) stay in place and go only when it is purged.
    """
    _check_source(source)
    if not isinstance(obj, _BIN_MODELS):
        raise TypeError(f"{type(obj).__name__} has no recycle bin: use remove_record")
    with writing():
        top = _lock(obj)
        _ensure_live(top)
        batch, now = uuid.uuid4(), timezone.now()
        records = [top]
        if isinstance(top, Account):
            records += Contact.objects.select_for_update().filter(account=top)
            records += Opportunity.objects.select_for_update().filter(account=top)
        for one in records:
            before = snapshot(one)
            one.deleted_at, one.deleted_batch = now, batch
            _commit(one, before, acting_user=acting_user, source=source, action=Action.DELETE)
        return top


def restore_record(
    obj: Account | Contact | Opportunity,
    *,
    acting_user,
    source: str,
    now: dt.datetime | None = None,
):
    """Bring a record back from the recycle bin with everything deleted in its batch.

    Refused after ``RECYCLE_DAYS`` days, and for a contact or opportunity whose
    account went to the bin on its own (restore the account first). ``obj`` comes
    from the scoped ``all_objects`` manager.
    """
    _check_source(source)
    now = now or timezone.now()
    with writing():
        top = _lock(obj)
        if top.deleted_at is None:
            raise ValidationError({NON_FIELD_ERRORS: _("This record is not in the recycle bin.")})
        if now - top.deleted_at > dt.timedelta(days=RECYCLE_DAYS):
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _(
                        "It was deleted more than %(days)s days ago and can no longer be restored."
                    )
                    % {"days": RECYCLE_DAYS}
                }
            )
        if not isinstance(top, Account):
            account = Account.all_objects.get(pk=top.account_id)
            if account.deleted_at is not None and account.deleted_batch != top.deleted_batch:
                raise ValidationError(
                    {"account": _("Its account is in the recycle bin: restore the account first.")}
                )
        batch = top.deleted_batch
        for model in _BIN_MODELS:
            for one in model.all_objects.select_for_update().filter(deleted_batch=batch):
                before = snapshot(one)
                one.deleted_at = one.deleted_batch = None
                _commit(one, before, acting_user=acting_user, source=source, action=Action.RESTORE)
                if one.pk == top.pk and type(one) is type(top):
                    top = one
        return top


def purge_record(obj: Account | Contact | Opportunity, *, acting_user, source: str) -> int:
    """Delete a record in the recycle bin for good, with everything that depends on it.

    Only administrators purge (``PermissionDenied`` otherwise). Each account,
    contact and opportunity removed gets a history row without its values;
    records that lose a link to it (a lead's account, a contact's manager) get
    an ordinary change row. Returns how many accounts, contacts and
    opportunities were removed.
    """
    _check_source(source)
    if acting_user is None or not acting_user.is_superuser:
        raise PermissionDenied(_("Only an administrator can purge records."))
    with writing():
        top = _lock(obj)
        if top.deleted_at is None:
            raise ValidationError(
                {NON_FIELD_ERRORS: _("Move it to the recycle bin before purging it.")}
            )
        return _purge(top, acting_user=acting_user, source=source)


def purge_expired(*, now: dt.datetime) -> int:
    """Purge what has been in the recycle bin longer than ``RECYCLE_DAYS`` days
    (the administrators' periodic job); returns how many records were removed."""
    cutoff = now - dt.timedelta(days=RECYCLE_DAYS)
    purged = 0
    # Accounts first: their contacts and opportunities go with them.
    for model in _BIN_MODELS:
        for pk in model.all_objects.filter(deleted_at__lt=cutoff).values_list("pk", flat=True):
            with writing():
                one = model.all_objects.select_for_update().filter(pk=pk).first()
                if one is not None:
                    purged += _purge(one, acting_user=None, source=Source.SYSTEM)
    return purged


def _purge(top, *, acting_user, source: str) -> int:
    accounts, contacts, opportunities = [], [], []
    {Account: accounts, Contact: contacts, Opportunity: opportunities}[type(top)].append(top)
    if isinstance(top, Account):
        contacts += Contact.all_objects.filter(account=top)
        opportunities += Opportunity.all_objects.filter(account=top)
    account_ids = {a.pk for a in accounts}
    contact_ids = {c.pk for c in contacts}
    opportunity_ids = {o.pk for o in opportunities}
    # Links other records lose (SET_NULL) are changes to them: give them history.
    for lead in Lead.objects.select_for_update().filter(
        Q(account__in=account_ids) | Q(opportunity__in=opportunity_ids)
    ):
        before = snapshot(lead)
        if lead.account_id in account_ids:
            lead.account = None
        if lead.opportunity_id in opportunity_ids:
            lead.opportunity = None
        _commit(lead, before, acting_user=acting_user, source=source)
    for report in (
        Contact.all_objects.select_for_update()
        .filter(reports_to__in=contact_ids)
        .exclude(pk__in=contact_ids)
    ):
        before = snapshot(report)
        report.reports_to = None
        _commit(report, before, acting_user=acting_user, source=source)
    doomed = [*accounts, *contacts, *opportunities]
    for one in doomed:
        _audit(one, action=Action.PURGE, user=acting_user, source=source, changes={})
    top.delete()
    return len(doomed)


# ---------------------------------------------------------------------------
# The standard process: key-node evidence and stages
# ---------------------------------------------------------------------------

_STAGE_FIELDS = ("stage", "stage_entered_on", "outcome", "closed_on", "close_reason")


def record_evidence(
    opportunity: Opportunity, *, node: str, on: dt.date, note: str = "", acting_user, source: str
) -> KeyNodeEvidence:
    """Record that the customer reached key node ``node`` (an id of the company's
    process) on ``on``. A node already evidenced is refused: remove it first."""
    _check_source(source)
    with writing():
        opp = _lock(opportunity)
        _ensure_live(opp)
        existing = KeyNodeEvidence.objects.filter(opportunity=opp, node=node).first()
        if existing is not None:
            raise ValidationError(
                {
                    "node": _(
                        "This key node already has evidence (%(on)s, %(by)s); remove it "
                        "first to record it again."
                    )
                    % {"on": existing.on, "by": _who(existing.by)}
                }
            )
        evidence = KeyNodeEvidence(opportunity=opp, node=node, by=acting_user, on=on, note=note)
        evidence.full_clean()
        evidence.save()
        _audit(evidence, action=Action.CREATE, user=acting_user, source=source, parent=opp)
        return evidence


def remove_evidence(opportunity: Opportunity, *, node: str, acting_user, source: str) -> None:
    """Withdraw the evidence of a key node (recorded by mistake, or proved wrong)."""
    _check_source(source)
    with writing():
        opp = _lock(opportunity)
        _ensure_live(opp)
        evidence = KeyNodeEvidence.objects.filter(opportunity=opp, node=node).first()
        if evidence is None:
            raise ValidationError({"node": _("This key node has no evidence to remove.")})
        _record_removal(evidence, acting_user=acting_user, source=source, parent=opp)
        evidence.delete()


def advance_stage(
    opportunity: Opportunity,
    *,
    to_stage: int | None = None,
    force_reason: str | None = None,
    on: dt.date,
    acting_user,
    source: str,
    expected_version: int | None = None,
) -> Opportunity:
    """Move a deal to ``to_stage`` (default: the next stage) through
    ``kam.method.process.advance`` and return it.

    A forward move needs the key nodes of every stage it leaves; without them it
    is refused, naming the missing nodes, unless ``force_reason`` is given: then
    it is stored as a ``StageOverride`` and the method lowers the deal's
    probability. Moving back needs nothing. Reaching stage 6 wins the deal.
    """
    _check_source(source)
    method = _method_settings()
    with writing():
        opp = _lock(opportunity)
        _ensure_live(opp)
        _refuse_if_stale(opp, expected_version, _STAGE_FIELDS, {"stage": to_stage})
        deal = _deal(opp)
        try:
            moved = process.advance(
                deal,
                to_stage=to_stage,
                on=on,
                by=acting_user.get_username(),
                force_reason=force_reason,
                settings=method.process,
            )
        except process.GateNotMet as exc:
            checked = process.gate(deal, to_stage=exc.to_stage, settings=method.process)
            raise ValidationError(
                {
                    "to_stage": checked.reason.get(_language())
                    + " "
                    + _("Record their evidence, or give a reason to force the move.")
                }
            ) from exc
        except process.ReasonRequired as exc:
            raise ValidationError(
                {"force_reason": _("Say why the deal moves on without its key nodes.")}
            ) from exc
        except process.DealClosed as exc:
            raise ValidationError({"to_stage": _closed_message(opp)}) from exc
        except process.InvalidTransition as exc:
            raise _transition_error(deal, opp, to_stage, method) from exc
        before = snapshot(opp)
        opp.stage = int(moved.stage)
        opp.outcome = moved.outcome.value
        opp.stage_entered_on = moved.deal.stage_entered_on
        opp.closed_on = moved.deal.closed_on
        opp.full_clean()
        _commit(
            opp, before, acting_user=acting_user, source=source, note=(force_reason or "").strip()
        )
        if moved.override is not None:
            override = StageOverride(
                opportunity=opp,
                from_stage=int(moved.override.from_stage),
                to_stage=int(moved.override.to_stage),
                missing=list(moved.override.missing),
                reason=moved.override.reason,
                by=acting_user,
                on=moved.override.on,
            )
            override.full_clean()
            override.save()
            _audit(override, action=Action.CREATE, user=acting_user, source=source, parent=opp)
        return opp


def close_opportunity(
    opportunity: Opportunity,
    *,
    outcome: str,
    reason: str,
    on: dt.date,
    acting_user,
    source: str,
    expected_version: int | None = None,
) -> Opportunity:
    """Close an open deal as lost or abandoned, with the reason, through the method."""
    _check_source(source)
    closers = {Outcome.LOST: process.close_lost, Outcome.ABANDONED: process.close_abandoned}
    if outcome not in closers:
        raise ValidationError({"outcome": _("A deal is closed as lost or abandoned.")})
    method = _method_settings()
    with writing():
        opp = _lock(opportunity)
        _ensure_live(opp)
        _refuse_if_stale(opp, expected_version, _STAGE_FIELDS, {"outcome": outcome})
        deal = _deal(opp)
        try:
            change = closers[Outcome(outcome)](deal, reason=reason, on=on, settings=method.process)
        except process.ReasonRequired as exc:
            raise ValidationError({"reason": _("Say why the deal ends.")}) from exc
        except process.DealClosed as exc:
            raise ValidationError(
                {"outcome": _("The deal is already %(outcome)s.") % _outcome(opp)}
            ) from exc
        except process.InvalidTransition as exc:
            raise ValidationError({"on": _date_message(opp)}) from exc
        return _store_outcome(opp, change, acting_user=acting_user, source=source)


def reopen_opportunity(
    opportunity: Opportunity,
    *,
    reason: str,
    on: dt.date,
    acting_user,
    source: str,
    expected_version: int | None = None,
) -> Opportunity:
    """Reopen a lost or abandoned deal at the stage it was closed in; the old close
    reason stays in its history."""
    _check_source(source)
    method = _method_settings()
    with writing():
        opp = _lock(opportunity)
        _ensure_live(opp)
        _refuse_if_stale(opp, expected_version, _STAGE_FIELDS, {"outcome": Outcome.OPEN})
        deal = _deal(opp)
        try:
            change = process.reopen(deal, reason=reason, on=on, settings=method.process)
        except process.ReasonRequired as exc:
            raise ValidationError({"reason": _("Say why the deal is reopened.")}) from exc
        except process.InvalidTransition as exc:
            if opp.outcome in (Outcome.LOST, Outcome.ABANDONED):
                raise ValidationError({"on": _date_message(opp)}) from exc
            raise ValidationError(
                {"outcome": _("Only a lost or abandoned deal can be reopened.")}
            ) from exc
        return _store_outcome(opp, change, acting_user=acting_user, source=source)


def _store_outcome(opp, change: process.OutcomeChange, *, acting_user, source: str):
    before = snapshot(opp)
    opp.outcome = change.outcome.value
    opp.closed_on = change.deal.closed_on
    opp.stage_entered_on = change.deal.stage_entered_on
    opp.close_reason = "" if change.outcome == Outcome.OPEN else change.reason
    opp.full_clean()
    _commit(opp, before, acting_user=acting_user, source=source, note=change.reason)
    return opp


def _deal(opp: Opportunity):
    prefetch_related_objects([opp], *OPPORTUNITY_PREFETCH)
    return opportunity_to_deal(opp)


def _transition_error(deal, opp, to_stage, method: MethodSettings) -> ValidationError:
    # The method raises InvalidTransition for a bad target and for a date before the
    # deal entered its stage; its gate() tells which by raising only for the first.
    try:
        process.gate(deal, to_stage=to_stage, settings=method.process)
    except process.InvalidTransition:
        if to_stage is not None and to_stage == opp.stage:
            return ValidationError({"to_stage": _("The deal is already in this stage.")})
        return ValidationError({"to_stage": _("Choose a stage from 1 to 6.")})
    return ValidationError({"on": _date_message(opp)})


def _closed_message(opp) -> str:
    return _("The deal is %(outcome)s: reopen it before changing its stage.") % _outcome(opp)


def _date_message(opp) -> str:
    return _("The date is before the deal entered its current stage (%(date)s).") % {
        "date": opp.stage_entered_on
    }


def _outcome(opp) -> dict:
    return {"outcome": opp.get_outcome_display()}


# ---------------------------------------------------------------------------
# The buying center and the org chart
# ---------------------------------------------------------------------------


def set_buying_center_entry(
    opportunity: Opportunity,
    contact: Contact,
    *,
    roles: Iterable[str] = (),
    influence: int = Influence.MEDIUM,
    attitude: str = Attitude.NEUTRAL,
    strength: int = Strength.NONE,
    insider: bool = False,
    acting_user,
    source: str,
) -> BuyingCenterEntry:
    """Put a contact in a deal's buying center, or replace their entry with these
    values: roles in this deal (``kam.method.types.Role`` values), real influence,
    attitude, our relationship, insider. The contact must work at the deal's account.

    The history of an entry can name the insider: show it only to those
    ``kam.org.scoping.may_see_insider`` allows (``kam.history.record.reveals_insider``).
    """
    _check_source(source)
    try:
        wanted = {Role(_plain(r)) for r in roles}
    except ValueError:
        raise ValidationError({"roles": _("Choose roles from the list.")}) from None
    with writing():
        opp = _lock(opportunity)
        _ensure_live(opp)
        person = Contact.all_objects.get(pk=contact.pk)
        if person.deleted_at is not None:
            raise ValidationError({"contact": _("This record is in the recycle bin.")})
        entry = BuyingCenterEntry.objects.filter(opportunity=opp, contact=person).first()
        creating = entry is None
        if creating:
            entry = BuyingCenterEntry(opportunity=opp, contact=person)
        before = {} if creating else snapshot(entry)
        for name, role in BuyingCenterEntry.ROLE_FIELDS.items():
            setattr(entry, name, role in wanted)
        entry.influence = _plain(influence)
        entry.attitude = _plain(attitude)
        entry.strength = _plain(strength)
        entry.insider = bool(insider)
        entry.full_clean()
        if creating:
            entry.save()
            _audit(entry, action=Action.CREATE, user=acting_user, source=source, parent=opp)
        else:
            _commit(entry, before, acting_user=acting_user, source=source)
        return entry


def remove_buying_center_entry(
    opportunity: Opportunity, contact: Contact, *, acting_user, source: str
) -> None:
    """Take a contact out of a deal's buying center."""
    _check_source(source)
    with writing():
        opp = _lock(opportunity)
        _ensure_live(opp)
        entry = BuyingCenterEntry.objects.filter(opportunity=opp, contact_id=contact.pk).first()
        if entry is None:
            raise ValidationError({"contact": _("This person is not in the buying center.")})
        _record_removal(entry, acting_user=acting_user, source=source, parent=opp)
        entry.delete()


def set_reports_to(
    contact: Contact,
    manager: Contact | None,
    *,
    acting_user,
    source: str,
    expected_version: int | None = None,
) -> Contact:
    """Record whom a contact reports to (``None``: nobody we know). ``Contact.clean``
    refuses a manager at another account, in the recycle bin, or one that would make
    a reporting cycle (``kam.method.buying_center.would_create_cycle``)."""
    _check_source(source)
    with writing():
        person = _lock(contact)
        _ensure_live(person)
        _refuse_if_stale(
            person,
            expected_version,
            {"reports_to"},
            {"reports_to": manager.pk if manager else None},
        )
        before = snapshot(person)
        person.reports_to = manager
        person.full_clean()
        _commit(person, before, acting_user=acting_user, source=source)
        return person


def set_familiarity(
    contact: Contact, user, strength: int, *, acting_user, source: str
) -> Familiarity:
    """Record how well one of our people (``user``) knows a contact."""
    _check_source(source)
    with writing():
        person = _lock(contact)
        _ensure_live(person)
        familiarity = (
            Familiarity.objects.select_for_update().filter(contact=person, user=user).first()
        )
        creating = familiarity is None
        if creating:
            familiarity = Familiarity(contact=person, user=user)
        before = {} if creating else snapshot(familiarity)
        familiarity.strength = _plain(strength)
        familiarity.full_clean()
        if creating:
            familiarity.save()
            _audit(
                familiarity, action=Action.CREATE, user=acting_user, source=source, parent=person
            )
        else:
            _commit(familiarity, before, acting_user=acting_user, source=source)
        return familiarity


# ---------------------------------------------------------------------------
# Leads: screening and conversion
# ---------------------------------------------------------------------------

_SCREENING_FIELDS = (
    "scores",
    "expected_close",
    "win_likelihood",
    "amount",
    "grade",
    "decision",
    "decision_reason",
)


def screen_lead(
    lead: Lead,
    *,
    scores: Mapping[str, int],
    expected_close: dt.date | None,
    win_likelihood: float | None,
    amount: Decimal | None = None,
    today: dt.date,
    reason: str = "",
    acting_user,
    source: str,
    expected_version: int | None = None,
) -> Lead:
    """Screen a lead with the company's risk table and grade rules and store the
    scorecard, the score, the ABCD grade and the pursue / nurture / drop decision.

    The method's reasons are kept in both languages (``Lead.screening_reasons``);
    ``reason`` is the user's own comment, kept as given (``decision_reason``).
    ``amount`` replaces the lead's estimate when given.
    """
    _check_source(source)
    method = _method_settings().screening
    scores = {key: _whole(value) for key, value in scores.items()}
    with writing():
        ld = _lock(lead)
        _refuse_if_stale(ld, expected_version, _SCREENING_FIELDS, {"scores": scores})
        amount = ld.amount if amount is None else amount
        errors = {}
        try:
            card = screening.score_risk(scores, settings=method)
        except screening.ScreeningError:
            errors["scores"] = _scores_message(method)
        if expected_close is None:
            errors["expected_close"] = _("Give the expected close date.")
        elif win_likelihood is None:
            errors["win_likelihood"] = _("Give the win likelihood.")
        else:
            try:
                grade = screening.grade(
                    expected_close,
                    today=today,
                    win_likelihood=_share(win_likelihood),
                    settings=method,
                )
            except screening.InvalidLikelihood:
                errors["win_likelihood"] = _(
                    "Give the win likelihood as a share from 0 to 1 (0.6 for 60%)."
                )
        if errors:
            raise ValidationError(errors)
        try:
            decision = screening.decide(card, grade, amount=amount, settings=method)
        except screening.InvalidAmount as exc:
            raise ValidationError({"amount": _("The amount must be 0 or more.")}) from exc
        before = snapshot(ld)
        ld.scores = scores
        ld.score = card.score
        ld.expected_close = expected_close
        ld.win_likelihood = _share(win_likelihood)
        ld.amount = amount
        ld.grade = grade.value
        ld.decision = decision.decision.value
        ld.screening_reasons = [{"zh": r.zh, "en": r.en} for r in decision.reasons]
        ld.decision_reason = reason.strip()
        ld.full_clean()
        _commit(ld, before, acting_user=acting_user, source=source, note=reason.strip())
        return ld


@dataclass(frozen=True)
class Conversion:
    """A converted lead with the account and the opportunity it became."""

    lead: Lead
    account: Account
    opportunity: Opportunity


def convert_lead(
    lead: Lead,
    *,
    account: Account | None = None,
    account_fields: Mapping | None = None,
    opportunity_fields: Mapping | None = None,
    acting_user,
    source: str,
) -> Conversion:
    """Turn a lead into an opportunity at an existing ``account`` or at a new one
    (``account_fields``; by default named after the lead's company), and link both
    on the lead, all or nothing.

    The opportunity takes the lead's name, amount, currency, expected close,
    grade, source, owner and team unless ``opportunity_fields`` says otherwise.
    Errors in the new account's fields are keyed ``account.<field>``. A lead
    already converted, or dropped at screening, is refused.
    """
    _check_source(source)
    if account is not None and account_fields:
        raise TypeError("give an existing account or the fields of a new one, not both")
    with writing():
        ld = _lock(lead)
        if ld.opportunity_id is not None:
            raise ValidationError({"opportunity": _("This lead was already converted.")})
        if ld.decision == Decision.DROP:
            raise ValidationError(
                {
                    "decision": _(
                        "This lead was dropped at screening: screen it again before converting it."
                    )
                }
            )
        if account is None:
            fields = {"name": ld.company, "owner": ld.owner_id, "team": ld.team_id}
            if ld.grade:
                fields["grade"] = ld.grade
            fields.update(account_fields or {})
            try:
                acc = _create(Account, fields, acting_user=acting_user, source=source)
            except ValidationError as exc:
                raise _prefixed(exc, "account") from None
        else:
            acc = Account.all_objects.get(pk=account.pk)
            if acc.deleted_at is not None:
                raise ValidationError({"account": _("This record is in the recycle bin.")})
        fields = {
            "account": acc,
            "name": ld.name,
            "amount": ld.amount,
            "currency": ld.currency,
            "expected_close": ld.expected_close,
            "grade": ld.grade,
            "source": ld.source,
            "owner": ld.owner_id,
            "team": ld.team_id,
        }
        fields.update(opportunity_fields or {})
        opp = _create(Opportunity, fields, acting_user=acting_user, source=source)
        before = snapshot(ld)
        ld.account, ld.opportunity = acc, opp
        ld.full_clean()
        _commit(ld, before, acting_user=acting_user, source=source)
        return Conversion(ld, acc, opp)


def _scores_message(method: screening.ScreeningSettings) -> str:
    lang = _language()
    factors = ("、" if lang.startswith("zh") else ", ").join(
        f.label.get(lang) for f in method.factors
    )
    return _(
        "Score every factor of the risk table, and only those, with a whole number from "
        "%(min)s to %(max)s: %(factors)s."
    ) % {"min": method.min_score, "max": method.max_score, "factors": factors}


def _prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return ValidationError({prefix: exc.messages})
    return ValidationError(
        {
            (prefix if name == NON_FIELD_ERRORS else f"{prefix}.{name}"): errors
            for name, errors in exc.error_dict.items()
        }
    )


# ---------------------------------------------------------------------------
# Activities, relationships, off-funnel orders, targets
# ---------------------------------------------------------------------------


def log_activity(
    *,
    account: Account,
    opportunity: Opportunity | None = None,
    kind: str,
    on: dt.date,
    contacts: Iterable[Contact] = (),
    participants: Iterable = (),
    cost: Decimal = Decimal(0),
    notes: str = "",
    next_step: str = "",
    next_pretext: str = "",
    next_on: dt.date | None = None,
    owner=None,
    acting_user,
    source: str,
) -> Activity:
    """Record a visit, call, meeting, ... at an account, with the contacts met, our
    participants, its cost and the next step. The contacts must work at the account
    and the opportunity belong to it. The owner defaults to the acting user, the team
    to the account's."""
    fields = {
        "account": account,
        "opportunity": opportunity,
        "kind": kind,
        "on": on,
        "contacts": contacts,
        "participants": participants,
        "cost": cost,
        "notes": notes,
        "next_step": next_step,
        "next_pretext": next_pretext,
        "next_on": next_on,
    }
    if owner is not None:
        fields["owner"] = owner
    return create_record(Activity, acting_user=acting_user, source=source, **fields)


def add_trust_action(
    account: Account, *, action: str, on: dt.date, evidence: str = "", acting_user, source: str
) -> TrustActionDone:
    """Record a trust-building action done with an account (an id of
    ``kam.method.relationship.TRUST_ACTIONS``) with its evidence."""
    return create_record(
        TrustActionDone,
        acting_user=acting_user,
        source=source,
        account=account,
        action=action,
        on=on,
        evidence=evidence,
        by=acting_user,
    )


def add_off_funnel_order(
    account: Account,
    *,
    amount: Decimal,
    on: dt.date,
    currency: str | None = None,
    note: str = "",
    owner=None,
    acting_user,
    source: str,
) -> OffFunnelOrder:
    """Record a small order outside the funnel. ``OffFunnelOrder.clean`` refuses an
    amount at or above the company's threshold (``kam.method.funnel.is_off_funnel``):
    such an order belongs in the funnel as an opportunity."""
    fields = {
        "account": account,
        "amount": amount,
        "on": on,
        "currency": currency or CompanySettings.load().currency,
        "note": note,
    }
    if owner is not None:
        fields["owner"] = owner
    return create_record(OffFunnelOrder, acting_user=acting_user, source=source, **fields)


def set_target(
    *,
    user=None,
    team=None,
    start: dt.date,
    end: dt.date,
    amount: Decimal,
    acting_user,
    source: str,
) -> Target:
    """Set the sales target of one user or one team for the period ``start``-``end``;
    a target for the same holder and period is replaced. Only an admin or a manager of
    the team (or of the person's team) may: ``PermissionDenied`` otherwise."""
    _check_source(source)
    holder_given = user is not None or team is not None  # no holder: the model says so
    if (
        acting_user is not None
        and holder_given
        and not may_set_target(
            acting_user, user_id=getattr(user, "pk", user), team_id=getattr(team, "pk", team)
        )
    ):
        raise PermissionDenied(_("Only a manager of the team or an administrator sets targets."))
    with writing():
        target = (
            Target.objects.select_for_update()
            .filter(
                user_id=getattr(user, "pk", user),
                team_id=getattr(team, "pk", team),
                start=start,
                end=end,
            )
            .first()
        )
        if target is None:
            return _create(
                Target,
                {"user": user, "team": team, "start": start, "end": end, "amount": amount},
                acting_user=acting_user,
                source=source,
            )
        before = snapshot(target)
        target.amount = amount
        target.full_clean()
        _commit(target, before, acting_user=acting_user, source=source)
        return target


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _audit(obj, **history):
    """Write the history row of a change to ``obj`` and note the change for the
    stored figures that read it (recomputed when the action's ``writing()`` ends)."""
    touch(obj)
    return record(obj, **history)


def _check_source(source: str) -> None:
    if source not in Source.values:
        raise ValueError(f"source {source!r} is not one of {', '.join(Source.values)}")


def _lock(target, pk=None):
    """The record, reloaded and locked for this transaction; a queryset is the
    caller's scope (``DoesNotExist`` when the record is outside it)."""
    if isinstance(target, QuerySet):
        if pk is None:
            raise TypeError("give the pk of the record to load from the queryset")
        target = target.get(pk=pk)
    elif pk is not None:
        raise TypeError("pk goes with a queryset, not with a record")
    return type(target)._base_manager.select_for_update().get(pk=target.pk)


def _ensure_live(obj) -> None:
    if getattr(obj, "deleted_at", None) is not None:
        raise ValidationError(
            {NON_FIELD_ERRORS: _("This record is in the recycle bin: restore it first.")}
        )


def _versioned(obj) -> bool:
    return any(f.name == "version" for f in obj._meta.concrete_fields)


def _parent(obj):
    name = _PARENTS.get(type(obj))
    return getattr(obj, name) if name else None


def _default_team_id(obj, acting_user):
    account_id = getattr(obj, "account_id", None)
    if account_id is not None:
        account = Account.all_objects.filter(pk=account_id).first()
        if account is not None:
            return account.team_id
    if acting_user is None:
        return None
    teams = list(Membership.objects.filter(user=acting_user).values_list("team_id", flat=True))
    return teams[0] if len(teams) == 1 else None


def _method_settings() -> MethodSettings:
    return CompanySettings.load().to_method()


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _plain(value):
    """An enum member as its value: the database stores values."""
    return value.value if hasattr(value, "value") and not isinstance(value, models.Model) else value


def _pk(model, value):
    return value.pk if isinstance(value, models.Model) else model._meta.pk.to_python(value)


def _same(obj, name: str, value) -> bool:
    """Whether ``value`` (as a form or API gives it) equals what ``obj`` holds."""
    field = obj._meta.get_field(name)
    try:
        if field.many_to_many:
            current = set(getattr(obj, name).values_list("pk", flat=True))
            return current == {_pk(field.related_model, v) for v in value or ()}
        if field.is_relation:
            wanted = None if value is None else _pk(field.related_model, value)
            return getattr(obj, field.attname) == wanted
        return getattr(obj, field.attname) == field.to_python(_plain(value))
    except (ValidationError, TypeError, ValueError):
        return False  # unreadable input is a change; validation will say what is wrong


def _whole(value):
    """A score typed as text ("4") as the whole number the method expects."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _share(value):
    return (
        float(value) if isinstance(value, (Decimal, int)) and not isinstance(value, bool) else value
    )


def _who(user) -> str:
    if user is None:
        return _("someone")
    return user.get_full_name().strip() or user.get_username()


def _display(obj, name: str) -> str:
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return ", ".join(str(o) for o in getattr(obj, name).all())
    value = getattr(obj, name)
    if value is None:
        return ""
    if field.choices:
        return str(getattr(obj, f"get_{name}_display")())
    return str(value)
