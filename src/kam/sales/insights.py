"""The read side: what pages, the API and the CLI show, computed by ``kam.method``.

Every function takes the user asking and goes through ``kam.org.scoping.visible``;
each loads its records in a constant number of queries and hands them to the
method. Nothing here decides a rule: it gathers, translates and calls.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    Func,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from kam.method import buying_center, coach, funnel, screening, whole_brain
from kam.method import figures as method_figures
from kam.method.types import Period, Severity, Stage, Text
from kam.org.models import CompanySettings, Membership
from kam.org.scoping import insider_circle, may_see_insider, visible
from kam.sales import figures
from kam.sales.models import (
    OPPORTUNITY_PREFETCH,
    Account,
    AccountFigures,
    DealFigures,
    Lead,
    Opportunity,
    Outcome,
    Target,
    opportunity_to_deal,
)
from kam.sales.models import (
    OffFunnelOrder as OffFunnelOrderModel,
)

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?P<part>Q[1-4]|H[12]|(?:0[1-9]|1[0-2])))?$")


def parse_period(label: str, *, fiscal_start_month: int = 1) -> Period:
    """``2026`` (fiscal year), ``2026-Q4``, ``2026-H1`` or ``2026-03`` as a ``Period``.

    Fiscal quarters and halves start at the company's fiscal start month; a
    fiscal year is named after the calendar year it starts in.
    """
    match = _PERIOD.match(label.strip())
    if not match:
        raise ValidationError(
            {"period": _("Write the period as 2026, 2026-Q4, 2026-H1 or 2026-03.")}
        )
    year, part = int(match["year"]), match["part"]
    if part and part.isdigit():
        first_month, months = (year, int(part)), 1
    else:
        offset, months = 0, 12
        if part and part[0] == "Q":
            offset, months = 3 * (int(part[1]) - 1), 3
        elif part:
            offset, months = 6 * (int(part[1]) - 1), 6
        first_month = _add_months((year, fiscal_start_month), offset)
    start = dt.date(*first_month, 1)
    end_y, end_m = _add_months(first_month, months)
    return Period(start, dt.date(end_y, end_m, 1) - dt.timedelta(days=1))


def _add_months(year_month: tuple[int, int], months: int) -> tuple[int, int]:
    index = year_month[0] * 12 + year_month[1] - 1 + months
    return index // 12, index % 12 + 1


def current_quarter(today: dt.date, *, fiscal_start_month: int = 1) -> Period:
    """The fiscal quarter containing ``today``."""
    months_in = (today.month - fiscal_start_month) % 12
    start_y, start_m = _add_months((today.year, today.month), -(months_in % 3))
    end_y, end_m = _add_months((start_y, start_m), 3)
    return Period(dt.date(start_y, start_m, 1), dt.date(end_y, end_m, 1) - dt.timedelta(days=1))


def opportunities(user, queryset: QuerySet | None = None) -> QuerySet:
    """The opportunities the user may see, with what ``opportunity_to_deal`` reads.
    For one deal's pages: the prefetches are as large as the queryset."""
    qs = Opportunity.objects.all() if queryset is None else queryset
    return (
        visible(user, qs)
        .filter(account__deleted_at__isnull=True)
        .select_related("account", "owner", "team")
        .prefetch_related(*OPPORTUNITY_PREFETCH)
    )


def narrowed(queryset: QuerySet, *, owner=None, team=None) -> QuerySet:
    """Owner and team filters shared by lists, the funnel and the forecast."""
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    if team is not None:
        queryset = queryset.filter(team=team)
    return queryset


# ---------------------------------------------------------------------------
# Stored figures as a viewer may see them (kam.sales.figures keeps them current)
# ---------------------------------------------------------------------------


def _may_see_insider(user):
    """``may_see_insider`` as an expression over opportunities."""
    if user.is_superuser:
        return Value(True)
    return Case(When(insider_circle(user), then=Value(True)), default=Value(False))


def _as_seen(user, full: str, discreet: str):
    """The stored figure ``full`` where the user may learn the insider, else ``discreet``."""
    if user.is_superuser:
        return F(f"figures__{full}")
    return Case(
        When(insider_circle(user), then=F(f"figures__{full}")),
        default=F(f"figures__{discreet}"),
    )


