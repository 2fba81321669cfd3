"""A deal's and an account's figures in one call: what an application stores so
that lists, the funnel and the forecast sum them instead of running the method
over every deal on every read (compute on write, aggregate on read).

``deal_figures`` gathers, for one deal as the coach sees it on a day: the
adjusted probability with its factors (``probability``), the weighted value
(``funnel.weighted_amount``), whether the deal counts in the funnel, the day a
won deal counts as won, whether it is stuck, overdue or forced (``funnel``),
and the coach's ranked recommendations (``coach.coach_deal``). Nothing here is
a new rule: it calls the parts with their settings.

Who may not learn who the insider is (METHOD.md §2: the insider's identity is
protected) must get figures computed as if nobody were marked insider, and the
coach must not run the rules whose message names the insider: ``discreet``
gives that context. ``insider_dependent`` tells which recommendations and
factors exist only because the insider is known.

What a deal's figures read beyond the deal itself, so that an application
knows what to recompute when it changes (the cross-record inputs):

- the deal's account: whether it decides collectively;
- the people of its buying center: their contact details as ``Person``
  (title, reports-to, leadership membership, whole-brain profile, who of us
  knows them and how well);
- the activities with the deal's account (the coach keeps those of this deal
  or with its people) and the insider's claims for this deal;
- the company's settings;
- the day (``today``): stuck, overdue, visit cadence, the age of claims.

An account's figures read its contacts, activities, trust-building actions,
all its deals (won business in the look-back window, open deals, the first
order's date), the settings and the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from kam.method import coach, funnel, probability
from kam.method.coach import AccountContext, CoachSettings, DealContext, Recommendation
from kam.method.types import Deal

# Rules whose message names the insider; not run for someone who may not learn who it is.
INSIDER_NAMING_RULES = frozenset({"BC-INSIDER-DOUBTFUL", "BC-INSIDER-NO-FACTS"})


@dataclass(frozen=True)
class DealFigures:
    """Everything stored about one deal on ``today``."""

    today: dt.date
    likelihood: probability.Probability
    weighted_amount: Decimal
    in_funnel: bool
    won_on: dt.date | None
    stuck: funnel.StuckDeal | None
    overdue: funnel.OverdueDeal | None
    forced: funnel.ForcedDeal | None
    recommendations: tuple[Recommendation, ...]


def hide_insider(deal: Deal) -> Deal:
    """The deal with nobody marked insider: what may be computed for someone who may
    not learn who the insider is."""
    if not any(p.insider for p in deal.people):
        return deal
    return replace(deal, people=tuple(replace(p, insider=False) for p in deal.people))


def discreet(ctx: DealContext, settings: CoachSettings) -> tuple[DealContext, CoachSettings]:
    """The coach's context and settings for someone who may not learn who the insider
    is: no insider claims (they name the insider) and the rules that name the insider
    off. The insider's flag stays: such a user may know that an insider exists, and
    a coach told otherwise would ask them to find one."""
    return (
        replace(ctx, insider_claims=()),
        replace(settings, disabled_rules=settings.disabled_rules | INSIDER_NAMING_RULES),
    )


def _likelihood(deal: Deal, settings: CoachSettings) -> probability.Probability:
    method = settings.method
    return probability.probability(
        deal,
        process_settings=method.process,
        buying_center_settings=method.buying_center,
        settings=method.probability,
    )


def deal_figures(ctx: DealContext, *, settings: CoachSettings) -> DealFigures:
    """The deal's figures on ``ctx.today`` with the company's ``settings``."""
    return _figures(ctx, _likelihood(ctx.deal, settings), settings)


def _figures(ctx: DealContext, chance: probability.Probability, settings) -> DealFigures:
    method = settings.method
    deal, today = ctx.deal, ctx.today
    return DealFigures(
        today=today,
        likelihood=chance,
        weighted_amount=funnel.weighted_amount(deal.amount, chance.value),
        in_funnel=funnel.in_funnel(deal),
        won_on=funnel.won_on(deal),
        stuck=next(
            iter(
                funnel.stuck(
                    (deal,), today=today, process_settings=method.process, settings=method.funnel
                )
            ),
            None,
        ),
        overdue=next(iter(funnel.overdue((deal,), today=today, settings=method.funnel)), None),
        forced=next(
            iter(funnel.forced((deal,), process_settings=method.process, settings=method.funnel)),
            None,
        ),
        recommendations=coach.coach_deal(ctx, settings=settings),
    )


def discreet_deal_figures(
    ctx: DealContext, *, settings: CoachSettings, full: DealFigures | None = None
) -> DealFigures:
    """``deal_figures`` as someone who may not learn who the insider is must get them:
    the coach as ``discreet`` says, and the likelihood of the deal with nobody marked
    insider (``hide_insider``), which is all such a user's pages could compute.
    ``full``, the deal's ``deal_figures``, saves the work when there is no insider."""
    if full is not None and not ctx.insider_claims and not any(p.insider for p in ctx.deal.people):
        return full
    quiet_ctx, quiet_settings = discreet(ctx, settings)
    return _figures(quiet_ctx, _likelihood(hide_insider(ctx.deal), settings), quiet_settings)


def account_figures(
    ctx: AccountContext, *, settings: CoachSettings
) -> tuple[tuple[Recommendation, ...], tuple[Recommendation, ...]]:
    """The account's recommendations, and the same as seen without the insider
    (its open deals' insider flags hidden)."""
    full = coach.coach_account(ctx, settings=settings)
    if not any(p.insider for d in ctx.open_deals for p in d.people):
        return full, full
    quiet = replace(ctx, open_deals=tuple(hide_insider(d) for d in ctx.open_deals))
    return full, coach.coach_account(quiet, settings=settings)


def insider_dependent(full: tuple, quiet: tuple) -> tuple[bool, ...]:
    """For each of ``full`` (recommendations or factors), whether it is missing from
    ``quiet``: it exists only because the insider is known."""
    rest = list(quiet)
    flags = []
    for item in full:
        if item in rest:
            rest.remove(item)
            flags.append(False)
        else:
            flags.append(True)
    return tuple(flags)
