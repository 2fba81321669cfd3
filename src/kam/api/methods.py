"""Endpoints of the method: gate and advance, buying center, coach, funnel,
forecast and 10-5-3-1. Each reads through ``kam.sales.insights`` (scoped to the
caller) and lets ``kam.method`` decide; texts come in the caller's language."""

import datetime as dt
from dataclasses import fields, is_dataclass
from decimal import Decimal
from enum import Enum

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Router, Schema

from kam.api import etags
from kam.api.errors import ApiError
from kam.api.resources import BY_MODEL, dump
from kam.history.record import Source
from kam.method import process
from kam.method.types import Text
from kam.org.models import CompanySettings, Team
from kam.org.scoping import visible
from kam.sales import actions, insights
from kam.sales.models import Account, Opportunity

router = Router(tags=["method"])


def _lang() -> str:
    return translation.get_language() or "en"


def plain(value):
    """A method value as JSON: texts in the caller's language, money as strings."""
    if isinstance(value, Text):
        return value.get(_lang())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    return value


def _today() -> dt.date:
    return timezone.localdate()


def _opportunity(user, pk: int) -> Opportunity:
    return get_object_or_404(insights.opportunities(user), pk=pk)


def _node(node) -> dict:
    return {"id": node.id, "label": node.label.get(_lang())}


def _gate(gate: process.Gate) -> dict:
    return {
        "from_stage": int(gate.from_stage),
        "to_stage": int(gate.to_stage),
        "allowed": gate.allowed,
        "readiness": gate.readiness,
        "missing": [_node(n) for n in gate.missing],
        "reason": gate.reason.get(_lang()),
    }


def _narrowing(user, owner: int | None, team: int | None) -> dict:
    """The owner and team filters, each a user or team the caller can see."""
    found = {}
    if owner is not None:
        found["owner"] = visible(user, get_user_model().objects.filter(pk=owner)).first()
        if found["owner"] is None:
            raise ApiError(422, "validation_error", _("Choose a record you can see."), "owner")
    if team is not None:
        found["team"] = visible(user, Team.objects.filter(pk=team)).first()
        if found["team"] is None:
            raise ApiError(422, "validation_error", _("Choose a record you can see."), "team")
    return found


# ---------------------------------------------------------------------------
# One deal
# ---------------------------------------------------------------------------


@router.get("/opportunities/{int:pk}/gate", operation_id="opportunities_gate")
def gate(request, pk: int, to_stage: int | None = None):
    """May the deal move to ``to_stage`` (default: the next stage), and which key
    nodes are missing."""
    opp = _opportunity(request.auth, pk)
    method = CompanySettings.load().to_method()
    try:
        checked = process.gate(
            insights.opportunity_to_deal(opp), to_stage=to_stage, settings=method.process
        )
    except process.InvalidTransition:
        raise ApiError(
            422,
            "validation_error",
            _("Choose a stage from 1 to 6 other than the current one."),
            "to_stage",
        ) from None
    return _gate(checked)


class AdvanceIn(Schema):
    to_stage: int | None = None
    force_reason: str | None = None
    on: dt.date | None = None


@router.post("/opportunities/{int:pk}/advance", operation_id="opportunities_advance")
def advance(request, response: HttpResponse, pk: int, payload: AdvanceIn):
    """Move the deal on (or back). Without its key nodes the move is refused (409
    ``gate_not_met`` with the missing nodes) unless ``force_reason`` is given. An
    If-Match, when sent, must be the deal's current ETag."""
    user = request.auth
    opp = _opportunity(user, pk)
    etags.check_if_sent(request, opp)
    method = CompanySettings.load().to_method()
    try:
        moved = actions.advance_stage(
            opp,
            to_stage=payload.to_stage,
            force_reason=payload.force_reason or None,
            on=payload.on or _today(),
            acting_user=user,
            source=Source.API,
            expected_version=opp.version,
        )
    except ValidationError as exc:
        refused = _refused_gate(opp, payload.to_stage, method)
        if refused is not None and "to_stage" in getattr(exc, "error_dict", {}):
            raise ApiError(
                409,
                "gate_not_met",
                exc.message_dict["to_stage"][0],
                "to_stage",
                missing=refused["missing"],
                gate=refused,
            ) from None
        raise
    response["ETag"] = etags.of(moved)
    return dump(BY_MODEL[Opportunity], moved)


def _refused_gate(opp, to_stage, method) -> dict | None:
    try:
        checked = process.gate(
            insights.opportunity_to_deal(opp), to_stage=to_stage, settings=method.process
        )
    except process.InvalidTransition:
        return None
    if checked.allowed or not checked.missing or opp.outcome != "open":
        return None
    return _gate(checked)