def listed(user, queryset: QuerySet | None = None) -> QuerySet:
    """The visible opportunities of ``queryset`` with their stored likelihood and
    weighted value as the user may see them (``seen_likelihood``,
    ``seen_weighted``; None while the figures are updating) and whether the user
    may learn their insider (``seen_insider``). Slice it before iterating: nothing
    here is bounded by itself."""
    qs = Opportunity.objects.all() if queryset is None else queryset
    return (
        visible(user, qs)
        .select_related("account", "owner", "figures")
        .annotate(
            seen_likelihood=_as_seen(user, "likelihood", "discreet_likelihood"),
            seen_weighted=_as_seen(user, "weighted_amount", "discreet_weighted_amount"),
            seen_insider=_may_see_insider(user),
        )
    )


@dataclass(frozen=True)
class StoredLikelihood:
    """A deal's stored likelihood with its explaining factors; ``value`` None while
    the figures are updating."""

    value: float | None
    factors: tuple[dict, ...] = ()


@dataclass(frozen=True)
class DealView:
    """An opportunity with its stored figures as the viewer may see them."""

    opportunity: Opportunity
    probability: StoredLikelihood
    weighted_amount: Decimal | None

    @property
    def updating(self) -> bool:
        return self.probability.value is None


def deal_view(opp: Opportunity) -> DealView:
    """One opportunity of ``listed()`` as a ``DealView``."""
    stored = getattr(opp, "figures", None)
    factors = ()
    if stored is not None:
        factors = tuple(stored.factors if opp.seen_insider else stored.discreet_factors)
    return DealView(opp, StoredLikelihood(opp.seen_likelihood, factors), opp.seen_weighted)


def deal_views(user, queryset: QuerySet | None = None) -> list[DealView]:
    """``deal_view`` of every opportunity of ``listed(user, queryset)``: give a
    bounded queryset (a page, one owner's open deals)."""
    return [deal_view(opp) for opp in listed(user, queryset)]


