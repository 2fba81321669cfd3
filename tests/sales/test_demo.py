"""The demo data set (`kam demo`): its size, its agreement with the method, and the
command's guards.

The demo is loaded once for the whole module, through the command, inside a
transaction rolled back when the module is done: each test reads it (and may
change it inside its own, nested, transaction).
"""

import datetime as dt
import io
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F

from kam.history.models import Change
from kam.method import buying_center, probability, process, screening
from kam.method.relationship import TRUST_ACTIONS_BY_ID
from kam.method.types import Outcome, Stage
from kam.method.whole_brain import PHRASES_BY_ID
from kam.org.models import CompanySettings, Membership, Team
from kam.sales.demo import DEMO_PASSWORD, USERS, build_demo, fingerprint
from kam.sales.models import (
    OPPORTUNITY_PREFETCH,
    Account,
    Activity,
    ActivityKind,
    BuyingCenterEntry,
    Contact,
    Familiarity,
    InsiderClaim,
    KeyNodeEvidence,
    Lead,
    OffFunnelOrder,
    Opportunity,
    StageOverride,
    Target,
    TrustActionDone,
    contact_to_person,
    opportunity_to_deal,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """What ``kam demo --if-empty`` printed when it loaded the demo for TODAY."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command(
            "demo", "--if-empty", "--i-know-this-is-a-demo", f"--today={TODAY}", stdout=out
        )
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def method_settings(loaded):
    return CompanySettings.load().to_method()


def deals():
    """Every opportunity with the method's view of it."""
    opportunities = Opportunity.objects.select_related("account", "owner").prefetch_related(
        *OPPORTUNITY_PREFETCH
    )
    return [(o, opportunity_to_deal(o)) for o in opportunities]


def test_the_demo_has_three_teams_eight_users_forty_accounts_and_two_hundred_contacts(loaded):
    assert Team.objects.count() == 3
    assert get_user_model().objects.count() == 8
    assert Account.objects.count() == 40
    assert Contact.objects.count() == 200
    assert Opportunity.objects.count() == 120
    assert Activity.objects.count() == 1500
    assert 140 <= OffFunnelOrder.objects.count() <= 160
    assert 55 <= Lead.objects.count() <= 65


def test_the_users_are_an_admin_two_managers_one_of_two_teams_and_five_reps(loaded):
    users = get_user_model().objects.all()
    assert [u.username for u in users if u.is_superuser] == ["zhaomin"]
    managed = Counter(
        Membership.objects.filter(role=Membership.Role.MANAGER).values_list(
            "user__username", flat=True
        )
    )
    assert managed == {"zhangqiang": 2, "chenjing": 1}
    reps = set(
        Membership.objects.filter(role=Membership.Role.REP).values_list("user__username", flat=True)
    )
    assert len(reps) == 5
    assert all(Account.objects.filter(team__memberships__user__username=r).exists() for r in reps)


def test_the_command_prints_every_login_and_each_signs_in_with_the_demo_password(loaded):
    assert f"every password is {DEMO_PASSWORD}" in loaded
    assert all(user.username in loaded for user in USERS)
    assert authenticate(username="wangwei", password=DEMO_PASSWORD) is not None
    # One hash for all (checking each would take half a second apiece).
    assert len(set(get_user_model().objects.values_list("password", flat=True))) == 1


def test_opportunities_cover_every_stage_and_every_outcome(loaded):
    opportunities = list(Opportunity.objects.all())
    assert {o.stage for o in opportunities} == set(range(1, 7))
    assert {o.outcome for o in opportunities} == {o.value for o in Outcome}
    assert {o.stage for o in opportunities if o.outcome == Outcome.OPEN} == set(range(1, 6))
    assert all(Decimal(50_000) <= o.amount <= Decimal(8_000_000) for o in opportunities)
    assert all(o.currency == "CNY" for o in opportunities)


def test_won_deals_are_in_stage_six_and_lost_or_abandoned_ones_say_why(loaded):
    for o in Opportunity.objects.all():
        if o.outcome == Outcome.WON:
            assert o.stage == Stage.IMPLEMENTATION and o.closed_on is not None
        elif o.outcome in (Outcome.LOST, Outcome.ABANDONED):
            assert o.close_reason and o.closed_on is not None and o.stage < 6
        else:
            assert o.closed_on is None and o.stage < 6


def test_deals_stand_where_their_evidence_says_unless_forced_past_a_node_with_a_reason(
    loaded, method_settings
):
    forced = 0
    for opportunity, deal in deals():
        drift = process.stage_drift(deal, settings=method_settings.process)
        if deal.overrides:
            forced += 1
            assert drift is not None and drift.overridden, opportunity.name
            assert all(o.reason.strip() for o in deal.overrides)
        else:
            assert drift is None, f"{opportunity.name}: {drift and drift.message.en}"
    assert forced >= 10
    assert StageOverride.objects.filter(opportunity__outcome=Outcome.OPEN).count() >= 8


def test_open_deals_carry_the_grade_screening_gives_them_today(loaded, method_settings):
    graded = 0
    for opportunity, deal in deals():
        if deal.outcome is not Outcome.OPEN or not opportunity.grade:
            continue
        chance = probability.probability(
            deal,
            process_settings=method_settings.process,
            buying_center_settings=method_settings.buying_center,
            settings=method_settings.probability,
        ).value
        expected = screening.grade(
            deal.expected_close,
            today=TODAY,
            win_likelihood=chance,
            settings=method_settings.screening,
        )
        assert opportunity.grade == expected.value, opportunity.name
        graded += 1
    assert graded >= 40
    grades = set(Opportunity.objects.filter(outcome=Outcome.OPEN).values_list("grade", flat=True))
    assert {"A", "B", "C"} <= grades


def test_a_deal_is_graded_once_its_grade_node_is_evidenced(loaded):
    evidenced = set(
        KeyNodeEvidence.objects.filter(node="grade_given").values_list("opportunity", flat=True)
    )
    for o in Opportunity.objects.all():
        assert bool(o.grade) == (o.pk in evidenced), o.name


def test_no_account_org_chart_has_a_reporting_cycle(loaded):
    accounts = Account.objects.prefetch_related("contacts__familiarities__user")
    for account in accounts:
        people = [contact_to_person(c) for c in account.contacts.all()]
        buying_center.check_reports_to(people)  # raises on a cycle or an outside manager
        assert sum(p.reports_to is None for p in people) == 1, account.name


def test_buying_center_people_work_at_the_deals_account(loaded):
    entries = BuyingCenterEntry.objects.all()
    assert entries.count() >= 300
    assert not entries.exclude(contact__account=F("opportunity__account")).exists()
    claims = InsiderClaim.objects.all()
    assert claims.exists()
    for claim in claims.select_related("opportunity"):
        assert entries.filter(
            opportunity=claim.opportunity, contact=claim.contact, insider=True
        ).exists()


def test_deals_past_the_insider_node_have_an_insider_and_some_deals_have_none(loaded):
    with_node = set(
        KeyNodeEvidence.objects.filter(node="insider_found").values_list("opportunity", flat=True)
    )
    with_insider = set(
        BuyingCenterEntry.objects.filter(insider=True).values_list("opportunity", flat=True)
    )
    assert with_node == with_insider
    assert Opportunity.objects.filter(stage__gte=3).exclude(pk__in=with_insider).exists()


def test_some_technical_people_oppose_us(loaded):
    technical = BuyingCenterEntry.objects.filter(technical=True)
    assert technical.filter(attitude="opponent").count() >= 3
    assert (
        technical.filter(attitude="supporter").count()
        > technical.filter(attitude="opponent").count()
    )


def test_most_state_owned_customers_decide_collectively_with_their_leadership_mapped(loaded):
    soes = Account.objects.filter(ownership__in=["central_soe", "local_soe"])
    collective = soes.filter(collective_decision=True)
    assert collective.count() >= 0.8 * soes.count()
    for account in collective:
        assert account.contacts.filter(leadership_member=True).exists(), account.name
    assert not Contact.objects.filter(
        leadership_member=True, account__collective_decision=False
    ).exists()


def test_customers_have_files_relationships_and_trust_actions(loaded):
    accounts = list(Account.objects.all())
    assert sum(len(a.filled_file_fields()) == 5 for a in accounts) >= 20
    assert len({a.relationship_type for a in accounts}) == 4
    assert len({a.lifecycle for a in accounts}) == 3
    done = TrustActionDone.objects.all()
    assert done.values("account").distinct().count() >= 25
    assert set(done.values_list("action", flat=True)) <= set(TRUST_ACTIONS_BY_ID)
    assert Familiarity.objects.values("user").distinct().count() >= 5


def test_contacts_carry_titles_and_whole_brain_phrases_from_the_catalogue(loaded):
    contacts = list(Contact.objects.all())
    titles = {c.title for c in contacts}
    assert {"总经理", "总工程师", "办公室文员"} <= titles
    heard = [c for c in contacts if c.brain_phrases]
    assert len(heard) >= 100
    assert all(p in PHRASES_BY_ID for c in heard for p in c.brain_phrases)


def test_every_activity_lies_within_the_last_twelve_months(loaded):
    activities = list(Activity.objects.all())
    year_ago = TODAY - dt.timedelta(days=365)
    assert all(year_ago < a.on <= TODAY for a in activities)
    assert {a.kind for a in activities} == set(ActivityKind.values)
    visits = [a for a in activities if a.kind == "visit"]
    assert any(a.next_pretext and a.next_on for a in visits)
    assert any(not a.next_pretext for a in visits)
    assert all(a.next_on >= a.on for a in activities if a.next_on)
    assert any(a.cost > 0 for a in activities if a.kind in ("entertainment", "gift"))


def test_targets_cover_each_quarter_of_the_current_year_per_rep_and_per_team(loaded):
    targets = list(Target.objects.select_related("user", "team"))
    reps = [u.username for u in USERS if u.role == "rep"]
    for owner in [*reps, *Team.objects.values_list("name", flat=True)]:
        periods = sorted(
            (t.start, t.end)
            for t in targets
            if (t.user and t.user.username == owner) or (t.team and t.team.name == owner)
        )
        assert periods == [
            (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
            (dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
            (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
            (dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ], owner
    assert len(targets) == 4 * (len(reps) + 3)


def test_off_funnel_orders_stay_below_the_threshold_and_deals_above_it(loaded, method_settings):
    threshold = method_settings.funnel.off_funnel_threshold
    orders = list(OffFunnelOrder.objects.all())
    assert all(o.amount < threshold for o in orders)
    assert all(TODAY - dt.timedelta(days=365) < o.on <= TODAY for o in orders)
    assert all(o.amount >= threshold for o in Opportunity.objects.all())


def test_leads_carry_the_score_grade_and_decision_screening_computes(loaded, method_settings):
    s = method_settings.screening
    leads = list(Lead.objects.all())
    screened = [ld for ld in leads if ld.scores]
    assert len(screened) >= 45
    for lead in screened:
        card = screening.score_risk(lead.scores, settings=s)
        grade = screening.grade(
            lead.expected_close,
            today=lead.created_at.date(),
            win_likelihood=lead.win_likelihood,
            settings=s,
        )
        decision = screening.decide(card, grade, amount=lead.amount, settings=s)
        assert (lead.score, lead.grade, lead.decision) == (
            pytest.approx(card.score),
            grade.value,
            decision.decision.value,
        ), lead.name
        assert lead.screening_reasons == [{"zh": r.zh, "en": r.en} for r in decision.reasons]
    assert {ld.decision for ld in screened} == {"pursue", "nurture", "drop"}
    converted = [ld for ld in leads if ld.opportunity_id]
    assert len(converted) >= 15
    assert all(ld.decision == "pursue" for ld in converted)
    assert len({ld.source for ld in leads}) >= 5


def test_every_record_passes_model_validation(loaded):
    checked = [
        *Account.objects.all(),
        *Contact.objects.select_related("reports_to"),
        *Opportunity.objects.all(),
        *BuyingCenterEntry.objects.select_related("contact", "opportunity"),
        *Activity.objects.select_related("opportunity"),
        *Lead.objects.all(),
        *TrustActionDone.objects.all(),
        *OffFunnelOrder.objects.all(),
        *Target.objects.all(),
    ]
    for record in checked:
        # The database enforces foreign keys and uniqueness; checking them here would
        # cost thousands of queries.
        relations = [f.name for f in record._meta.fields if f.is_relation]
        record.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)


def test_each_top_level_record_has_one_demo_history_row(loaded):
    changes = Change.objects.filter(source=Change.Source.DEMO)
    counts = Counter(changes.values_list("content_type__model", flat=True))
    assert counts["opportunity"] == 120
    assert counts["activity"] == 1500
    assert counts["account"] == 40
    assert counts["user"] == 8
    assert not any("password" in c.changes for c in changes.filter(content_type__model="user"))


def test_the_database_holds_exactly_what_a_fresh_plan_for_the_same_day_holds(
    loaded, method_settings
):
    stored = fingerprint(
        accounts=Account.objects.select_related("owner", "team"),
        contacts=Contact.objects.select_related("account", "reports_to"),
        opportunities=Opportunity.objects.select_related("account"),
        leads=Lead.objects.all(),
        activities=Activity.objects.select_related("account", "owner"),
        off_funnel_orders=OffFunnelOrder.objects.select_related("account"),
        targets=Target.objects.select_related("user", "team"),
    )
    assert stored == build_demo(today=TODAY, settings=method_settings).fingerprint()


def test_the_plan_is_the_same_in_another_process_and_follows_today(loaded):
    here = build_demo(today=TODAY).fingerprint()
    script = (
        "import django, datetime; django.setup(); from kam.sales.demo import build_demo; "
        f"print(build_demo(today=datetime.date.fromisoformat('{TODAY}')).fingerprint())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4321", "DJANGO_SETTINGS_MODULE": "kam.config.settings"}
    there = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert there == here
    assert build_demo(today=TODAY + dt.timedelta(days=1)).fingerprint() != here


def test_kam_demo_if_empty_leaves_a_database_with_accounts_alone(loaded):
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "not loaded" in out.getvalue()
    assert Account.objects.count() == 40
    assert get_user_model().objects.count() == 8


def test_kam_demo_refuses_a_database_that_already_holds_accounts(loaded):
    with pytest.raises(CommandError, match="already holds accounts"):
        call_command("demo", "--i-know-this-is-a-demo")
    assert Opportunity.objects.count() == 120


@pytest.fixture
def no_accounts(loaded):
    """The demo's accounts deleted (inside this test's transaction); its users remain."""
    Lead.objects.all().delete()
    Account.all_objects.all().delete()


def test_kam_demo_refuses_demo_passwords_outside_demo_mode(no_accounts, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="KAM_DEBUG=1"):
        call_command("demo")
    assert not Account.all_objects.exists()


def test_kam_demo_refuses_to_overwrite_users_of_the_demos_names(no_accounts):
    with pytest.raises(CommandError, match="wangwei"):
        call_command("demo", "--i-know-this-is-a-demo")
    assert not Account.all_objects.exists()


def test_kam_demo_explains_a_today_that_is_not_a_date():
    with pytest.raises(CommandError, match="2026-13-01 is not a date"):
        call_command("demo", "--today=2026-13-01", "--i-know-this-is-a-demo")
