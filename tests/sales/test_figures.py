"""Stored figures: kept current by every action, and summed by the database to the
same cent as ``kam.method`` computes from scratch.

The data set is the demo (120 deals in every stage and outcome, insiders,
evidence, activities over a year, targets and off-funnel orders); random
sequences of actions then change deals, buying centers, people, activities and
accounts, and after each sequence every stored row must equal a fresh
computation.
"""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from kam.history.record import Source
from kam.method import funnel, probability
from kam.method.types import OffFunnelOrder as MethodOrder
from kam.org.models import CompanySettings, Membership, Team
from kam.sales import actions, figures, insights
from kam.sales.demo import load_demo
from kam.sales.models import (
    Account,
    AccountFigures,
    Activity,
    BuyingCenterEntry,
    Contact,
    DealFigures,
    OffFunnelOrder,
    Opportunity,
    Outcome,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
# When and by which rules a row was made; its content is what must match.
SYNTHETIC = ("rules_version", "computed_for")


@pytest.fixture
def demo():
    return load_demo(today=TODAY)


def _fields(row) -> dict:
    return {
        f.name: getattr(row, f.name)
        for f in type(row)._meta.concrete_fields
        if not f.primary_key and f.name not in SYNTHETIC
    }


def _assert_stored_equals_fresh(today=TODAY):
    deal_ids = list(Opportunity.objects.values_list("pk", flat=True))
    fresh = {r.opportunity_id: _fields(r) for r in figures.build_deal_rows(deal_ids, today=today)}
    stored = {r.opportunity_id: _fields(r) for r in DealFigures.objects.filter(pk__in=deal_ids)}
    assert stored.keys() == fresh.keys()
    for pk, row in fresh.items():
        assert stored[pk] == row, f"opportunity {pk}"
    account_ids = list(Account.objects.values_list("pk", flat=True))
    fresh = {r.account_id: _fields(r) for r in figures.build_account_rows(account_ids, today=today)}
    stored = {r.account_id: _fields(r) for r in AccountFigures.objects.filter(pk__in=account_ids)}
    assert stored == fresh


def test_the_demo_loader_stores_every_figure(demo):
    assert DealFigures.objects.count() == Opportunity.objects.count() > 100
    assert AccountFigures.objects.count() == Account.objects.count()
    _assert_stored_equals_fresh()


def _random_action(rng: random.Random, admin) -> None:
    """One write a user could make, on a random live record, through the actions."""
    opp = rng.choice(list(Opportunity.objects.select_related("account")))
    contacts = list(Contact.objects.filter(account=opp.account_id))
    kwargs = {"acting_user": admin, "source": Source.PAGE}
    kind = rng.choice(
        [
            "amount",
            "close_date",
            "buying_center",
            "insider",
            "remove_entry",
            "activity",
            "title",
            "familiarity",
            "collective",
            "advance",
            "close",
            "reopen",
            "delete_restore",
        ]
    )
    if kind == "amount":
        actions.update_record(
            opp,
            expected_version=opp.version,
            changes={"amount": Decimal(rng.randrange(10_000, 9_000_000))},
            **kwargs,
        )
    elif kind == "close_date":
        actions.update_record(
            opp,
            expected_version=opp.version,
            changes={"expected_close": TODAY + dt.timedelta(days=rng.randrange(-60, 200))},
            **kwargs,
        )
    elif kind in ("buying_center", "insider") and contacts and opp.outcome == Outcome.OPEN:
        actions.set_buying_center_entry(
            opp,
            rng.choice(contacts),
            roles=rng.sample(["decision_maker", "technical", "purchaser", "user"], 2),
            attitude=rng.choice(["supporter", "neutral", "opponent"]),
            strength=rng.randrange(0, 4),
            insider=kind == "insider",
            **kwargs,
        )
    elif kind == "remove_entry":
        entry = BuyingCenterEntry.objects.filter(opportunity=opp).first()
        if entry is not None:
            actions.remove_buying_center_entry(opp, entry.contact, **kwargs)
    elif kind == "activity":
        actions.log_activity(
            account=opp.account,
            opportunity=opp,
            kind=rng.choice(["visit", "call", "meeting"]),
            on=TODAY - dt.timedelta(days=rng.randrange(0, 90)),
            contacts=rng.sample(contacts, min(2, len(contacts))),
            next_pretext="送样品",
            next_on=TODAY + dt.timedelta(days=rng.randrange(1, 30)),
            owner=opp.owner,
            **kwargs,
        )
    elif kind == "title" and contacts:
        person = rng.choice(contacts)
        actions.update_record(
            person, expected_version=person.version, changes={"title": "总经理"}, **kwargs
        )
    elif kind == "familiarity" and contacts:
        actions.set_familiarity(rng.choice(contacts), opp.owner, rng.randrange(0, 4), **kwargs)
    elif kind == "collective":
        account = opp.account
        actions.update_record(
            account,
            expected_version=account.version,
            changes={"collective_decision": not account.collective_decision},
            **kwargs,
        )
    elif kind == "advance" and opp.outcome == Outcome.OPEN and opp.stage < 6:
        actions.advance_stage(opp, force_reason="客户催促", on=TODAY, **kwargs)
    elif kind == "close" and opp.outcome == Outcome.OPEN:
        actions.close_opportunity(opp, outcome="lost", reason="价格", on=TODAY, **kwargs)
    elif kind == "reopen" and opp.outcome in (Outcome.LOST, Outcome.ABANDONED):
        actions.reopen_opportunity(opp, reason="客户重启", on=TODAY, **kwargs)
    elif kind == "delete_restore":
        actions.delete_record(opp, **kwargs)
        actions.restore_record(Opportunity.all_objects.get(pk=opp.pk), **kwargs)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_random_actions_stored_figures_equal_a_fresh_computation(demo, seed):
    admin = get_user_model().objects.get(username="zhaomin")
    rng = random.Random(seed)
    for _ in range(25):
        _random_action(rng, admin)
    _assert_stored_equals_fresh()


def test_a_deal_in_the_recycle_bin_leaves_the_sums(demo):
    admin = get_user_model().objects.get(username="zhaomin")
    opp = Opportunity.objects.filter(outcome=Outcome.OPEN, stage__lt=6).first()
    before = sum(r.count for r in insights.funnel_rows(admin, today=TODAY))
    actions.delete_record(opp, acting_user=admin, source=Source.PAGE)
    assert sum(r.count for r in insights.funnel_rows(admin, today=TODAY)) == before - 1


def test_after_the_daily_refresh_tomorrow_stored_equals_fresh(demo):
    tomorrow = TODAY + dt.timedelta(days=1)
    deals, accounts = figures.refresh(today=tomorrow)
    assert deals == Opportunity.objects.filter(outcome=Outcome.OPEN).count()
    assert accounts == Account.objects.count()
    _assert_stored_equals_fresh(tomorrow)
    # A second run the same day has nothing left to do.
    assert figures.refresh(today=tomorrow) == (0, 0)


def test_a_settings_change_recomputes_every_figure(demo, django_user_model):
    from kam.web.sections.settings import save_company_settings

    admin = django_user_model.objects.get(username="zhaomin")
    old = set(DealFigures.objects.values_list("rules_version", flat=True))
    save_company_settings({"stuck_days": 30}, acting_user=admin, source=Source.PAGE)
    new = set(DealFigures.objects.values_list("rules_version", flat=True))
    assert new == {figures.rules_version()} and new != old
    _assert_stored_equals_fresh()


# ---------------------------------------------------------------------------
# The database's sums equal kam.method.funnel over the same deals
# ---------------------------------------------------------------------------


def _scratch(user, *, owner=None, team=None):
    """Deals and probabilities from scratch through ``kam.method``, as ``user`` may see them."""
    method = CompanySettings.load().to_method()
    deals, chances = [], {}
    for opp in insights.narrowed(insights.opportunities(user), owner=owner, team=team):
        deal, _exists = insights.deal_as_seen(user, opp)
        deals.append(deal)
        chances[deal.id] = probability.probability(
            deal,
            process_settings=method.process,
            buying_center_settings=method.buying_center,
            settings=method.probability,
        ).value
    return deals, chances, method


def _viewers():
    """Every rep, every team (asked by its manager) and the company (asked by the admin)."""
    users = get_user_model().objects.all()
    for member in Membership.objects.select_related("user", "team"):
        yield member.user, {"owner": member.user}
    for team in Team.objects.all():
        manager = Membership.objects.filter(team=team, role=Membership.Role.MANAGER).first()
        yield manager.user, {"team": team}
    yield users.get(is_superuser=True), {}
    # A rep asking for the team: teammates' insiders stay hidden in the sums.
    rep = Membership.objects.filter(role=Membership.Role.REP).first()
    yield rep.user, {"team": rep.team}


def _without_ids(rows):
    return [{k: v for k, v in vars(r).items() if k != "deal_ids"} for r in rows]


def test_the_sql_funnel_equals_the_method_for_every_rep_team_and_the_company(demo):
    for user, narrow in _viewers():
        deals, chances, method = _scratch(user, **narrow)
        expected = funnel.funnel(
            deals,
            today=TODAY,
            probabilities=chances,
            process_settings=method.process,
            settings=method.funnel,
        )
        got = insights.funnel_rows(user, today=TODAY, **narrow)
        assert _without_ids(got) == _without_ids(expected), (user, narrow)
        assert insights.stage_conversion(user, **narrow) == funnel.stage_conversion(deals)


@pytest.mark.parametrize("period", ["current", "last-quarter", "year", "next-quarter"])
def test_the_sql_forecast_equals_the_method_for_every_rep_team_and_the_company(demo, period):
    fiscal = CompanySettings.load().fiscal_year_start_month
    span = {
        "current": insights.current_quarter(TODAY, fiscal_start_month=fiscal),
        "last-quarter": insights.current_quarter(
            TODAY - dt.timedelta(days=92), fiscal_start_month=fiscal
        ),
        "next-quarter": insights.current_quarter(
            TODAY + dt.timedelta(days=92), fiscal_start_month=fiscal
        ),
        "year": insights.parse_period(str(TODAY.year), fiscal_start_month=fiscal),
    }[period]
    checked = 0
    for user, narrow in _viewers():
        deals, chances, method = _scratch(user, **narrow)
        orders = [
            MethodOrder(o.amount, o.on)
            for o in insights.narrowed(
                insights.visible(user, OffFunnelOrder.objects.all()), **narrow
            )
        ]
        expected = funnel.forecast(
            deals,
            orders,
            period=span,
            today=TODAY,
            target=insights.target_amount(span, user=user, **narrow),
            probabilities=chances,
            process_settings=method.process,
            settings=method.funnel,
        )
        got = insights.forecast(user, period=span, today=TODAY, **narrow)
        assert [p.amount for p in got.parts] == [p.amount for p in expected.parts], (user, narrow)
        assert (got.total.amount, got.target, got.progress) == (
            expected.total.amount,
            expected.target,
            expected.progress,
        )
        checked += got.total.amount > 0
    assert checked or period == "next-quarter"


def test_the_per_rep_table_equals_each_reps_own_forecast(demo):
    manager = Membership.objects.filter(role=Membership.Role.MANAGER).first()
    span = insights.current_quarter(TODAY)
    reps = [m.user for m in Membership.objects.filter(team=manager.team)]
    table = insights.forecasts_by_owner(manager.user, reps, period=span, today=TODAY)
    for rep in reps:
        alone = insights.forecast(manager.user, period=span, today=TODAY, owner=rep)
        assert table[rep.pk] == alone


def test_a_teammate_never_gets_the_owners_insider_findings(demo):
    opp = (
        Opportunity.objects.filter(outcome=Outcome.OPEN, buying_center__insider=True)
        .distinct()
        .first()
    )
    stored = DealFigures.objects.get(pk=opp.pk)
    assert all(not f["insider"] for f in stored.discreet_findings)
    teammate = (
        Membership.objects.filter(team=opp.team, role=Membership.Role.REP)
        .exclude(user=opp.owner)
        .first()
        .user
    )
    theirs = insights.coach_deal(teammate, opp, today=TODAY)
    # The insider is a person of the buying center: other rules may name them for
    # their role, never as the insider.
    assert {r.rule_id for r in theirs}.isdisjoint({"BC-INSIDER-DOUBTFUL", "BC-INSIDER-NO-FACTS"})
    assert "BC-NO-INSIDER" not in {r.rule_id for r in theirs}  # nor deny one exists


def test_activities_feed_the_deal_findings(demo):
    """The coach reads activities: logging one recomputes the deal's figures."""
    opp = Opportunity.objects.filter(outcome=Outcome.OPEN).first()
    admin = get_user_model().objects.get(username="zhaomin")
    before = Activity.objects.count()
    actions.log_activity(
        account=opp.account,
        opportunity=opp,
        kind="visit",
        on=TODAY,
        owner=opp.owner,
        acting_user=admin,
        source=Source.PAGE,
    )
    assert Activity.objects.count() == before + 1
    _assert_stored_equals_fresh()