class DayNumber(Func):
    """A date as a whole number of days, so that the database subtracts dates."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((%(expressions)s)::date - DATE '2000-01-01')", **extra
        )


class Cents(Func):
    """Money as whole cents, written plainly (``Round`` and ``Cast`` of a decimal add
    casts to NUMERIC that cost SQLite time on every row of a sum)."""

    template = "CAST(ROUND(%(expressions)s * 100) AS BIGINT)"
    output_field = BigIntegerField()


def cents(expression, **extra):
    """SUM of money in whole cents: exact on SQLite, whose decimals are floats."""
    return Sum(Cents(expression), **extra)


def money(total_cents) -> Decimal:
    """A ``cents()`` sum as money (0 for no rows)."""
    return (Decimal(total_cents or 0) / 100).quantize(Decimal("0.01"))


def _deals(user, owner=None, team=None) -> QuerySet:
    return narrowed(visible(user, Opportunity.objects.all()), owner=owner, team=team).order_by()


def funnel_rows(user, *, today: dt.date, owner=None, team=None):
    """The funnel by stage of the deals the user sees (optionally one owner or team),
    summed by the database from the stored figures."""
    return funnel_and_conversion(user, today=today, owner=owner, team=team, conversion=False)[0]


def stage_conversion(user, *, owner=None, team=None):
    """How many of the deals the user sees reached each stage and went on."""
    return funnel_and_conversion(user, today=dt.date.today(), owner=owner, team=team)[1]


def funnel_and_conversion(user, *, today: dt.date, owner=None, team=None, conversion=True):
    """``(funnel_rows, stage_conversion)`` from one grouped query: every deal by stage
    for the conversion, the open ones in the funnel (stored ``in_funnel``) for the rows.
    Without ``conversion`` only the deals in the funnel are read (and it is None)."""
    method = CompanySettings.load().to_method()
    age = Greatest(DayNumber(Value(today)) - DayNumber(F("stage_entered_on")), Value(0))
    deals = _deals(user, owner, team)
    counted = Q(figures__in_funnel=True)
    if conversion:
        sums = {"all_deals": Count("pk")}
        when = {"filter": counted}
    else:
        deals, sums, when = deals.filter(counted), {}, {}
    rows = list(
        deals.values("stage").annotate(
            **sums,
            n=Count("pk", **when),
            value=cents(F("amount"), **when),
            weighted=cents(_as_seen(user, "weighted_amount", "discreet_weighted_amount"), **when),
            age_sum=Sum(age, **when),
            aged=Count("stage_entered_on", **when),
            max_age=Max(age, **when),
        )
    )
    totals = {
        Stage(r["stage"]): funnel.StageTotals(
            count=r["n"],
            value=money(r["value"]),
            weighted_value=money(r["weighted"]),
            age_sum=r["age_sum"] or 0,
            aged=r["aged"],
            max_age=r["max_age"],
        )
        for r in rows
        if r["stage"] in funnel.FUNNEL_STAGES
    }
    return (
        funnel.stage_rows(totals, process_settings=method.process),
        funnel.stage_conversion_from_counts({Stage(r["stage"]): r["all_deals"] for r in rows})
        if conversion
        else None,
    )


def _forecast_sums(user, deals: QuerySet, *, period: Period, today: dt.date, method, by=()):
    """Won and weighted-open sums of ``deals`` in cents (grouped ``by`` fields, if any)."""
    window = funnel.close_window(period, today, settings=method.funnel)
    if window is None:
        closing = Q(pk__in=[])
    else:
        first, last = window
        closing = Q(figures__in_funnel=True, expected_close__lte=last)
        if first is not None:
            closing &= Q(expected_close__gte=first)
    sums = {
        "won": cents(F("amount"), filter=Q(figures__won_on__range=(period.start, period.end))),
        "weighted": cents(
            _as_seen(user, "weighted_amount", "discreet_weighted_amount"), filter=closing
        ),
    }
    if by:
        return deals.values(*by).annotate(**sums)
    return deals.aggregate(**sums)


def _orders(user, period: Period, today: dt.date, owner=None, team=None) -> QuerySet:
    """Off-funnel orders the forecast counts: in the period, dated on or before today."""
    return narrowed(
        visible(user, OffFunnelOrderModel.objects.filter(on__range=(period.start, period.end))),
        owner=owner,
        team=team,
    ).filter(on__lte=today)


def target_amount(period: Period, *, owner=None, team=None, user=None) -> Decimal | None:
    """The target for the period: an owner's own, a team's, or (neither given) the sum of
    the teams the user manages, or of every team for an admin. Targets count when their
    period lies inside the asked one."""
    inside = Target.objects.filter(start__gte=period.start, end__lte=period.end)
    if user is not None:
        # Never someone else's target the user may not see (a teammate's personal one).
        inside = visible(user, inside)
    if owner is not None:
        inside = inside.filter(user=owner)
    elif team is not None:
        inside = inside.filter(team=team)
    elif user is not None and user.is_superuser:
        inside = inside.filter(team__isnull=False)
    elif user is not None:
        managed = Membership.objects.filter(user=user, role=Membership.Role.MANAGER)
        if managed.exists():
            inside = inside.filter(team__in=managed.values("team"))
        else:
            inside = inside.filter(user=user)
    total = inside.aggregate(total=Sum("amount"))["total"]
    return total


def forecast(user, *, period: Period, today: dt.date, owner=None, team=None):
    """The forecast's parts for the deals and off-funnel orders the user sees, summed
    by the database from the stored figures."""
    return forecast_with_reps(user, period=period, today=today, owner=owner, team=team)[0]


def forecasts_by_owner(
    user, owners, *, period: Period, today: dt.date, team=None
) -> dict[int, funnel.Forecast]:
    """``forecast(user, owner=o, team=team, ...)`` for each of ``owners`` (users or
    their pks): a team's per-rep table costs the same queries for two reps or twenty."""
    return forecast_with_reps(user, period=period, today=today, team=team, reps=owners)[1]


def forecast_with_reps(
    user, *, period: Period, today: dt.date, owner=None, team=None, reps=()
) -> tuple[funnel.Forecast, dict[int, funnel.Forecast]]:
    """The forecast of what the user sees (narrowed to ``owner`` or ``team``) and, from
    the same grouped sums by owner, the forecast of each of ``reps`` (users or pks).

    Sums are in whole cents, so the total is exactly the sum over owners."""
    method = CompanySettings.load().to_method()
    deals, orders = _deals(user, owner, team), _orders(user, period, today, owner, team)
    if reps:  # grouped by owner: the total is the sum over owners
        sums = list(
            _forecast_sums(user, deals, period=period, today=today, method=method, by=("owner",))
        )
        off = dict(orders.order_by().values_list("owner").annotate(total=cents(F("amount"))))
    else:  # one row: cheaper than grouping when no rep's figures are asked for
        sums = [
            {
                "owner": None,
                **_forecast_sums(user, deals, period=period, today=today, method=method),
            }
        ]
        off = {None: orders.aggregate(total=cents(F("amount")))["total"]}
    by_owner = {r["owner"]: r for r in sums}

    def of(rows, orders, target) -> funnel.Forecast:
        return funnel.forecast_from_parts(
            period=period,
            today=today,
            won=money(sum(r["won"] or 0 for r in rows)),
            off_funnel=money(sum(o or 0 for o in orders)),
            weighted_open=money(sum(r["weighted"] or 0 for r in rows)),
            target=target,
        )

    total = of(sums, off.values(), target_amount(period, owner=owner, team=team, user=user))
    rep_ids = [getattr(r, "pk", r) for r in reps]
    targets = {}
    if rep_ids:
        targets = dict(
            visible(
                user,
                Target.objects.filter(
                    start__gte=period.start, end__lte=period.end, user__in=rep_ids
                ),
            )
            .order_by()
            .values_list("user")
            .annotate(total=Sum("amount"))
        )
    per_rep = {
        pk: of(
            [by_owner[pk]] if pk in by_owner else [],
            [off[pk]] if pk in off else [],
            targets.get(pk),
        )
        for pk in rep_ids
    }
    return total, per_rep


