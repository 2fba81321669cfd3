"""Stored figures: compute on write, aggregate on read.

``kam.method.figures`` says what a deal's and an account's figures are; this
module keeps ``DealFigures`` and ``AccountFigures`` current so that the funnel,
the forecast, lists and the coach read stored rows and let the database sum.

When figures are recomputed:

- every action (``kam.sales.actions``) tells ``touch()`` what it wrote; at the
  end of the action's transaction (``writing()``) the figures of what it
  touched are recomputed in the same transaction, so a page never reads a
  deal newer than its figures. What a write touches, by what the figures read
  (see ``kam.method.figures`` for the list of cross-record inputs):

  - an opportunity or a part of it (buying-center entry, evidence, override,
    insider claim): that deal, and its account (whose coach reads its deals);
  - an account, a contact, a familiarity, an activity, a trust-building action:
    the account and its open deals (closed deals have no findings and a fixed
    likelihood, so nothing of theirs reads these);
- ``recompute_accounts_later()`` after bulk writes (imports, generated data):
  a queued task, so that the write itself stays fast; pages say "figures
  updating" for deals without current figures;
- ``recompute_all()`` (``kam recompute``, and a task queued when the company
  settings change): everything, in chunks;
- ``refresh()`` (``kam refresh``, daily): what reads the day (stuck, overdue,
  visit cadence, grade staleness, the age of insider claims) is recomputed for
  every open deal and every account not yet computed for today.

Every stored row carries ``rules_version``: a digest of ``kam.method``'s source
and the company's settings, so a row made by other rules is known as stale.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from django.db import transaction
from django.db.models import F, Q

from kam.method import figures as method_figures
from kam.method import insider, relationship
from kam.method.coach import AccountContext, CoachSettings, DealContext
from kam.method.types import Activity as MethodActivity
from kam.method.types import ActivityKind, Grade, InsiderFact, RelationshipLevel
from kam.org.models import CompanySettings
from kam.sales.models import (
    Account,
    AccountFigures,
    Activity,
    BuyingCenterEntry,
    Contact,
    DealFigures,
    Familiarity,
    InsiderClaim,
    KeyNodeEvidence,
    Opportunity,
    Outcome,
    StageOverride,
    TrustActionDone,
    contact_to_person,
    deal_of,
)

CHUNK = 500  # records per query and per write: no IN list grows with the data

# ---------------------------------------------------------------------------
# Which rules made a row
# ---------------------------------------------------------------------------

_METHOD_DIR = Path(method_figures.__file__).resolve().parent


def _method_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(_METHOD_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


_METHOD_DIGEST = _method_digest()


def rules_version(company: CompanySettings | None = None) -> str:
    """The version of the rules: ``kam.method``'s source and the company's settings."""
    company = company or CompanySettings.load()
    values = {
        f.attname: getattr(company, f.attname)
        for f in company._meta.concrete_fields
        if not f.primary_key
    }
    digest = hashlib.sha256(_METHOD_DIGEST.encode())
    digest.update(json.dumps(values, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------------------
# Computing and storing
# ---------------------------------------------------------------------------


def _text(text) -> dict:
    return {"zh": text.zh, "en": text.en}


def _recommendation(rec, insider_only: bool) -> dict:
    return {
        "rule_id": rec.rule_id,
        "severity": int(rec.severity),
        "message": _text(rec.message),
        "evidence": [_text(e) for e in rec.evidence],
        "section": rec.section,
        "subject_id": rec.subject_id,
        "insider": insider_only,
    }


def _factor(factor, insider_only: bool) -> dict:
    return {
        "id": factor.id,
        "label": _text(factor.label),
        "effect": factor.effect,
        "insider": insider_only,
    }


def _activities_by_account(account_ids: Iterable[int]) -> dict[int, list]:
    """Each account's activities as ``(owner_id, team_id, opportunity_id, activity)``,
    oldest first, read as plain values (two queries per chunk of accounts)."""
    result: dict[int, list] = {}
    ids = sorted(set(account_ids))
    through = Activity.contacts.through
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        contacts: dict[int, set] = {}
        for activity_id, contact_id in through.objects.filter(
            activity__account__in=chunk
        ).values_list("activity_id", "contact_id"):
            contacts.setdefault(activity_id, set()).add(str(contact_id))
        rows = (
            Activity.objects.filter(account__in=chunk)
            .order_by("on", "pk")
            .values_list(
                "pk",
                "account_id",
                "owner_id",
                "team_id",
                "opportunity_id",
                "kind",
                "on",
                "cost",
                "notes",
                "next_step",
                "next_pretext",
                "next_on",
            )
        )
        for (pk, account_id, owner_id, team_id, opp_id, kind, on, cost, notes, step, pretext,
             next_on) in rows:  # fmt: skip
            result.setdefault(account_id, []).append(
                (
                    owner_id,
                    team_id,
                    opp_id,
                    MethodActivity(
                        id=str(pk),
                        kind=ActivityKind(kind),
                        on=on,
                        contact_ids=frozenset(contacts.get(pk, ())),
                        cost=cost,
                        notes=notes,
                        next_step=step,
                        next_pretext=pretext,
                        next_on=next_on,
                        by=str(owner_id),
                    ),
                )
            )
    return result


def _claims(opportunity_ids: list[int]) -> dict[int, list]:
    claims: dict[int, list] = {}
    for c in InsiderClaim.objects.filter(opportunity__in=opportunity_ids).order_by("pk"):
        claims.setdefault(c.opportunity_id, []).append(
            insider.InsiderClaim(InsiderFact(c.fact), c.supplied_on, c.confirmed, c.note)
        )
    return claims


_OPPORTUNITY_FIELDS = (
    "pk",
    "account_id",
    "owner_id",
    "team_id",
    "name",
    "amount",
    "stage",
    "outcome",
    "expected_close",
    "stage_entered_on",
    "created_at",
    "closed_on",
    "grade",
    "competitors",
    "proposal_emphasis",
    "source",
)
_CONTACT_FIELDS = (
    "name",
    "title",
    "reports_to_id",
    "leadership_member",
    "brain_phrases",
    "brain_direct",
)


def load_deals(opportunity_ids: list[int]) -> list[tuple[SimpleNamespace, object]]:
    """``(row, deal)`` for each live opportunity of ``opportunity_ids`` (at most
    ``CHUNK``): the same ``Deal`` as ``opportunity_to_deal`` builds (through
    ``deal_of``), read as plain rows in five queries, without a model instance per
    person, fact and familiarity: recomputing every figure is mostly this."""
    opps = list(
        Opportunity.objects.filter(pk__in=opportunity_ids)
        .order_by("pk")
        .values(*_OPPORTUNITY_FIELDS, "owner__username", "account__collective_decision")
    )
    people: dict[int, list] = {}
    entries = (
        BuyingCenterEntry.objects.filter(
            opportunity__in=opportunity_ids, contact__deleted_at__isnull=True
        )
        .order_by("pk")
        .values(
            "opportunity_id",
            "contact_id",
            "influence",
            "attitude",
            "strength",
            "insider",
            *BuyingCenterEntry.ROLE_FIELDS,
            *(f"contact__{f}" for f in _CONTACT_FIELDS),
        )
    )
    known: dict[int, list] = {}
    for contact_id, username, strength in (
        Familiarity.objects.filter(
            contact__in=BuyingCenterEntry.objects.filter(opportunity__in=opportunity_ids).values(
                "contact_id"
            )
        )
        .order_by("pk")
        .values_list("contact_id", "user__username", "strength")
    ):
        known.setdefault(contact_id, []).append((username, strength))
    for e in entries:
        contact = SimpleNamespace(
            pk=e["contact_id"], **{f: e[f"contact__{f}"] for f in _CONTACT_FIELDS}
        )
        entry = SimpleNamespace(
            roles=frozenset(
                role for name, role in BuyingCenterEntry.ROLE_FIELDS.items() if e[name]
            ),
            influence=e["influence"],
            attitude=e["attitude"],
            strength=e["strength"],
            insider=e["insider"],
        )
        people.setdefault(e["opportunity_id"], []).append(
            (contact, entry, tuple(known.get(e["contact_id"], ())))
        )
    evidence: dict[int, list] = {}
    for opp_id, *fact in (
        KeyNodeEvidence.objects.filter(opportunity__in=opportunity_ids)
        .order_by("pk")
        .values_list("opportunity_id", "node", "by__username", "on", "note")
    ):
        evidence.setdefault(opp_id, []).append(tuple(fact))
    overrides: dict[int, list] = {}
    for opp_id, *forced in (
        StageOverride.objects.filter(opportunity__in=opportunity_ids)
        .order_by("on", "pk")
        .values_list(
            "opportunity_id", "from_stage", "to_stage", "missing", "reason", "by__username", "on"
        )
    ):
        overrides.setdefault(opp_id, []).append(tuple(forced))
    result = []
    for o in opps:
        row = SimpleNamespace(**{f: o[f] for f in _OPPORTUNITY_FIELDS})
        deal = deal_of(
            row,
            owner=o["owner__username"],
            collective_decision=o["account__collective_decision"],
            people=people.get(o["pk"], []),
            evidence=evidence.get(o["pk"], []),
            overrides=overrides.get(o["pk"], []),
        )
        result.append((row, deal))
    return result


def _deal_activities(opp: Opportunity, deal, by_account: dict) -> tuple:
    """The activities the coach reads for a deal: those of the deal's owner or team
    with this deal or with its people (what the deal's owner sees)."""
    people = {p.id for p in deal.people}
    return tuple(
        act
        for owner_id, team_id, opportunity_id, act in by_account.get(opp.account_id, ())
        if (owner_id == opp.owner_id or (team_id is not None and team_id == opp.team_id))
        and (opportunity_id == opp.pk or people & act.contact_ids)
    )


def deal_context(opp, deal, *, today: dt.date, by_account: dict, claims: dict):
    """The coach's context of one deal (``opp`` its row: key, account, owner, team)."""
    return DealContext(
        deal=deal,
        today=today,
        activities=_deal_activities(opp, deal, by_account) if deal.is_open else (),
        insider_claims=tuple(claims.get(opp.pk, ())),
    )


def _deal_row(opp, ctx: DealContext, settings: CoachSettings, version: str) -> DealFigures:
    full = method_figures.deal_figures(ctx, settings=settings)
    quiet = method_figures.discreet_deal_figures(ctx, settings=settings, full=full)
    rec_flags = method_figures.insider_dependent(full.recommendations, quiet.recommendations)
    factor_flags = method_figures.insider_dependent(
        full.likelihood.factors, quiet.likelihood.factors
    )
    flags = {}
    for name in ("stuck", "overdue", "forced"):
        found = getattr(full, name)
        if found is not None:
            flags[name] = _text(found.reason)
    return DealFigures(
        opportunity_id=opp.pk,
        rules_version=version,
        computed_for=ctx.today,
        in_funnel=full.in_funnel,
        won_on=full.won_on,
        likelihood=full.likelihood.value,
        weighted_amount=full.weighted_amount,
        factors=[
            _factor(f, flag) for f, flag in zip(full.likelihood.factors, factor_flags, strict=True)
        ],
        discreet_likelihood=quiet.likelihood.value,
        discreet_weighted_amount=quiet.weighted_amount,
        discreet_factors=[_factor(f, False) for f in quiet.likelihood.factors],
        findings=[
            _recommendation(r, flag)
            for r, flag in zip(full.recommendations, rec_flags, strict=True)
        ],
        discreet_findings=[_recommendation(r, False) for r in quiet.recommendations],
        top_severity=max((int(r.severity) for r in full.recommendations), default=0),
        discreet_top_severity=max((int(r.severity) for r in quiet.recommendations), default=0),
        stuck_days=full.stuck.days if full.stuck else None,
        overdue_days=full.overdue.days if full.overdue else None,
        forced_missing=len(full.forced.missing) if full.forced else None,
        flags=flags,
    )


_DEAL_FIELDS = [
    f.name for f in DealFigures._meta.concrete_fields if not f.primary_key
]  # every field but the key: what an upsert replaces
_ACCOUNT_FIELDS = [f.name for f in AccountFigures._meta.concrete_fields if not f.primary_key]


def build_deal_rows(
    opportunity_ids: Iterable[int],
    *,
    today: dt.date | None = None,
    company: CompanySettings | None = None,
) -> list[DealFigures]:
    """The figures of these opportunities (those in the recycle bin skipped), unsaved."""
    today = today or dt.date.today()
    company = company or CompanySettings.load()
    settings, version = company.coach_settings(), rules_version(company)
    ids = sorted(set(opportunity_ids))
    rows = []
    for start in range(0, len(ids), CHUNK):
        deals = load_deals(ids[start : start + CHUNK])
        open_deals = [(row, deal) for row, deal in deals if deal.is_open]
        by_account = _activities_by_account({row.account_id for row, _deal in open_deals})
        claims = _claims([row.pk for row, _deal in open_deals])
        rows += [
            _deal_row(
                row,
                deal_context(row, deal, today=today, by_account=by_account, claims=claims),
                settings,
                version,
            )
            for row, deal in deals
        ]
    return rows


def compute_deals(
    opportunity_ids: Iterable[int],
    *,
    today: dt.date | None = None,
    company: CompanySettings | None = None,
) -> int:
    """Recompute and store the figures of these opportunities; returns how many.

    Each chunk is computed first (reads only) and written after, in a transaction
    of its own when none is open: on SQLite the write lock is held for the
    writing, not for the method's work (tens of milliseconds, not seconds)."""
    ids = sorted(set(opportunity_ids))
    stored = 0
    for start in range(0, len(ids), CHUNK):
        rows = build_deal_rows(ids[start : start + CHUNK], today=today, company=company)
        with transaction.atomic():
            DealFigures.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["opportunity"],
                update_fields=_DEAL_FIELDS,
            )
        stored += len(rows)
    return stored