@router.get("/opportunities/{int:pk}/buying-center", operation_id="opportunities_buying_center")
def buying_center(request, pk: int):
    """People, their roles in this deal, coverage, the key-person step and the
    combined whole-brain profile. ``insider`` (per person) only for those who may
    learn who the insider is; everyone else gets ``insider_exists``."""
    opp = _opportunity(request.auth, pk)
    view = insights.buying_center_view(request.auth, opp)
    entries = {str(e.contact_id): e.contact for e in view.entries}
    people = []
    for person in view.deal.people:
        contact = entries[person.id]
        row = {
            "contact": contact.pk,
            "name": person.name,
            "title": person.title,
            "department": contact.department,
            "roles": sorted(r.value for r in person.roles),
            "influence": int(person.influence),
            "attitude": person.attitude.value,
            "strength": int(person.strength),
            "leadership_member": person.leadership_member,
            "reports_to": int(person.reports_to) if person.reports_to else None,
            "brain": plain(person.brain),
        }
        if view.may_see_insider:
            row["insider"] = person.insider
        people.append(row)
    coverage = view.coverage
    data = {
        "opportunity": opp.pk,
        "insider_exists": view.insider_exists,
        "people": people,
        "coverage": {
            "roles": [
                {
                    "role": rc.role.value,
                    "holders": [int(i) for i in rc.holders],
                    "covered_by": [int(i) for i in rc.covered_by],
                    "opponents": [int(i) for i in rc.opponents],
                    "supporters": [int(i) for i in rc.supporters],
                    "mapped": rc.mapped,
                    "covered": rc.covered,
                    "opposed": rc.opposed,
                }
                for rc in coverage.roles
            ],
            "unmapped_roles": plain(coverage.unmapped_roles),
            "uncovered_roles": plain(coverage.uncovered_roles),
            "opposed_roles": plain(coverage.opposed_roles),
            "veto_risk": coverage.veto_risk,
            "veto_reasons": plain(coverage.veto_reasons),
            "collective_decision": coverage.collective_decision,
            "leadership": [int(i) for i in coverage.leadership],
            "leadership_unmapped": [int(i) for i in coverage.leadership_unmapped],
            "leadership_uncovered": [int(i) for i in coverage.leadership_uncovered],
            "key_people": [int(i) for i in coverage.key_people],
            "findings": plain(coverage.findings),
        },
        "key_person": {
            "current_step": view.key_person.current_step,
            "done": view.key_person.done,
            "steps": plain(view.key_person.steps),
        },
        "profile": plain(view.profile),
    }
    if view.may_see_insider:
        data["insider"] = [int(i) for i in coverage.insiders]
    return data


def _recommendations(recs) -> dict:
    items = [
        {
            "rule_id": r.rule_id,
            "severity": r.severity.name.lower(),
            "message": r.message.get(_lang()),
            "evidence": [e.get(_lang()) for e in r.evidence],
            "section": r.section,
            "subject_id": r.subject_id,
        }
        for r in recs
    ]
    return {"items": items, "count": len(items)}


@router.get("/opportunities/{int:pk}/coach", operation_id="opportunities_coach")
def coach_deal(request, pk: int):
    """The coach's ranked recommendations for the deal."""
    opp = _opportunity(request.auth, pk)
    return _recommendations(insights.coach_deal(request.auth, opp, today=_today()))


@router.get("/accounts/{int:pk}/coach", operation_id="accounts_coach")
def coach_account(request, pk: int):
    """The coach's ranked recommendations for the account."""
    account = get_object_or_404(visible(request.auth, Account.objects.all()), pk=pk)
    return _recommendations(insights.coach_account(request.auth, account, today=_today()))


# ---------------------------------------------------------------------------
# Funnel, forecast, 10-5-3-1
# ---------------------------------------------------------------------------


@router.get("/funnel", operation_id="funnel")
def funnel(request, owner: int | None = None, team: int | None = None):
    """Open deals by stage: count, value, weighted value, age in stage."""
    narrow = _narrowing(request.auth, owner, team)
    rows = insights.funnel_rows(request.auth, today=_today(), **narrow)
    return {
        "stages": [
            {**{k: v for k, v in plain(row).items() if k != "deal_ids"}, "stage": int(row.stage)}
            for row in rows
        ],
        "count": sum(r.count for r in rows),
        "value": str(sum((r.value for r in rows), Decimal(0))),
        "weighted_value": str(sum((r.weighted_value for r in rows), Decimal(0))),
    }


@router.get("/forecast", operation_id="forecast")
def forecast(request, period: str | None = None, owner: int | None = None, team: int | None = None):
    """The forecast of a period (``2026-Q4``, ``2026-H1``, ``2026-03``, ``2026``;
    default the current quarter), every part apart: won + off_funnel +
    weighted_open + off_funnel_run_rate = forecast; progress = (won + off_funnel)
    / target."""
    fiscal = CompanySettings.load().fiscal_year_start_month
    if period:
        span = insights.parse_period(period, fiscal_start_month=fiscal)
    else:
        span = insights.current_quarter(_today(), fiscal_start_month=fiscal)
    narrow = _narrowing(request.auth, owner, team)
    result = insights.forecast(request.auth, period=span, today=_today(), **narrow)

    def part(p):
        return {"label": p.label.get(_lang()), "amount": str(p.amount)}

    return {
        "period": {"label": period or "", "start": span.start, "end": span.end},
        "won": str(result.won.amount),
        "off_funnel": str(result.off_funnel.amount),
        "weighted_open": str(result.weighted_open.amount),
        "off_funnel_run_rate": str(result.off_funnel_run_rate.amount),
        "forecast": str(result.total.amount),
        "target": None if result.target is None else str(result.target),
        "progress": result.progress,
        "expected_progress": result.expected_progress,
        "parts": {
            "won": part(result.won),
            "off_funnel": part(result.off_funnel),
            "weighted_open": part(result.weighted_open),
            "off_funnel_run_rate": part(result.off_funnel_run_rate),
            "forecast": part(result.total),
        },
    }


@router.get("/ratios", operation_id="ratios")
def ratios(
    request,
    owner: int | None = None,
    team: int | None = None,
    since: dt.date | None = None,
):
    """Leads -> potential customers -> proposals -> orders against 10-5-3-1."""
    narrow = _narrowing(request.auth, owner, team)
    report = insights.ratios(request.auth, since=since, **narrow)

    def step(s):
        return {**plain(s), "gap": s.gap, "below": s.below}

    return {"steps": [step(s) for s in report.steps], "overall": step(report.overall)}
