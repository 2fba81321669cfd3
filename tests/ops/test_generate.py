"""``kam generate``: deterministic synthetic data in the promised shapes."""

import datetime as dt
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Max, Min

from kam.ops import generate as g
from kam.org.models import Membership, Team
from kam.sales.models import (
    Account,
    AccountFigures,
    Activity,
    BuyingCenterEntry,
    DealFigures,
    Familiarity,
    InsiderClaim,
    KeyNodeEvidence,
    Lead,
    OffFunnelOrder,
    Opportunity,
    StageOverride,
    Target,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)
TINY = g.Sizes(
    teams=2,
    users=6,
    accounts=20,
    contacts=80,
    opportunities=150,
    activities=1_500,
    leads=40,
    off_funnel_orders=50,
)


def _wipe():
    Lead.objects.all().delete()
    Account.all_objects.all().delete()  # contacts, deals, activities, orders go with them
    Target.objects.all().delete()
    get_user_model().objects.all().delete()
    Team.objects.all().delete()


def test_the_small_preset_has_the_promised_shapes():
    out = io.StringIO()
    call_command("generate", "--preset", "small", "--today", str(TODAY), "--no-figures", stdout=out)
    small = g.PRESETS["small"]

    users = get_user_model().objects
    assert users.count() == small.users == 10
    assert users.get(username="admin").is_superuser
    assert Membership.objects.filter(role="manager").count() == small.teams
    assert Membership.objects.count() == small.users - 1
    assert Account.objects.count() == small.accounts
    assert Opportunity.objects.count() == small.opportunities
    assert Activity.objects.count() == small.activities
    assert Lead.objects.count() == small.leads
    assert OffFunnelOrder.objects.count() == small.off_funnel_orders
    assert "2,000 opportunity" in out.getvalue()

    found = set(Opportunity.objects.values_list("stage", "outcome").distinct())
    assert {(s, "open") for s in range(1, 6)} <= found
    assert (6, "won") in found
    assert {o for _s, o in found} == {"open", "won", "lost", "abandoned"}
    closed = Opportunity.objects.exclude(outcome="open")
    assert not closed.filter(closed_on__isnull=True).exists()
    assert not Opportunity.objects.filter(outcome="open", closed_on__isnull=False).exists()
    assert not closed.exclude(outcome="won").filter(close_reason="").exists()

    sizes = Counter(
        BuyingCenterEntry.objects.values("opportunity").annotate(n=Count("id")).values_list("n")
    )
    assert min(sizes)[0] >= 2 and max(sizes)[0] == 12
    people = sum(n * count for (n,), count in sizes.items())
    assert 2.3 < people / small.opportunities < 2.7
    assert BuyingCenterEntry.objects.filter(insider=True).count() > 300
    assert InsiderClaim.objects.exists() and Familiarity.objects.exists()

    amounts = Opportunity.objects.values_list("amount", flat=True)
    under = sum(a < Decimal(50_000) for a in amounts)
    assert 0.1 < under / len(amounts) < 0.3
    assert max(amounts) > Decimal(10_000_000)
    assert OffFunnelOrder.objects.aggregate(m=Max("amount"))["m"] < Decimal(50_000)

    span = Activity.objects.aggregate(first=Min("on"), last=Max("on"))
    assert (span["last"] - span["first"]).days > 2 * 365
    assert span["last"] <= TODAY
    assert Activity.contacts.through.objects.count() >= small.activities
    assert Activity.objects.exclude(next_pretext="").filter(next_on__isnull=False).exists()
    assert Target.objects.filter(user__isnull=False).count() == 4 * (small.users - 1 - 2)
    assert Target.objects.filter(team__isnull=False).count() == 4 * small.teams

    # Evidence follows the stage: a won deal evidenced the contract; nothing in stage 1
    # has evidence of a later stage's node; a gate passed without a node was overridden.
    won = Opportunity.objects.filter(outcome="won")
    assert KeyNodeEvidence.objects.filter(opportunity__in=won, node="contract_signed").count() == (
        won.count()
    )
    assert not KeyNodeEvidence.objects.filter(opportunity__stage=1, node="bid_submitted").exists()
    skipped = {
        o.opportunity_id for o in StageOverride.objects.all() if "insider_found" in o.missing
    }
    assert skipped
    assert not KeyNodeEvidence.objects.filter(
        opportunity__in=skipped, node="insider_found"
    ).exists()

    # The outcome follows the features: a learned model has something true to find.
    closed_ids = set(closed.values_list("id", flat=True))
    with_insider = set(
        BuyingCenterEntry.objects.filter(insider=True, opportunity__in=closed).values_list(
            "opportunity", flat=True
        )
    )
    won_ids = set(won.values_list("id", flat=True))

    def rate(ids):
        return len(ids & won_ids) / len(ids)

    assert rate(with_insider) > rate(closed_ids - with_insider)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    g.generate(sizes=TINY, seed=7, today=TODAY)
    first = g.fingerprint()
    _wipe()
    g.generate(sizes=TINY, seed=7, today=TODAY)
    assert g.fingerprint() == first
    _wipe()
    g.generate(sizes=TINY, seed=8, today=TODAY)
    assert g.fingerprint() != first


def test_a_database_with_opportunities_is_refused_with_exit_1():
    g.generate(sizes=TINY, today=TODAY)

    with pytest.raises(CommandError, match="already holds opportunities") as refused:
        call_command("generate", "--preset", "small", stdout=io.StringIO())

    assert refused.value.returncode == 1
    assert Opportunity.objects.count() == TINY.opportunities


def test_taken_usernames_are_refused(admin):
    with pytest.raises(g.Refused, match="admin"):
        g.generate(sizes=TINY, today=TODAY)
    assert not Account.objects.exists()


def test_users_get_the_password_given_or_none_usable():
    g.generate(sizes=TINY, today=TODAY, password="bench-secret-1")
    assert get_user_model().objects.get(username="rep001").check_password("bench-secret-1")
    _wipe()
    g.generate(sizes=TINY, today=TODAY)
    assert not get_user_model().objects.get(username="mgr01").has_usable_password()


def test_every_deal_and_account_gets_its_stored_figures_for_today():
    g.generate(sizes=TINY, today=TODAY)

    assert DealFigures.objects.filter(computed_for=TODAY).count() == TINY.opportunities
    assert AccountFigures.objects.filter(computed_for=TODAY).count() == TINY.accounts
    won = DealFigures.objects.filter(opportunity__outcome="won")
    assert won.exists() and not won.filter(won_on__isnull=True).exists()


def test_planned_dates_are_kept_and_the_auto_stamps_come_back():
    g.generate(sizes=TINY, today=TODAY, figures=False)

    assert not DealFigures.objects.exists()

    oldest = Opportunity.objects.aggregate(m=Min("created_at"))["m"]
    assert oldest.date() < TODAY - dt.timedelta(days=365)
    assert Activity._meta.get_field("created_at").auto_now_add
    assert Opportunity._meta.get_field("updated_at").auto_now


def test_the_true_win_probability_rises_with_the_stage_and_the_score():
    assert g.win_probability(0.0, 1) == pytest.approx(0.1, abs=0.005)
    assert g.win_probability(0.0, 5) == pytest.approx(0.8)
    assert g.win_probability(1.0, 3) > g.win_probability(0.0, 3) > g.win_probability(0.0, 2)
    good = g.win_score(dm_mapped=True, dm_covered=True, tech=1, insider=True, grade="A", visits=8)
    bad = g.win_score(
        dm_mapped=False, dm_covered=False, tech=-1, insider=False, grade="D", visits=0
    )
    assert good > 0 > bad