def account_context(account: Account, *, today: dt.date, settings, by_account: dict, deals):
    """The coach's context of one account: its contacts, activities and deals."""
    won = relationship.won_in_lookback(deals, today=today, settings=settings.method.relationship)
    return AccountContext(
        account_id=str(account.pk),
        name=account.name,
        today=today,
        collective_decision=account.collective_decision,
        grade=Grade(account.grade) if account.grade else None,
        relationship_level=RelationshipLevel(account.relationship_level),
        trust_actions_done=frozenset(t.action for t in account.trust_actions.all()),
        people=tuple(contact_to_person(c) for c in account.contacts.all()),
        activities=tuple(a for *_, a in by_account.get(account.pk, ())),
        won_revenue=won.revenue,
        won_orders=won.orders,
        open_deals=tuple(d for d in deals if d.is_open),
        customer_since=min(
            (d.closed_on for d in deals if d.closed_on and d.outcome == "won"), default=None
        ),
        customer_file=account.filled_file_fields()
        | frozenset(f for f in ("industry", "region", "scale", "traits") if getattr(account, f)),
    )


def build_account_rows(
    account_ids: Iterable[int],
    *,
    today: dt.date | None = None,
    company: CompanySettings | None = None,
) -> list[AccountFigures]:
    """The coach's findings of these accounts (those in the recycle bin skipped), unsaved."""
    today = today or dt.date.today()
    company = company or CompanySettings.load()
    settings, version = company.coach_settings(), rules_version(company)
    ids = sorted(set(account_ids))
    rows = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        accounts = list(
            Account.objects.filter(pk__in=chunk).prefetch_related(
                "trust_actions", "contacts__familiarities__user"
            )
        )
        deals: dict[int, list] = {}
        deal_ids = list(
            Opportunity.objects.filter(account__in=chunk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for first in range(0, len(deal_ids), CHUNK):
            for row, deal in load_deals(deal_ids[first : first + CHUNK]):
                deals.setdefault(row.account_id, []).append(deal)
        by_account = _activities_by_account(chunk)
        for account in accounts:
            ctx = account_context(
                account,
                today=today,
                settings=settings,
                by_account=by_account,
                deals=deals.get(account.pk, []),
            )
            full, quiet = method_figures.account_figures(ctx, settings=settings)
            flags = method_figures.insider_dependent(full, quiet)
            rows.append(
                AccountFigures(
                    account_id=account.pk,
                    rules_version=version,
                    computed_for=today,
                    findings=[
                        _recommendation(r, flag) for r, flag in zip(full, flags, strict=True)
                    ],
                    discreet_findings=[_recommendation(r, False) for r in quiet],
                )
            )
    return rows


def compute_accounts(
    account_ids: Iterable[int],
    *,
    today: dt.date | None = None,
    company: CompanySettings | None = None,
) -> int:
    """Recompute and store the coach's findings of these accounts; returns how many
    (computed first, then written in a short transaction, as ``compute_deals``)."""
    ids = sorted(set(account_ids))
    stored = 0
    for start in range(0, len(ids), CHUNK):
        rows = build_account_rows(ids[start : start + CHUNK], today=today, company=company)
        with transaction.atomic():
            AccountFigures.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["account"],
                update_fields=_ACCOUNT_FIELDS,
            )
        stored += len(rows)
    return stored


def refresh_accounts(
    account_ids: Iterable[int], opportunity_ids: Iterable[int] = (), *, today=None
) -> None:
    """Recompute the accounts, their open deals and the given deals."""
    account_ids = set(account_ids)
    deal_ids = set(opportunity_ids)
    accounts = sorted(account_ids)
    for start in range(0, len(accounts), CHUNK):
        deal_ids.update(
            Opportunity.objects.filter(
                account__in=accounts[start : start + CHUNK], outcome=Outcome.OPEN
            ).values_list("pk", flat=True)
        )
    company = CompanySettings.load()
    compute_deals(deal_ids, today=today, company=company)
    compute_accounts(account_ids, today=today, company=company)


def _in_chunks(queryset, size: int = CHUNK):
    """Primary keys of ``queryset`` in ascending chunks, by key ranges (keyset paging)."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def recompute_all(
    *,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    part: tuple[int, int] = (0, 1),
) -> tuple[int, int]:
    """Recompute every live deal's and account's figures, chunk by chunk, each
    chunk written in its own short transaction; returns ``(deals, accounts)``.

    ``part=(i, n)``: only the records whose key is ``i`` modulo ``n``, so that
    ``n`` processes share the work (``kam recompute --jobs``)."""
    index, parts = part
    deals, accounts = Opportunity.objects.all(), Account.objects.all()
    if parts > 1:
        deals = deals.alias(part=F("pk") % parts).filter(part=index)
        accounts = accounts.alias(part=F("pk") % parts).filter(part=index)
    return _recompute(deals, accounts, today, progress)


def refresh(
    *, today: dt.date | None = None, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """The daily refresh: recompute what reads the day (open deals and accounts not
    computed for ``today``) and whatever older rules made or nothing has computed yet."""
    today = today or dt.date.today()
    version = rules_version()
    deals = Opportunity.objects.filter(
        (Q(outcome=Outcome.OPEN) & ~Q(figures__computed_for=today))
        | ~Q(figures__rules_version=version)
        | Q(figures__isnull=True)
    )
    accounts = Account.objects.filter(
        ~Q(figures__computed_for=today)
        | ~Q(figures__rules_version=version)
        | Q(figures__isnull=True)
    )
    return _recompute(deals, accounts, today, progress)


def _recompute(deals, accounts, today, progress) -> tuple[int, int]:
    today = today or dt.date.today()
    company = CompanySettings.load()
    total = deals.count() + accounts.count()
    done = counted_deals = counted_accounts = 0
    # Deals of one account together: their activities load once.
    for ids in _in_chunks(deals):
        counted_deals += compute_deals(ids, today=today, company=company)
        done += len(ids)
        if progress:
            progress(done, total)
    for ids in _in_chunks(accounts):
        counted_accounts += compute_accounts(ids, today=today, company=company)
        done += len(ids)
        if progress:
            progress(done, total)
    return counted_deals, counted_accounts


def recompute_accounts_later(account_ids: Iterable[int]) -> None:
    """Queue the recomputation of these accounts and their deals (after a bulk write)."""
    from kam.sales.tasks import recompute_accounts_task

    ids = sorted(set(account_ids))
    for start in range(0, len(ids), CHUNK):
        recompute_accounts_task.enqueue(ids[start : start + CHUNK])


def updating() -> bool:
    """Whether a recomputation is queued or running (after an import, a settings
    change): totals may still move, and pages say so."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another task backend: nothing here to ask
        return False
    return DBTaskResult.objects.filter(
        task_path__startswith="kam.sales.tasks.", status__in=("READY", "RUNNING")
    ).exists()


# ---------------------------------------------------------------------------
# Keeping figures current inside the actions' transactions
# ---------------------------------------------------------------------------

_state = threading.local()


def _pending() -> dict | None:
    return getattr(_state, "pending", None)


@contextmanager
def writing():
    """``transaction.atomic()`` for an action: the figures of what it ``touch()``-ed
    are recomputed before the outermost ``writing()`` block commits."""
    outermost = _pending() is None
    if outermost:
        _state.pending = {"accounts": set(), "deals": set()}
    try:
        with transaction.atomic():
            yield
            if outermost and not getattr(_state, "deferred", False):
                pending = _state.pending
                if pending["accounts"] or pending["deals"]:
                    refresh_accounts(pending["accounts"], pending["deals"])
    finally:
        if outermost:
            _state.pending = None


@contextmanager
def deferred():
    """Let actions inside write without recomputing; the accounts they touched are
    queued (``recompute_accounts_later``) when the block ends without an error."""
    if getattr(_state, "deferred", False):
        yield
        return
    _state.deferred = True
    _state.touched_later = set()
    try:
        yield
        recompute_accounts_later(_state.touched_later)
    finally:
        _state.deferred = False
        _state.touched_later = set()


# What a written record touches: (account id, opportunity id or None).
_VIA_OPPORTUNITY = (BuyingCenterEntry, KeyNodeEvidence, StageOverride, InsiderClaim)
_VIA_ACCOUNT = (Contact, Activity, TrustActionDone)


def touch(obj) -> None:
    """Note that ``obj`` was written, for the figures of what reads it."""
    pending = _pending()
    if pending is None:
        return
    account_id = opportunity_id = None
    if isinstance(obj, Opportunity):
        account_id, opportunity_id = obj.account_id, obj.pk
    elif isinstance(obj, _VIA_OPPORTUNITY):
        opportunity_id = obj.opportunity_id
        account_id = (
            Opportunity.all_objects.filter(pk=opportunity_id)
            .values_list("account_id", flat=True)
            .first()
        )
    elif isinstance(obj, Account):
        account_id = obj.pk
    elif isinstance(obj, _VIA_ACCOUNT):
        account_id = obj.account_id
    elif isinstance(obj, Familiarity):
        account_id = Contact.all_objects.filter(pk=obj.contact_id).values_list(
            "account_id", flat=True
        )[0]
    else:
        return  # leads, targets, off-funnel orders: no stored figure reads them
    if getattr(_state, "deferred", False):
        _state.touched_later.add(account_id)
        return
    if account_id is not None:
        pending["accounts"].add(account_id)
    if opportunity_id is not None:
        pending["deals"].add(opportunity_id)