def ratios(user, *, owner=None, team=None, since: dt.date | None = None):
    """10-5-3-1 over the records the user sees: leads -> potential customers (deals
    opened) -> proposals (deals that reached stage 3) -> orders (won).

    A deal entered without a lead was a lead all the same, so it counts as one.
    """
    method = CompanySettings.load().to_method()
    leads = narrowed(visible(user, Lead.objects.all()), owner=owner, team=team)
    deals = narrowed(visible(user, Opportunity.objects.all()), owner=owner, team=team)
    if since is not None:
        leads = leads.filter(created_at__date__gte=since)
        deals = deals.filter(created_at__date__gte=since)
    from_leads = Lead.objects.filter(opportunity__isnull=False).values("opportunity")
    counts = deals.order_by().aggregate(
        opened=Count("pk"),
        without_lead=Count("pk", filter=~Q(pk__in=from_leads)),
        proposals=Count("pk", filter=Q(stage__gte=3)),
        won=Count("pk", filter=Q(outcome=Outcome.WON)),
    )
    return screening.funnel_ratios(
        leads.count() + counts["without_lead"],
        counts["opened"],
        counts["proposals"],
        counts["won"],
        settings=method.screening,
    )


@dataclass(frozen=True)
class Flagged:
    """A deal the funnel review lists (stuck, overdue or forced), with the reason stored."""

    reason: Text
    view: DealView


def flagged(user, kind: str, *, owner=None, team=None, limit: int) -> tuple[list, int]:
    """The first ``limit`` open deals stored as ``kind`` (``stuck``, ``overdue`` or
    ``forced``), worst first, and how many there are in all."""
    column = {"stuck": "stuck_days", "overdue": "overdue_days", "forced": "forced_missing"}[kind]
    # From the few flagged deals (a partial index holds them) to the visible ones.
    ids = DealFigures.objects.filter(**{f"{column}__isnull": False}).values("opportunity_id")
    deals = narrowed(listed(user).filter(pk__in=ids), owner=owner, team=team)
    rows = [
        Flagged(Text(**opp.figures.flags[kind]), deal_view(opp))
        for opp in deals.order_by(f"-figures__{column}", "pk")[:limit]
    ]
    return rows, deals.count()


def deal_as_seen(user, opportunity: Opportunity):
    """``(deal, insider_exists)``: the opportunity as ``user`` may see it.

    Who the insider is, only ``may_see_insider`` users learn; for anyone else the
    deal's people carry no insider flag, so nothing computed from it can name the
    insider, and ``insider_exists`` tells only that there is one. Callers prefetch
    ``OPPORTUNITY_PREFETCH``.
    """
    deal = opportunity_to_deal(opportunity)
    exists = any(p.insider for p in deal.people)
    if not exists or may_see_insider(user, opportunity):
        return deal, exists
    return method_figures.hide_insider(deal), exists


@dataclass(frozen=True)
class BuyingCenterView:
    """One deal's buying center as a user may see it (``deal_as_seen``).

    ``entries`` are the live ``BuyingCenterEntry`` rows; without
    ``may_see_insider`` their ``insider`` flag must not be shown.
    """

    deal: object  # kam.method.types.Deal
    entries: tuple
    may_see_insider: bool
    insider_exists: bool
    coverage: buying_center.Coverage
    key_person: buying_center.KeyPersonProgress
    profile: whole_brain.CombinedProfile


