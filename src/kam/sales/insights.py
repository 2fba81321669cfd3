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
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from kam.method import buying_center, coach, funnel, insider, probability, screening, whole_brain
from kam.method.types import Grade, InsiderFact, OffFunnelOrder, Period, RelationshipLevel
from kam.org.models import CompanySettings, Membership
from kam.org.scoping import may_see_insider, visible
from kam.sales.models import (
    OPPORTUNITY_PREFETCH,
    Account,
    Activity,
    Lead,
    Opportunity,
    Outcome,
    Target,
    activity_to_method,
    contact_to_person,
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
    """The opportunities the user may see, with what ``opportunity_to_deal`` reads."""
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


@dataclass(frozen=True)
class DealView:
    """An opportunity with the method's view of it."""

    opportunity: Opportunity
    deal: object  # kam.method.types.Deal
    probability: probability.Probability


def deal_views(user, queryset: QuerySet | None = None, *, settings=None) -> list[DealView]:
    """Every visible opportunity of ``queryset`` with its deal and adjusted probability."""
    method = settings or CompanySettings.load().to_method()
    views = []
    for opp in opportunities(user, queryset):
        deal = opportunity_to_deal(opp)
        views.append(
            DealView(
                opp,
                deal,
                probability.probability(
                    deal,
                    process_settings=method.process,
                    buying_center_settings=method.buying_center,
                    settings=method.probability,
                ),
            )
        )
    return views


def funnel_rows(user, *, today: dt.date, owner=None, team=None):
    """The funnel by stage of the deals the user sees (optionally one owner or team)."""
    method = CompanySettings.load().to_method()
    views = deal_views(
        user, narrowed(Opportunity.objects.all(), owner=owner, team=team), settings=method
    )
    return funnel.funnel(
        [v.deal for v in views],
        today=today,
        probabilities={v.deal.id: v.probability.value for v in views},
        process_settings=method.process,
        settings=method.funnel,
    )


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
    """The forecast's parts for the deals and off-funnel orders the user sees."""
    method = CompanySettings.load().to_method()
    views = deal_views(
        user, narrowed(Opportunity.objects.all(), owner=owner, team=team), settings=method
    )
    orders = narrowed(
        visible(user, OffFunnelOrderModel.objects.filter(on__range=(period.start, period.end))),
        owner=owner,
        team=team,
    )
    return funnel.forecast(
        [v.deal for v in views],
        [OffFunnelOrder(o.amount, o.on) for o in orders],
        period=period,
        today=today,
        target=target_amount(period, owner=owner, team=team, user=user),
        probabilities={v.deal.id: v.probability.value for v in views},
        process_settings=method.process,
        settings=method.funnel,
    )


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
    return screening.funnel_ratios(
        leads.count() + deals.exclude(pk__in=from_leads).count(),
        deals.count(),
        deals.filter(stage__gte=3).count(),
        deals.filter(outcome=Outcome.WON).count(),
        settings=method.screening,
    )


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
    return replace(deal, people=tuple(replace(p, insider=False) for p in deal.people)), exists


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


def coach_account(user, account: Account, *, today: dt.date):
    """The coach's ranked recommendations for one visible account."""
    from kam.method import relationship

    settings = CompanySettings.load().coach_settings()
    method = settings.method
    deals = [v.deal for v in deal_views(user, account.opportunities.all(), settings=method)]
    won = relationship.won_in_lookback(deals, today=today, settings=method.relationship)
    contacts = account.contacts.prefetch_related("familiarities__user")
    activities = visible(user, account.activities.all()).prefetch_related("contacts")
    context = coach.AccountContext(
        account_id=str(account.pk),
        name=account.name,
        today=today,
        collective_decision=account.collective_decision,
        grade=Grade(account.grade) if account.grade else None,
        relationship_level=RelationshipLevel(account.relationship_level),
        trust_actions_done=frozenset(account.trust_actions.values_list("action", flat=True)),
        people=tuple(contact_to_person(c) for c in contacts),
        activities=tuple(activity_to_method(a) for a in activities),
        won_revenue=won.revenue,
        won_orders=won.orders,
        open_deals=tuple(d for d in deals if d.is_open),
        customer_since=min(
            (d.closed_on for d in deals if d.closed_on and d.outcome == "won"), default=None
        ),
        customer_file=account.filled_file_fields()
        | frozenset(f for f in ("industry", "region", "scale", "traits") if getattr(account, f)),
    )
    return coach.coach_account(context, settings=settings)


# Rules whose message names the insider; not run for someone who may not learn who it is.
_INSIDER_NAMING_RULES = frozenset({"BC-INSIDER-DOUBTFUL", "BC-INSIDER-NO-FACTS"})


def coach_deals(user, opportunities_, *, today: dt.date) -> dict:
    """The coach's ranked recommendations for each of ``opportunities_`` (as
    ``opportunities(user)`` loads them), by primary key, in a constant number of
    queries however many deals there are.

    Activities and insider claims are the ones the user may see. For a deal whose
    insider the user may not learn (``may_see_insider``), the rules that name the
    insider are not run: a teammate is told that an insider exists, never who.
    """
    from dataclasses import replace

    from kam.org.scoping import may_see_insider
    from kam.sales.models import InsiderClaim

    opps = list(opportunities_)
    if not opps:
        return {}
    settings = CompanySettings.load().coach_settings()
    discreet = replace(settings, disabled_rules=settings.disabled_rules | _INSIDER_NAMING_RULES)
    activities = list(
        visible(user, Activity.objects.filter(account__in={o.account_id for o in opps}))
        .prefetch_related("contacts")
        .order_by("on", "pk")
    )
    claims: dict = {}
    for c in visible(user, InsiderClaim.objects.filter(opportunity__in=[o.pk for o in opps])):
        claims.setdefault(c.opportunity_id, []).append(
            insider.InsiderClaim(InsiderFact(c.fact), c.supplied_on, c.confirmed, c.note)
        )
    # Each activity translated once, grouped by account: a deal reads its account's.
    by_account: dict = {}
    for a in activities:
        by_account.setdefault(a.account_id, []).append((a.opportunity_id, activity_to_method(a)))
    result = {}
    for opp in opps:
        deal = opportunity_to_deal(opp)
        people = {p.id for p in deal.people}
        mine = tuple(
            act
            for opportunity_id, act in by_account.get(opp.account_id, ())
            if opportunity_id == opp.pk or people & act.contact_ids
        )
        context = coach.DealContext(
            deal=deal,
            today=today,
            activities=mine,
            insider_claims=tuple(claims.get(opp.pk, ())),
        )
        rules = settings if may_see_insider(user, opp) else discreet
        result[opp.pk] = coach.coach_deal(context, settings=rules)
    return result


def forecasts_by_owner(
    user, owners, *, period: Period, today: dt.date, team=None
) -> dict[int, funnel.Forecast]:
    """``forecast(user, owner=o, team=team, ...)`` for each of ``owners`` (users or
    their pks), from one load of deals, orders and targets: a team's per-rep table
    costs the same queries for two reps or twenty."""
    method = CompanySettings.load().to_method()
    owner_ids = [getattr(o, "pk", o) for o in owners]
    views = deal_views(
        user, narrowed(Opportunity.objects.filter(owner__in=owner_ids), team=team), settings=method
    )
    orders = narrowed(
        visible(
            user,
            OffFunnelOrderModel.objects.filter(
                owner__in=owner_ids, on__range=(period.start, period.end)
            ),
        ),
        team=team,
    )
    targets = dict(
        visible(
            user,
            Target.objects.filter(start__gte=period.start, end__lte=period.end, user__in=owner_ids),
        )
        .values_list("user")
        .annotate(total=Sum("amount"))
    )
    deals: dict[int, list] = {pk: [] for pk in owner_ids}
    for view in views:
        deals[view.opportunity.owner_id].append(view)
    off: dict[int, list] = {pk: [] for pk in owner_ids}
    for order in orders:
        off[order.owner_id].append(OffFunnelOrder(order.amount, order.on))
    return {
        pk: funnel.forecast(
            [v.deal for v in deals[pk]],
            off[pk],
            period=period,
            today=today,
            target=targets.get(pk),
            probabilities={v.deal.id: v.probability.value for v in deals[pk]},
            process_settings=method.process,
            settings=method.funnel,
        )
        for pk in owner_ids
    }