def buying_center_view(user, opportunity: Opportunity) -> BuyingCenterView:
    """People, roles, coverage, key-person steps and the combined whole-brain profile."""
    method = CompanySettings.load().to_method()
    deal, exists = deal_as_seen(user, opportunity)
    seen = may_see_insider(user, opportunity)
    people = deal.people
    progress = buying_center.key_person_progress(
        people, collective_decision=deal.collective_decision, settings=method.buying_center
    )
    if exists and not seen:
        # Step 1 (find your insider) is done: that much the user may know.
        first = replace(progress.steps[0], done=True, missing=())
        progress = replace(progress, steps=(first, *progress.steps[1:]))
    return BuyingCenterView(
        deal=deal,
        entries=tuple(e for e in opportunity.buying_center.all() if e.contact.deleted_at is None),
        may_see_insider=seen,
        insider_exists=exists,
        coverage=buying_center.coverage(
            people, collective_decision=deal.collective_decision, settings=method.buying_center
        ),
        key_person=progress,
        profile=whole_brain.combined_profile(people, settings=method.whole_brain),
    )


def coach_deal(user, opportunity: Opportunity, *, today: dt.date):
    """The coach's ranked recommendations for one visible opportunity (see ``coach_deals``)."""
    return coach_deals(user, [opportunity], today=today)[opportunity.pk]


def _recommendations(rows: list[dict]) -> tuple[coach.Recommendation, ...]:
    return tuple(
        coach.Recommendation(
            r["rule_id"],
            Severity(r["severity"]),
            Text(**r["message"]),
            tuple(Text(**e) for e in r["evidence"]),
            r["section"],
            r["subject_id"],
        )
        for r in rows
    )


def coach_deals(user, opportunities_, *, today: dt.date) -> dict:
    """The coach's ranked recommendations for each of ``opportunities_``, by primary
    key, from the stored figures (one query however many deals).

    For a deal whose insider the user may not learn (``may_see_insider``), the
    stored recommendations made without the insider: a teammate is told that an
    insider exists, never who. Figures stored for another day than ``today`` or by
    other rules are computed afresh (not stored: a read never writes).
    """
    opps = list(opportunities_)
    if not opps:
        return {}
    version = figures.rules_version()
    stored = {
        f.opportunity_id: f
        for f in DealFigures.objects.filter(
            opportunity__in=[o.pk for o in opps], computed_for=today, rules_version=version
        )
    }
    missing = [o.pk for o in opps if o.pk not in stored]
    if missing:
        stored.update((f.opportunity_id, f) for f in figures.build_deal_rows(missing, today=today))
    result = {}
    for opp in opps:
        row = stored.get(opp.pk)
        if row is None:  # in the recycle bin: nothing to advise
            result[opp.pk] = ()
            continue
        seen = may_see_insider(user, opp)
        result[opp.pk] = _recommendations(row.findings if seen else row.discreet_findings)
    return result


def top_advice(user, *, today: dt.date, limit: int) -> list[tuple]:
    """The coach's first ``limit`` recommendations over the user's own open deals, as
    ``(recommendation, opportunity)``: by severity, then what is at stake (amount,
    stage), each deal's own order kept. Read from the stored figures in one query;
    deals whose figures are still updating are left out."""
    deals = (
        visible(user, Opportunity.objects.filter(owner=user, outcome=Outcome.OPEN))
        .filter(figures__top_severity__gt=0)
        .select_related("figures")
        .only("pk", "name", "amount", "stage", "owner_id", "team_id", "figures__findings")
    )
    ranked = sorted(
        ((rec, opp) for opp in deals for rec in _recommendations(opp.figures.findings)),
        key=lambda item: (-item[0].severity, -item[1].amount, -item[1].stage),
    )
    return ranked[:limit]


def coach_account(user, account: Account, *, today: dt.date):
    """The coach's ranked recommendations for one visible account, from its stored
    figures (computed afresh when stored for another day or by other rules).

    The findings are the account's as a whole (all its deals and activities);
    someone who may not learn any of its deals' insiders gets them as computed
    without the insider."""
    row = AccountFigures.objects.filter(
        account=account, computed_for=today, rules_version=figures.rules_version()
    ).first()
    if row is None:
        row = next(iter(figures.build_account_rows([account.pk], today=today)), None)
    if row is None:
        return ()
    open_deals = Opportunity.objects.filter(account=account, outcome=Outcome.OPEN)
    hidden = open_deals.filter(buying_center__insider=True).exclude(insider_circle(user))
    return _recommendations(row.discreet_findings if hidden.exists() else row.findings)
