import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.method.buying_center import DuplicatePerson
from kam.method.coach import (
    CUSTOMER_FILE,
    RULES,
    RULES_BY_ID,
    SEGMENT_FIELDS,
    AccountContext,
    CoachSettings,
    DealContext,
    FileField,
    InvalidCoachSettings,
    Recommendation,
    coach_account,
    coach_deal,
)
from kam.method.insider import InsiderClaim
from kam.method.process import DEFAULT_STAGES
from kam.method.relationship import RelationshipSettings, UnknownTrustAction
from kam.method.settings import MethodSettings
from kam.method.types import (
    Activity,
    ActivityKind,
    Attitude,
    BrainScores,
    Deal,
    Evidence,
    Grade,
    Influence,
    InsiderFact,
    LeadSource,
    MethodError,
    Outcome,
    Override,
    Person,
    Quadrant,
    RelationshipLevel,
    Role,
    Severity,
    Stage,
    Strength,
)

TODAY = dt.date(2025, 6, 2)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def evidence_through(stage: int) -> tuple[Evidence, ...]:
    """Evidence of every key node of stages 1..stage."""
    return tuple(
        Evidence(node.id, "liu", ago(30)) for d in DEFAULT_STAGES[:stage] for node in d.key_nodes
    )


def visit(on, *contacts, pretext="bring the test report", cost="0", **fields) -> Activity:
    return Activity(
        id=f"v-{on.isoformat()}-{'-'.join(contacts)}",
        kind=fields.pop("kind", ActivityKind.VISIT),
        on=on,
        contact_ids=frozenset(contacts),
        cost=Decimal(cost),
        next_pretext=pretext,
        **fields,
    )


# --- the healthy worked example: a deal and an account on which no rule fires -------------

GM = Person(
    "gm",
    "Wang",
    title="General Manager",
    roles=frozenset({Role.DECISION_MAKER}),
    influence=Influence.HIGH,
    attitude=Attitude.SUPPORTER,
    strength=Strength.GOOD,
    brain=BrainScores(a=90, b=40, c=30, d=20, confidence=0.8),
    our_people=(("liu", Strength.GOOD),),
)
ENG = Person(
    "eng",
    "Li",
    title="Chief Engineer",
    roles=frozenset({Role.TECHNICAL}),
    influence=Influence.HIGH,
    attitude=Attitude.SUPPORTER,
    strength=Strength.GOOD,
    brain=BrainScores(a=50, b=90, confidence=0.7),
    our_people=(("ma", Strength.GOOD),),
)
BUYER = Person(
    "buyer",
    "Zhao",
    title="Purchasing Manager",
    roles=frozenset({Role.PURCHASER}),
    strength=Strength.ACQUAINTED,
)
USER = Person(
    "user",
    "Sun",
    title="Workshop Director",
    roles=frozenset({Role.USER}),
    strength=Strength.ACQUAINTED,
)
MOLE = Person(
    "mole",
    "Chen",
    title="Secretary",
    influence=Influence.LOW,
    attitude=Attitude.SUPPORTER,
    strength=Strength.STRONG,
    insider=True,
)
EVERYONE = ("gm", "eng", "buyer", "user", "mole")

# Stage 3 with its own nodes evidenced, so nothing is missing for the tender. Graded B:
# closes within 6 months (1 Aug) at 40%, the proposal stage's probability (A needs 60%).
DEAL = Deal(
    id="d1",
    name="Boiler retrofit",
    amount=Decimal("800000"),
    stage=Stage.PROPOSAL,
    expected_close=ago(-60),
    stage_entered_on=ago(20),
    created_on=ago(100),
    grade=Grade.B,
    owner="liu",
    evidence=evidence_through(3),
    people=(GM, ENG, BUYER, USER, MOLE),
    proposal_emphasis=Quadrant.A,
    source=LeadSource.REFERRAL,
)
CLAIMS = (
    InsiderClaim(InsiderFact.BUDGET, ago(40), True),
    InsiderClaim(InsiderFact.SCHEDULE, ago(40), True),
)
HEALTHY_DEAL = DealContext(
    deal=DEAL,
    today=TODAY,
    activities=(visit(ago(10), *EVERYONE),),
    insider_claims=CLAIMS,
)

# Two orders and level 2: the transaction stage. Cost 2,000 on 2,000,000 revenue is 0.1%.
HEALTHY_ACCOUNT = AccountContext(
    account_id="acc",
    name="Huaxin Steel",
    today=TODAY,
    grade=Grade.A,
    relationship_level=RelationshipLevel.SERVICE,
    trust_actions_done=frozenset({"certification", "referral"}),
    people=(GM, ENG, BUYER),
    activities=(visit(ago(10), "gm", "eng", cost="2000", next_on=ago(-5)),),
    won_revenue=Decimal("2000000"),
    won_orders=2,
    open_deals=(DEAL,),
    customer_since=dt.date(2023, 3, 1),
    customer_file=frozenset(f.id for f in CUSTOMER_FILE + SEGMENT_FIELDS),
)


def with_deal(ctx: DealContext = HEALTHY_DEAL, **fields) -> DealContext:
    return replace(ctx, deal=replace(ctx.deal, **fields))


def with_person(ctx: DealContext, person_id: str, **fields) -> DealContext:
    people = tuple(replace(p, **fields) if p.id == person_id else p for p in ctx.deal.people)
    return with_deal(ctx, people=people)


def with_account_person(ctx: AccountContext, person_id: str, **fields) -> AccountContext:
    people = tuple(replace(p, **fields) if p.id == person_id else p for p in ctx.people)
    return replace(ctx, people=people)


def run(ctx, settings=None):
    settings = settings or CoachSettings()
    if isinstance(ctx, DealContext):
        return coach_deal(ctx, settings=settings)
    return coach_account(ctx, settings=settings)


def of(rule_id: str, ctx, settings=None) -> list[Recommendation]:
    return [r for r in run(ctx, settings) if r.rule_id == rule_id]


def one(rule_id: str, ctx, settings=None) -> Recommendation:
    found = of(rule_id, ctx, settings)
    assert len(found) == 1, found
    return found[0]


def test_the_healthy_deal_and_account_get_no_recommendation():
    assert coach_deal(HEALTHY_DEAL) == ()
    assert coach_account(HEALTHY_ACCOUNT) == ()


# --- the worked example of every rule: (firing context, the same with the condition fixed) --

DM_OUTSIDER = with_deal(stage=Stage.TENDER, evidence=evidence_through(4))
LEADERSHIP = with_deal(
    collective_decision=True,
    people=(
        replace(GM, leadership_member=True),
        Person("vice", "Zhou", roles=frozenset(), leadership_member=True),
        ENG,
        BUYER,
        USER,
        MOLE,
    ),
)
FORCED = with_deal(
    stage=Stage.TENDER,
    evidence=evidence_through(2),
    overrides=(
        Override(
            Stage.PROPOSAL,
            Stage.TENDER,
            ("criteria_reflect_strengths", "proposal_accepted_by_technical"),
            "tender announced early",
            "liu",
            ago(5),
        ),
    ),
)
GRADE_D = replace(
    with_deal(grade=Grade.D),
    activities=tuple(visit(ago(d), "buyer", cost="500") for d in (1, 5, 12, 29)),
)
INCUBATION = replace(
    HEALTHY_ACCOUNT,
    won_orders=0,
    won_revenue=Decimal(0),
    activities=(visit(ago(10), "gm", "eng", next_on=ago(-5)),),
    open_deals=(with_deal(stage=Stage.TENDER, evidence=evidence_through(4)).deal,),
)
ONE_PERSON = with_account_person(
    with_account_person(HEALTHY_ACCOUNT, "eng", strength=Strength.ACQUAINTED, our_people=()),
    "gm",
    strength=Strength.GOOD,
)
SUPPLIER = with_account_person(
    with_account_person(
        with_account_person(HEALTHY_ACCOUNT, "eng", strength=Strength.ACQUAINTED),
        "gm",
        strength=Strength.ACQUAINTED,
    ),
    "buyer",
    strength=Strength.GOOD,
)
NO_PRETEXT = replace(
    HEALTHY_ACCOUNT,
    activities=(*HEALTHY_ACCOUNT.activities, visit(ago(3), "buyer", pretext="")),
)
MISSING_FILE = replace(
    HEALTHY_ACCOUNT, customer_file=HEALTHY_ACCOUNT.customer_file - {"latent_needs"}
)

WORKED: dict[str, tuple[object, object]] = {
    # §1
    "SCR-NO-GRADE": (with_deal(grade=None), with_deal(grade=Grade.B)),
    "SCR-GRADE-STALE": (with_deal(grade=Grade.A), with_deal(grade=Grade.B)),
    "SCR-GRADE-D-EFFORT": (GRADE_D, replace(GRADE_D, activities=GRADE_D.activities[:3])),
    "SCR-NO-SOURCE": (with_deal(source=None), with_deal(source=LeadSource.TRADE_SHOW)),
    "SCR-ACCOUNT-NO-GRADE": (replace(HEALTHY_ACCOUNT, grade=None), HEALTHY_ACCOUNT),
    # §2
    "BC-TECH-OPPOSED": (
        with_person(HEALTHY_DEAL, "eng", attitude=Attitude.OPPONENT),
        with_person(HEALTHY_DEAL, "eng", attitude=Attitude.NEUTRAL),
    ),
    "BC-NO-DM": (
        with_person(HEALTHY_DEAL, "gm", roles=frozenset()),
        with_person(HEALTHY_DEAL, "buyer", roles=frozenset({Role.DECISION_MAKER})),
    ),
    "BC-DM-OUTSIDER": (
        with_person(DM_OUTSIDER, "gm", strength=Strength.ACQUAINTED),
        with_person(DM_OUTSIDER, "gm", strength=Strength.GOOD),
    ),
    "BC-LEADERSHIP": (
        LEADERSHIP,
        with_person(
            LEADERSHIP, "vice", roles=frozenset({Role.DECISION_MAKER}), strength=Strength.GOOD
        ),
    ),
    "BC-NO-INSIDER": (
        with_person(HEALTHY_DEAL, "mole", insider=False),
        with_person(HEALTHY_DEAL, "buyer", insider=True),
    ),
    "BC-TECH-UNCOVERED": (
        with_person(HEALTHY_DEAL, "eng", strength=Strength.ACQUAINTED),
        with_person(HEALTHY_DEAL, "eng", strength=Strength.STRONG),
    ),
    "BC-OPPONENT-HIGH": (
        with_person(HEALTHY_DEAL, "buyer", influence=Influence.HIGH, attitude=Attitude.OPPONENT),
        with_person(HEALTHY_DEAL, "buyer", influence=Influence.HIGH, attitude=Attitude.NEUTRAL),
    ),
    "BC-INSIDER-DOUBTFUL": (
        replace(
            HEALTHY_DEAL,
            insider_claims=(
                *CLAIMS[:1],
                InsiderClaim(InsiderFact.SCHEDULE, ago(40), False),
                InsiderClaim(InsiderFact.COMPETITORS, ago(30), False),
            ),
        ),
        HEALTHY_DEAL,
    ),
    "BC-INSIDER-NO-FACTS": (
        replace(
            HEALTHY_DEAL,
            insider_claims=(InsiderClaim(InsiderFact.ORGANISATION, ago(40), True),),
        ),
        HEALTHY_DEAL,
    ),
    "BC-TITLE-MISMATCH": (
        with_person(HEALTHY_DEAL, "mole", influence=Influence.HIGH),
        with_person(HEALTHY_DEAL, "mole", influence=Influence.MEDIUM),
    ),
    "BC-ACCOUNT-LEADERSHIP": (
        replace(HEALTHY_ACCOUNT, collective_decision=True),
        with_account_person(
            replace(HEALTHY_ACCOUNT, collective_decision=True), "gm", leadership_member=True
        ),
    ),
    # §3
    "PR-FORCED": (FORCED, with_deal(FORCED, evidence=evidence_through(4))),
    "PR-NEXT-NODES": (
        with_deal(evidence=evidence_through(2)),
        with_deal(evidence=evidence_through(3)),
    ),
    # §4
    "FN-STUCK": (with_deal(stage_entered_on=ago(120)), with_deal(stage_entered_on=ago(90))),
    "FN-OVERDUE": (with_deal(expected_close=ago(5)), with_deal(expected_close=TODAY)),
    "FN-NO-CLOSE-DATE": (
        with_deal(expected_close=None),
        with_deal(expected_close=None, amount=Decimal("40000")),
    ),
    # §5
    "REL-KEY-CADENCE": (
        replace(HEALTHY_DEAL, activities=(visit(ago(31), *EVERYONE),)),
        replace(HEALTHY_DEAL, activities=(visit(ago(30), *EVERYONE),)),
    ),
    "REL-FRONT-CADENCE": (
        replace(HEALTHY_DEAL, activities=(visit(ago(10), "gm", "eng", "mole", "user"),)),
        replace(
            HEALTHY_DEAL,
            activities=(visit(ago(10), "gm", "eng", "mole", "user"), visit(ago(60), "buyer")),
        ),
    ),
    "REL-ONE-PERSON": (
        ONE_PERSON,
        with_account_person(
            ONE_PERSON, "eng", strength=Strength.GOOD, our_people=(("ma", Strength.GOOD),)
        ),
    ),
    "REL-COST": (
        replace(HEALTHY_ACCOUNT, activities=(visit(ago(10), "gm", cost="150000"),)),
        replace(HEALTHY_ACCOUNT, activities=(visit(ago(10), "gm", cost="100000"),)),
    ),
    "REL-NO-ORG-TRUST": (
        replace(HEALTHY_ACCOUNT, trust_actions_done=frozenset({"referral"})),
        replace(HEALTHY_ACCOUNT, trust_actions_done=frozenset({"referral", "factory_visit"})),
    ),
    "REL-PRICE-LEVEL": (
        replace(HEALTHY_ACCOUNT, relationship_level=RelationshipLevel.PRICE),
        replace(HEALTHY_ACCOUNT, relationship_level=RelationshipLevel.SERVICE),
    ),
    "REL-INCUBATION-LATE": (INCUBATION, replace(INCUBATION, won_orders=1)),
    "REL-VISIT-OVERDUE": (
        replace(
            HEALTHY_ACCOUNT,
            activities=(
                visit(ago(10), "gm", "eng"),
                visit(ago(20), "buyer", next_on=ago(6), next_step="price talk"),
            ),
        ),
        replace(
            HEALTHY_ACCOUNT,
            activities=(
                visit(ago(10), "gm", "eng", "buyer"),
                visit(ago(20), "buyer", next_on=ago(6), next_step="price talk"),
            ),
        ),
    ),
    "REL-ACCOUNT-CADENCE": (
        replace(HEALTHY_ACCOUNT, activities=(visit(ago(15), "gm", "eng"),)),
        replace(HEALTHY_ACCOUNT, activities=(visit(ago(14), "gm", "eng"),)),
    ),
    "REL-NO-PRETEXT": (
        NO_PRETEXT,
        replace(
            HEALTHY_ACCOUNT,
            activities=(*HEALTHY_ACCOUNT.activities, visit(ago(3), "buyer", pretext="sample")),
        ),
    ),
    "REL-SUPPLIER-ONLY": (
        SUPPLIER,
        with_account_person(SUPPLIER, "gm", strength=Strength.GOOD),
    ),
    # §6
    "WB-EMPHASIS": (
        with_deal(proposal_emphasis=Quadrant.D),
        with_deal(proposal_emphasis=Quadrant.A),
    ),
    "WB-NO-EMPHASIS": (
        with_deal(proposal_emphasis=None),
        with_deal(proposal_emphasis=Quadrant.A),
    ),
    "WB-LOW-CONFIDENCE": (
        with_person(HEALTHY_DEAL, "gm", brain=BrainScores(a=90, confidence=0.3)),
        with_person(HEALTHY_DEAL, "gm", brain=BrainScores(a=90, confidence=0.5)),
    ),
    # §7
    "SEG-FILE-INCOMPLETE": (MISSING_FILE, HEALTHY_ACCOUNT),
    "SEG-UNSEGMENTED": (
        replace(HEALTHY_ACCOUNT, customer_file=HEALTHY_ACCOUNT.customer_file - {"region"}),
        HEALTHY_ACCOUNT,
    ),
    # §8
    "TIP-CALM-LAKE": (
        with_person(HEALTHY_DEAL, "user", attitude=Attitude.OPPONENT),
        with_person(HEALTHY_DEAL, "user", attitude=Attitude.NEUTRAL),
    ),
    "TIP-NO-EXPLAINING": (
        with_person(HEALTHY_DEAL, "eng", attitude=Attitude.OPPONENT),
        with_person(HEALTHY_DEAL, "eng", attitude=Attitude.NEUTRAL),
    ),
    "TIP-NOT-HEARD": (
        with_deal(proposal_emphasis=Quadrant.D),
        with_deal(proposal_emphasis=Quadrant.A),
    ),
    "TIP-SIMPLE-MOVES": (NO_PRETEXT, HEALTHY_ACCOUNT),
    "TIP-BUCKET": (MISSING_FILE, HEALTHY_ACCOUNT),
}


def test_every_rule_has_a_worked_example():
    assert sorted(WORKED) == sorted(RULES_BY_ID)


@pytest.mark.parametrize("rule_id", sorted(WORKED))
def test_the_rule_fires_on_its_worked_example(rule_id):
    assert of(rule_id, WORKED[rule_id][0])


@pytest.mark.parametrize("rule_id", sorted(WORKED))
def test_the_rule_is_silent_once_the_condition_is_fixed(rule_id):
    assert of(rule_id, WORKED[rule_id][1]) == []


@pytest.mark.parametrize("rule_id", sorted(WORKED))
def test_every_recommendation_speaks_both_languages(rule_id):
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for rec in run(WORKED[rule_id][0]):
        assert rec.message.zh.strip() and cjk.search(rec.message.zh), rec
        # The English message is English: the test data has no Chinese names or titles.
        assert rec.message.en.strip() and not cjk.search(rec.message.en), rec
        for line in rec.evidence:
            assert line.zh.strip() and line.en.strip() and not cjk.search(line.en), line
        assert rec.section == RULES_BY_ID[rec.rule_id].section


# --- the registry -------------------------------------------------------------------------

PREFIX = {"§1": "SCR", "§2": "BC", "§3": "PR", "§4": "FN", "§5": "REL", "§6": "WB"}
PREFIX |= {"§7": "SEG", "§8": "TIP"}


def test_rule_ids_are_unique_and_name_their_section():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)) >= 25
    for rule in RULES:
        assert re.fullmatch(r"[A-Z]+(-[A-Z]+)+", rule.id), rule.id
        assert rule.id.split("-")[0] == PREFIX[rule.section], rule.id


def test_every_section_of_the_method_from_1_to_8_has_a_rule():
    assert {r.section for r in RULES} == {f"§{n}" for n in range(1, 9)}


def test_every_rule_has_a_scope_and_a_title_in_both_languages():
    for rule in RULES:
        assert rule.scope in ("deal", "account")
        assert rule.title.zh and rule.title.en


def test_a_tip_is_attached_only_to_rules_of_its_own_scope():
    for rule in RULES:
        for other in rule.attached_to:
            assert RULES_BY_ID[other].scope == rule.scope
            assert not RULES_BY_ID[other].attached_to


# --- §1 -----------------------------------------------------------------------------------


def test_an_ungraded_deal_is_told_the_grade_screening_gives_it():
    rec = one("SCR-NO-GRADE", WORKED["SCR-NO-GRADE"][0])
    assert rec.severity is Severity.WARNING and rec.subject_id == "d1"
    assert rec.section == "§1"
    assert rec.evidence[0].en == (
        "Expected to close on 2025-08-01 at a 40% win probability: screening puts it in grade B."
    )


def test_an_ungraded_deal_without_a_close_date_gets_no_suggested_grade():
    rec = one("SCR-NO-GRADE", with_deal(grade=None, expected_close=None))
    assert rec.evidence == ()


def test_a_grade_the_screening_no_longer_gives_is_flagged_for_review():
    rec = one("SCR-GRADE-STALE", WORKED["SCR-GRADE-STALE"][0])
    assert rec.severity is Severity.INFO
    assert "graded A" in rec.message.en and "now say B" in rec.message.en
    assert of("SCR-GRADE-STALE", with_deal(grade=Grade.A, expected_close=None)) == []


def test_a_grade_d_deal_with_more_than_three_activities_in_30_days_absorbs_effort():
    rec = one("SCR-GRADE-D-EFFORT", GRADE_D)
    # four visits at 500 each in the last 30 days: 1, 5, 12 and 29 days ago
    assert "4 activities in the last 30 days (limit 3), costing 2,000" in rec.message.en
    assert "近30天却投入了4次活动" in rec.message.zh
    assert [e.en for e in rec.evidence] == [
        "2025-05-04 visit",
        "2025-05-21 visit",
        "2025-05-28 visit",
        "2025-06-01 visit",
    ]


def test_an_activity_30_days_ago_falls_outside_the_effort_window():
    old = replace(GRADE_D, activities=(*GRADE_D.activities[:3], visit(ago(30), "buyer")))
    assert of("SCR-GRADE-D-EFFORT", old) == []


def test_a_grade_a_deal_may_take_any_effort():
    assert (
        of("SCR-GRADE-D-EFFORT", replace(GRADE_D, deal=replace(GRADE_D.deal, grade=Grade.A))) == []
    )


def test_a_deal_without_lead_source_is_an_info():
    assert one("SCR-NO-SOURCE", with_deal(source=None)).severity is Severity.INFO


def test_an_ungraded_account_is_told_to_grade_it():
    rec = one("SCR-ACCOUNT-NO-GRADE", WORKED["SCR-ACCOUNT-NO-GRADE"][0])
    assert rec.subject_id == "acc" and "Huaxin Steel" in rec.message.en


# --- §2 -----------------------------------------------------------------------------------


def test_an_opposed_technical_person_is_a_critical_veto_risk():
    rec = one("BC-TECH-OPPOSED", WORKED["BC-TECH-OPPOSED"][0])
    assert rec.severity is Severity.CRITICAL and rec.subject_id == "eng"
    assert rec.message.en.startswith("Technical person Li (Chief Engineer) opposes us")
    assert "能说“不”" in rec.message.zh
    assert rec.evidence[0].en == 'Li: opponent, high influence, relationship "good"'


def test_an_opposed_technical_person_is_not_also_reported_as_uncovered_or_high_opponent():
    ctx = with_person(HEALTHY_DEAL, "eng", attitude=Attitude.OPPONENT, strength=Strength.NONE)
    ids = {r.rule_id for r in run(ctx)}
    assert "BC-TECH-OPPOSED" in ids
    assert not ids & {"BC-TECH-UNCOVERED", "BC-OPPONENT-HIGH"}


def test_no_decision_maker_after_stage_two_is_critical():
    rec = one("BC-NO-DM", WORKED["BC-NO-DM"][0])
    assert rec.severity is Severity.CRITICAL
    assert "is in Proposal (stage 3) and nobody is mapped as decision maker" in rec.message.en


def test_no_decision_maker_in_stage_two_is_not_yet_flagged():
    ctx = with_person(
        with_deal(stage=Stage.ENTRY, evidence=evidence_through(2)), "gm", roles=frozenset()
    )
    assert of("BC-NO-DM", ctx) == []


def test_a_decision_maker_below_covered_in_the_tender_is_still_an_outsider():
    rec = one("BC-DM-OUTSIDER", WORKED["BC-DM-OUTSIDER"][0])
    assert rec.severity is Severity.CRITICAL and rec.subject_id == "gm"
    assert (
        'decision maker Wang (General Manager) is still at "acquainted" (needs "good")'
        in rec.message.en
    )


def test_a_decision_maker_below_covered_in_the_proposal_is_not_yet_an_outsider():
    assert of("BC-DM-OUTSIDER", with_person(HEALTHY_DEAL, "gm", strength=Strength.NONE)) == []


def test_a_collective_decision_lists_unmapped_and_uncovered_leadership_members():
    rec = one("BC-LEADERSHIP", LEADERSHIP)
    assert rec.severity is Severity.WARNING
    assert [e.en for e in rec.evidence] == [
        "Leadership members not marked as decision makers: Zhou.",
        'Leadership member Zhou: relationship "never met", below "good".',
    ]


def test_an_uncovered_leadership_in_the_tender_is_critical():
    ctx = with_deal(LEADERSHIP, stage=Stage.TENDER, evidence=evidence_through(4))
    assert one("BC-LEADERSHIP", ctx).severity is Severity.CRITICAL


def test_a_collective_decision_without_any_leadership_member_is_flagged():
    ctx = with_deal(collective_decision=True)
    rec = one("BC-LEADERSHIP", ctx)
    assert [e.en for e in rec.evidence] == ["No member of the leadership team recorded yet."]


def test_the_account_makes_its_deals_collective_decisions():
    account = replace(HEALTHY_ACCOUNT, collective_decision=True)
    assert of("BC-LEADERSHIP", replace(HEALTHY_DEAL, account=account))
    assert of("BC-LEADERSHIP", replace(HEALTHY_DEAL, account=HEALTHY_ACCOUNT)) == []


def test_no_insider_after_stage_two_names_the_supporters_as_candidates():
    rec = one("BC-NO-INSIDER", WORKED["BC-NO-INSIDER"][0])
    assert rec.severity is Severity.WARNING
    assert [e.en for e in rec.evidence] == [
        "Insider candidate: Wang (General Manager) supports us",
        "Insider candidate: Li (Chief Engineer) supports us",
        "Insider candidate: Chen (Secretary) supports us",
    ]


def test_no_insider_in_stage_two_is_not_yet_flagged():
    ctx = with_person(
        with_deal(stage=Stage.ENTRY, evidence=evidence_through(2)), "mole", insider=False
    )
    assert of("BC-NO-INSIDER", ctx) == []


def test_an_uncovered_technical_person_is_named_with_the_strength_reached():
    rec = one("BC-TECH-UNCOVERED", WORKED["BC-TECH-UNCOVERED"][0])
    assert rec.subject_id == "eng"
    assert 'technical person Li (Chief Engineer) is only "acquainted", below "good"' in (
        rec.message.en
    )


def test_no_technical_person_by_the_proposal_is_flagged_on_the_deal():
    ctx = with_person(HEALTHY_DEAL, "eng", roles=frozenset())
    rec = one("BC-TECH-UNCOVERED", ctx)
    assert rec.subject_id == "d1" and "no technical person is mapped" in rec.message.en
    early = with_person(
        with_deal(stage=Stage.ENTRY, evidence=evidence_through(2)), "eng", roles=frozenset()
    )
    assert of("BC-TECH-UNCOVERED", early) == []


def test_a_high_influence_opponent_is_a_warning_naming_them():
    rec = one("BC-OPPONENT-HIGH", WORKED["BC-OPPONENT-HIGH"][0])
    assert rec.severity is Severity.WARNING and rec.subject_id == "buyer"
    assert rec.message.en.startswith("Zhao (Purchasing Manager) has high influence")


def test_a_medium_influence_opponent_is_not_a_high_influence_opponent():
    ctx = with_person(HEALTHY_DEAL, "buyer", attitude=Attitude.OPPONENT)
    assert of("BC-OPPONENT-HIGH", ctx) == []


def test_a_doubtful_insider_is_reported_with_the_contradicted_facts():
    rec = one("BC-INSIDER-DOUBTFUL", WORKED["BC-INSIDER-DOUBTFUL"][0])
    # 1 confirmed, 2 contradicted: (1 + 1) / (3 + 2) = 40% < 2/3
    assert "What Chen tells us is doubtful (1 confirmed, 2 contradicted)" in rec.message.en
    assert "reliability 40%" in rec.evidence[0].en
    assert rec.evidence[1].en == "Contradicted by events: schedule, competitors"


def test_a_doubtful_insider_whose_latest_word_held_lists_no_contradicted_fact():
    claims = (
        InsiderClaim(InsiderFact.BUDGET, ago(40), False),
        InsiderClaim(InsiderFact.BUDGET, ago(30), False),
        InsiderClaim(InsiderFact.BUDGET, ago(20), True),
    )
    rec = one("BC-INSIDER-DOUBTFUL", replace(HEALTHY_DEAL, insider_claims=claims))
    assert len(rec.evidence) == 1


def test_an_unproven_insider_is_not_doubtful():
    ctx = replace(HEALTHY_DEAL, insider_claims=(InsiderClaim(InsiderFact.BUDGET, ago(3), False),))
    assert of("BC-INSIDER-DOUBTFUL", ctx) == []


def test_a_doubtful_insider_not_marked_in_the_buying_center_is_called_the_insider():
    ctx = with_person(WORKED["BC-INSIDER-DOUBTFUL"][0], "mole", insider=False)
    assert "What the insider tells us" in one("BC-INSIDER-DOUBTFUL", ctx).message.en


def test_an_insider_who_gave_no_budget_nor_schedule_by_the_proposal_is_asked_for_them():
    rec = one("BC-INSIDER-NO-FACTS", WORKED["BC-INSIDER-NO-FACTS"][0])
    assert "insider Chen has not yet told us the schedule, budget" in rec.message.en
    assert "还没有告诉我们项目进度、预算" in rec.message.zh


def test_missing_insider_facts_are_not_asked_for_before_the_proposal_nor_without_insider():
    claims = (InsiderClaim(InsiderFact.ORGANISATION, ago(40), True),)
    early = replace(
        with_deal(stage=Stage.ENTRY, evidence=evidence_through(2)), insider_claims=claims
    )
    assert of("BC-INSIDER-NO-FACTS", early) == []
    no_insider = with_person(replace(HEALTHY_DEAL, insider_claims=claims), "mole", insider=False)
    assert of("BC-INSIDER-NO-FACTS", no_insider) == []


def test_a_junior_title_with_high_influence_is_a_mismatch_to_check():
    rec = one("BC-TITLE-MISMATCH", WORKED["BC-TITLE-MISMATCH"][0])
    assert rec.severity is Severity.INFO and rec.subject_id == "mole"
    assert rec.message.en.startswith('Title and role may not match; check it: Chen is "Secretary"')


def test_a_collective_account_without_leadership_recorded_is_flagged():
    rec = one("BC-ACCOUNT-LEADERSHIP", WORKED["BC-ACCOUNT-LEADERSHIP"][0])
    assert [e.en for e in rec.evidence] == ["No member of the leadership team recorded yet."]


def test_a_collective_account_names_the_uncovered_leadership_members():
    account = with_account_person(
        replace(HEALTHY_ACCOUNT, collective_decision=True),
        "buyer",
        leadership_member=True,
    )
    rec = one("BC-ACCOUNT-LEADERSHIP", account)
    assert [e.en for e in rec.evidence] == ['Zhao: relationship "acquainted"']


# --- §3 -----------------------------------------------------------------------------------


def test_a_forced_deal_shows_the_reason_recorded():
    rec = one("PR-FORCED", FORCED)
    assert rec.severity is Severity.WARNING
    assert "pushed 1 stage(s) past its key nodes. A reason was recorded" in rec.message.en
    assert "move it back to Proposal (stage 3)" in rec.message.en
    assert rec.evidence[1].en == "2025-05-28 liu forced it from stage 3 to stage 4: " + (
        "tender announced early"
    )


def test_a_deal_ahead_of_its_evidence_without_override_says_none_was_recorded():
    rec = one("PR-FORCED", with_deal(FORCED, overrides=()))
    assert "no forced advance was recorded" in rec.message.en
    assert len(rec.evidence) == 1


def test_the_key_nodes_for_the_next_stage_are_listed():
    rec = one("PR-NEXT-NODES", WORKED["PR-NEXT-NODES"][0])
    assert rec.severity is Severity.INFO
    assert rec.message.en == (
        'For "Boiler retrofit" to reach Tender (stage 4), key nodes still missing: '
        "Criteria reflect our strengths, Proposal accepted by the technical person."
    )


def test_an_open_deal_in_stage_six_gets_no_next_node_nor_close_date_advice():
    ctx = with_deal(stage=Stage.IMPLEMENTATION, evidence=evidence_through(5), expected_close=None)
    ids = {r.rule_id for r in run(ctx)}
    assert not ids & {"PR-NEXT-NODES", "FN-NO-CLOSE-DATE"}


# --- §4 -----------------------------------------------------------------------------------


def test_a_deal_120_days_in_its_stage_is_stuck():
    rec = one("FN-STUCK", WORKED["FN-STUCK"][0])
    assert "120 days in Proposal, over the 90-day limit" in rec.message.en


def test_a_deal_past_its_expected_close_says_by_how_many_days():
    rec = one("FN-OVERDUE", WORKED["FN-OVERDUE"][0])
    assert "5 days past its expected close date (2025-05-28)" in rec.message.en


def test_a_funnel_deal_without_close_date_cannot_be_forecast():
    rec = one("FN-NO-CLOSE-DATE", WORKED["FN-NO-CLOSE-DATE"][0])
    assert rec.message.en.startswith('"Boiler retrofit" (800,000) has no expected close date')


# --- §5 -----------------------------------------------------------------------------------


def test_key_people_not_visited_for_31_days_on_a_grade_b_deal_are_named():
    recs = of("REL-KEY-CADENCE", WORKED["REL-KEY-CADENCE"][0])
    # key people: Wang (decision maker) and Li (high influence); B = every 30 days
    assert [r.subject_id for r in recs] == ["gm", "eng"]
    assert recs[0].message.en.startswith(
        "Key person Wang (General Manager) has not been visited for 31 days "
        "(grade B: at least every 30 days)"
    )


def test_a_grade_a_deal_wants_its_key_people_every_14_days():
    ctx = replace(with_deal(grade=Grade.A), activities=(visit(ago(15), *EVERYONE),))
    assert len(of("REL-KEY-CADENCE", ctx)) == 2


def test_an_ungraded_deal_is_visited_as_grade_b():
    ctx = replace(with_deal(grade=None), activities=(visit(ago(31), *EVERYONE),))
    rec = of("REL-KEY-CADENCE", ctx)[0]
    assert "(ungraded, taken as B: at least every 30 days)" in rec.message.en


def test_a_key_person_never_visited_counts_from_the_deal_creation():
    ctx = replace(HEALTHY_DEAL, activities=(visit(ago(10), "eng", "buyer", "user", "mole"),))
    rec = one("REL-KEY-CADENCE", ctx)
    assert rec.subject_id == "gm" and "has never been visited" in rec.message.en
    young = with_deal(ctx, created_on=ago(30))
    assert of("REL-KEY-CADENCE", young) == []
    assert of("REL-KEY-CADENCE", with_deal(ctx, created_on=None))


def test_a_call_or_a_future_visit_is_not_a_visit():
    ctx = replace(
        HEALTHY_DEAL,
        activities=(
            visit(ago(31), *EVERYONE),
            visit(ago(1), "gm", kind=ActivityKind.CALL),
            visit(ago(-2), "gm"),
        ),
    )
    assert [r.subject_id for r in of("REL-KEY-CADENCE", ctx)] == ["gm", "eng"]


def test_the_rest_of_the_buying_center_is_visited_for_the_united_front():
    rec = one("REL-FRONT-CADENCE", WORKED["REL-FRONT-CADENCE"][0])
    assert rec.severity is Severity.INFO and rec.subject_id == "buyer"
    assert "Zhao (Purchasing Manager) has never been visited" in rec.message.en
    late = replace(
        HEALTHY_DEAL,
        activities=(visit(ago(10), "gm", "eng", "mole", "user"), visit(ago(61), "buyer")),
    )
    assert "not been visited for 61 days (grade B: at least every 60 days)" in (
        one("REL-FRONT-CADENCE", late).message.en
    )


def test_a_relationship_resting_on_one_person_shows_both_findings():
    rec = one("REL-ONE-PERSON", ONE_PERSON)
    assert rec.severity is Severity.WARNING
    assert [e.en.split(":")[0] for e in rec.evidence] == [
        "Every good relationship with the key people runs through liu",
        "Only Wang at the customer is on good terms with us",
    ]


def test_relationship_cost_above_five_percent_of_revenue_is_a_warning():
    rec = one("REL-COST", WORKED["REL-COST"][0])
    # 150,000 / 2,000,000 = 7.5%
    assert rec.severity is Severity.WARNING
    assert "7.5% of revenue, above 5%" in rec.message.en
    assert rec.evidence[0].en == ("Last 730 days: relationship cost 150,000, won revenue 2,000,000")


def test_relationship_cost_without_revenue_is_an_info():
    account = replace(WORKED["REL-COST"][0], won_revenue=Decimal(0))
    assert one("REL-COST", account).severity is Severity.INFO


def test_relationship_cost_older_than_the_lookback_is_not_counted():
    account = replace(HEALTHY_ACCOUNT, activities=(visit(ago(730), "gm", cost="150000"),))
    assert of("REL-COST", account) == []


def test_a_transaction_account_without_organisation_trust_is_told_where_to_start():
    rec = one("REL-NO-ORG-TRUST", WORKED["REL-NO-ORG-TRUST"][0])
    assert rec.message.en.endswith(
        "Start with: Show certifications such as ISO 9000, Show our sound operating "
        "procedures, Show our plant and equipment."
    )


def test_a_cooperation_account_is_not_asked_for_organisation_trust():
    account = replace(WORKED["REL-NO-ORG-TRUST"][0], won_orders=3)
    assert of("REL-NO-ORG-TRUST", account) == []


def test_an_account_without_first_order_date_counts_zero_years_as_customer():
    # A company wanting a year of custom before cooperation: three orders since 2023
    # is cooperation, three orders with no first-order date is still a transaction.
    method = MethodSettings(relationship=RelationshipSettings(cooperation_min_years=1))
    settings = CoachSettings(method=method)
    account = replace(WORKED["REL-NO-ORG-TRUST"][0], won_orders=3)
    assert of("REL-NO-ORG-TRUST", account, settings) == []
    assert of("REL-NO-ORG-TRUST", replace(account, customer_since=None), settings)


def test_an_unknown_trust_action_is_refused():
    with pytest.raises(UnknownTrustAction):
        coach_account(replace(HEALTHY_ACCOUNT, trust_actions_done=frozenset({"bribe"})))


def test_a_big_account_at_the_price_level_is_told_it_can_be_copied():
    rec = one("REL-PRICE-LEVEL", WORKED["REL-PRICE-LEVEL"][0])
    assert rec.evidence[0].en == "Level 1: Rests on price, which a competitor can copy"
    assert rec.evidence[1].en == "Grade: A; won revenue 2,000,000"


def test_a_small_account_at_the_price_level_is_left_alone_unless_it_won_a_million():
    small = replace(
        HEALTHY_ACCOUNT,
        relationship_level=RelationshipLevel.PRICE,
        grade=None,
        won_revenue=Decimal("999999"),
    )
    assert of("REL-PRICE-LEVEL", small) == []
    rec = one("REL-PRICE-LEVEL", replace(small, won_revenue=Decimal("1000000")))
    assert rec.evidence[1].en == "Grade: none; won revenue 1,000,000"


def test_an_incubation_account_with_a_deal_in_the_tender_needs_third_party_proof():
    rec = one("REL-INCUBATION-LATE", INCUBATION)
    assert rec.subject_id == "d1"
    assert "has never used our products (incubation), yet" in rec.message.en
    assert rec.evidence[0].en == (
        "Not done yet: Show our sound operating procedures, Show our plant and equipment, "
        "Present our track record"
    )


def test_an_incubation_account_with_a_proposal_stage_deal_is_not_late():
    account = replace(INCUBATION, open_deals=(DEAL,))
    assert of("REL-INCUBATION-LATE", account) == []


def test_an_incubation_account_having_done_every_organisation_action_gets_no_list():
    every = frozenset(
        {
            "certification",
            "operations",
            "equipment",
            "track_record",
            "honours",
            "test_report",
            "running_installation",
            "customer_reference",
            "factory_visit",
        }
    )
    rec = one("REL-INCUBATION-LATE", replace(INCUBATION, trust_actions_done=every))
    assert rec.evidence == ()


def test_an_overdue_planned_visit_says_how_late_and_what_was_planned():
    rec = one("REL-VISIT-OVERDUE", WORKED["REL-VISIT-OVERDUE"][0])
    assert "1 planned next visit(s) did not happen, the oldest 6 days ago" in rec.message.en
    assert rec.evidence[0].en == (
        "On 2025-05-13 planned to see Zhao again on 2025-05-27 (price talk): 6 days ago"
    )


def test_a_planned_visit_without_people_is_kept_by_any_later_visit():
    planned = visit(ago(20), next_on=ago(6))
    account = replace(HEALTHY_ACCOUNT, activities=(visit(ago(30), "gm", "eng"), planned))
    rec = one("REL-VISIT-OVERDUE", account)
    assert "planned to see them again" in rec.evidence[0].en
    assert "再见客户" in rec.evidence[0].zh
    kept = replace(account, activities=(visit(ago(10), "gm", "eng"), planned))
    assert of("REL-VISIT-OVERDUE", kept) == []


def test_a_planned_visit_within_the_grace_days_is_not_overdue():
    account = WORKED["REL-VISIT-OVERDUE"][0]
    assert of("REL-VISIT-OVERDUE", account, CoachSettings(next_visit_grace_days=6)) == []


def test_an_account_key_person_not_visited_for_15_days_on_grade_a():
    recs = of("REL-ACCOUNT-CADENCE", WORKED["REL-ACCOUNT-CADENCE"][0])
    assert [r.subject_id for r in recs] == ["gm", "eng"]
    assert "(grade A: at least every 14 days)" in recs[0].message.en


def test_a_visit_without_pretext_is_listed_with_the_people_met():
    rec = one("REL-NO-PRETEXT", NO_PRETEXT)
    assert rec.severity is Severity.INFO
    assert [e.en for e in rec.evidence] == ["2025-05-30 visit Zhao"]
    assert "1 visit(s) in the last 30 days left no pretext" in rec.message.en


def test_an_old_visit_without_pretext_or_a_call_is_not_listed():
    account = replace(
        HEALTHY_ACCOUNT,
        activities=(
            *HEALTHY_ACCOUNT.activities,
            visit(ago(30), "buyer", pretext=""),
            visit(ago(2), "buyer", pretext="", kind=ActivityKind.CALL),
        ),
    )
    assert of("REL-NO-PRETEXT", account) == []


def test_a_visit_with_someone_not_recorded_is_listed_by_id():
    account = replace(HEALTHY_ACCOUNT, activities=(visit(ago(3), "x9", pretext=" "),))
    assert [e.en for e in one("REL-NO-PRETEXT", account).evidence] == ["2025-05-30 visit x9"]


def test_a_supplier_without_personal_ties_is_told_to_build_them():
    rec = one("REL-SUPPLIER-ONLY", SUPPLIER)
    assert rec.message.en.startswith("With Huaxin Steel we are only a supplier:")


# --- §6 -----------------------------------------------------------------------------------


def test_a_proposal_stressing_vision_to_an_analytical_decision_maker_is_flagged():
    rec = one("WB-EMPHASIS", WORKED["WB-EMPHASIS"][0])
    assert rec.severity is Severity.WARNING
    assert rec.message.en.startswith(
        "The proposal stresses Imaginative, but the decision makers (Wang) are mainly "
        "Analytical: speak their language and bring: Data, figures"
    )
    assert [e.en for e in rec.evidence] == ["Wang: mainly Analytical, confidence 80%"]


def test_no_emphasis_mismatch_without_a_decision_maker_profile():
    ctx = with_person(with_deal(proposal_emphasis=Quadrant.D), "gm", brain=None)
    assert of("WB-EMPHASIS", ctx) == []


def test_a_proposal_without_emphasis_is_told_what_the_decision_maker_wants():
    rec = one("WB-NO-EMPHASIS", WORKED["WB-NO-EMPHASIS"][0])
    assert "the decision makers are mainly Analytical, so bring: Data" in rec.message.en
    early = with_deal(stage=Stage.ENTRY, evidence=evidence_through(2), proposal_emphasis=None)
    assert of("WB-NO-EMPHASIS", early) == []
    unknown = with_person(with_deal(proposal_emphasis=None), "gm", brain=None)
    assert of("WB-NO-EMPHASIS", unknown) == []


def test_key_people_without_a_sure_profile_before_the_proposal_are_listed():
    ctx = with_person(WORKED["WB-LOW-CONFIDENCE"][0], "eng", brain=None)
    rec = one("WB-LOW-CONFIDENCE", ctx)
    assert [e.en for e in rec.evidence] == [
        "Wang: mainly Analytical, confidence 30%",
        "Li: no profile yet",
    ]
    assert "2 key person(s) have no sure profile" in rec.message.en


def test_profiles_are_not_asked_for_after_the_proposal():
    ctx = with_deal(
        WORKED["WB-LOW-CONFIDENCE"][0], stage=Stage.TENDER, evidence=evidence_through(4)
    )
    assert of("WB-LOW-CONFIDENCE", ctx) == []


def test_a_profile_with_no_score_shows_no_dominant_quadrant():
    ctx = with_person(HEALTHY_DEAL, "gm", brain=BrainScores(confidence=0.1))
    rec = one("WB-LOW-CONFIDENCE", ctx)
    assert rec.evidence[0].en == "Wang: mainly —, confidence 10%"


# --- §7 -----------------------------------------------------------------------------------


def test_an_incomplete_customer_file_names_what_is_missing():
    rec = one("SEG-FILE-INCOMPLETE", MISSING_FILE)
    assert "still lacks their latent needs" in rec.message.en
    assert "还缺：潜在需求" in rec.message.zh


def test_an_unsegmented_account_names_the_missing_segment_fields():
    rec = one("SEG-UNSEGMENTED", WORKED["SEG-UNSEGMENTED"][0])
    assert "region missing" in rec.message.en


def test_a_company_may_ask_for_its_own_customer_file_fields():
    settings = CoachSettings(customer_file=(FileField("plant_map", CUSTOMER_FILE[0].label),))
    assert of("SEG-FILE-INCOMPLETE", HEALTHY_ACCOUNT, settings)
    assert of("SEG-FILE-INCOMPLETE", MISSING_FILE, CoachSettings(customer_file=())) == []


# --- §8 -----------------------------------------------------------------------------------


def test_a_safe_looking_deal_with_an_opponent_gets_the_calm_lake_tip():
    rec = one("TIP-CALM-LAKE", WORKED["TIP-CALM-LAKE"][0])
    assert rec.section == "§8" and rec.severity is Severity.INFO
    assert rec.message.en.startswith("A calm lake does not mean the crocodile has left")
    assert "but Sun still opposes us" in rec.message.en


def test_the_calm_lake_tip_names_every_opponent():
    ctx = with_person(WORKED["TIP-CALM-LAKE"][0], "buyer", attitude=Attitude.OPPONENT)
    assert "but Zhao, Sun still oppose us" in one("TIP-CALM-LAKE", ctx).message.en


def test_the_calm_lake_tip_needs_the_deal_to_look_safe():
    uncovered = with_person(WORKED["TIP-CALM-LAKE"][0], "gm", strength=Strength.ACQUAINTED)
    assert of("TIP-CALM-LAKE", uncovered) == []
    opposed = with_person(WORKED["TIP-CALM-LAKE"][0], "eng", attitude=Attitude.OPPONENT)
    assert of("TIP-CALM-LAKE", opposed) == []


def test_a_tip_follows_its_finding_and_goes_when_the_finding_is_disabled():
    ctx = WORKED["TIP-NO-EXPLAINING"][0]
    assert one("TIP-NO-EXPLAINING", ctx).message.en.startswith("Don't be busy explaining yourself")
    off = CoachSettings(disabled_rules=frozenset({"BC-TECH-OPPOSED"}))
    assert of("TIP-NO-EXPLAINING", ctx, off) == []


def test_each_attached_tip_appears_once_with_its_saying():
    assert one("TIP-NOT-HEARD", WORKED["TIP-NOT-HEARD"][0]).message.en.startswith(
        "Beware of thinking you were clear"
    )
    assert one("TIP-SIMPLE-MOVES", NO_PRETEXT).subject_id == "acc"
    assert "carry a bucket" in one("TIP-BUCKET", MISSING_FILE).message.en


# --- ranking, disabling, closed deals, bad input -----------------------------------------


def test_deal_recommendations_rank_by_severity_then_registry_order():
    ctx = with_person(
        with_deal(source=None, stage_entered_on=ago(120)), "eng", attitude=Attitude.OPPONENT
    )
    assert [(r.rule_id, r.severity) for r in coach_deal(ctx)] == [
        ("BC-TECH-OPPOSED", Severity.CRITICAL),
        ("FN-STUCK", Severity.WARNING),
        # the veto caps the win probability at 10%, so screening now says C, not B
        ("SCR-GRADE-STALE", Severity.INFO),
        ("SCR-NO-SOURCE", Severity.INFO),
        ("TIP-NO-EXPLAINING", Severity.INFO),
    ]


def test_account_recommendations_rank_by_severity_then_amount_then_stage():
    def deal(deal_id, amount, stage):
        return replace(DEAL, id=deal_id, amount=Decimal(amount), stage=stage)

    account = replace(
        ONE_PERSON,
        won_orders=0,
        won_revenue=Decimal(0),
        activities=(visit(ago(10), "gm", "eng", next_on=ago(-5)),),
        open_deals=(
            deal("small-tender", 300000, Stage.TENDER),
            deal("big", 900000, Stage.TENDER),
            deal("small-negotiation", 300000, Stage.NEGOTIATION),
            deal("early", 2000000, Stage.ENTRY),
        ),
    )
    ranked = [(r.rule_id, r.severity, r.subject_id) for r in coach_account(account)]
    # The account-wide warning has the whole pipeline at stake: 3,500,000.
    assert ranked == [
        ("REL-ONE-PERSON", Severity.WARNING, "acc"),
        ("REL-INCUBATION-LATE", Severity.WARNING, "big"),
        ("REL-INCUBATION-LATE", Severity.WARNING, "small-negotiation"),
        ("REL-INCUBATION-LATE", Severity.WARNING, "small-tender"),
    ]


def test_an_account_without_open_deals_still_ranks():
    account = replace(ONE_PERSON, open_deals=(), grade=None)
    assert [r.rule_id for r in coach_account(account)] == ["REL-ONE-PERSON", "SCR-ACCOUNT-NO-GRADE"]


def test_a_disabled_rule_never_speaks():
    ctx = WORKED["SCR-NO-SOURCE"][0]
    off = CoachSettings(disabled_rules=frozenset({"SCR-NO-SOURCE"}))
    assert of("SCR-NO-SOURCE", ctx) and of("SCR-NO-SOURCE", ctx, off) == []


def test_a_closed_deal_gets_no_recommendation():
    ctx = with_person(HEALTHY_DEAL, "eng", attitude=Attitude.OPPONENT)
    assert coach_deal(with_deal(ctx, outcome=Outcome.LOST)) == ()


def test_a_buying_center_with_a_person_twice_is_refused():
    with pytest.raises(DuplicatePerson):
        coach_deal(with_deal(people=(GM, GM)))


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"disabled_rules": frozenset({"BC-NOPE"})}, "BC-NOPE"),
        ({"key_visit_days": {Grade.A: 14, Grade.B: 30, Grade.C: 60}}, "key_visit_days[D]"),
        ({"other_visit_days": {g: 0 for g in Grade}}, "other_visit_days[A]"),
        ({"effort_window_days": 0}, "effort_window_days"),
        ({"pretext_lookback_days": 0}, "pretext_lookback_days"),
        ({"next_visit_grace_days": -1}, "next_visit_grace_days"),
        ({"grade_d_max_activities": -1}, "grade_d_max_activities"),
        ({"big_account_revenue": Decimal(-1)}, "big_account_revenue"),
        ({"profile_from_stage": Stage.TENDER}, "profile_from_stage"),
        ({"customer_file": (FileField(" ", CUSTOMER_FILE[0].label),)}, "customer_file"),
        ({"segment_fields": SEGMENT_FIELDS[:1] * 2}, "segment_fields"),
    ],
)
def test_unusable_settings_are_refused_naming_the_setting(fields, where):
    with pytest.raises(InvalidCoachSettings, match=re.escape(where)) as raised:
        CoachSettings(**fields)
    assert isinstance(raised.value, MethodError)


def test_the_thresholds_are_settings():
    ctx = with_person(HEALTHY_DEAL, "mole", insider=False)
    assert of("BC-NO-INSIDER", ctx, CoachSettings(insider_from_stage=Stage.TENDER)) == []
    cadence = CoachSettings(key_visit_days={g: 7 for g in Grade})
    assert len(of("REL-KEY-CADENCE", HEALTHY_DEAL, cadence)) == 2


# --- properties ---------------------------------------------------------------------------

people_st = st.builds(
    lambda pid, roles, influence, attitude, strength, is_insider, brain: Person(
        pid,
        pid.upper(),
        roles=roles,
        influence=influence,
        attitude=attitude,
        strength=strength,
        insider=is_insider,
        brain=brain,
    ),
    st.sampled_from(["p1", "p2", "p3", "p4"]),
    st.frozensets(st.sampled_from(list(Role))),
    st.sampled_from(list(Influence)),
    st.sampled_from(list(Attitude)),
    st.sampled_from(list(Strength)),
    st.booleans(),
    st.none()
    | st.builds(BrainScores, a=st.floats(0, 100), d=st.floats(0, 100), confidence=st.floats(0, 1)),
)

deal_st = st.builds(
    lambda people, stage, grade, close, entered, nodes, emphasis, collective: replace(
        DEAL,
        people=tuple({p.id: p for p in people}.values()),
        stage=stage,
        grade=grade,
        expected_close=None if close is None else ago(close),
        stage_entered_on=ago(entered),
        evidence=evidence_through(nodes),
        proposal_emphasis=emphasis,
        collective_decision=collective,
    ),
    st.lists(people_st, max_size=5),
    st.sampled_from([s for s in Stage if s is not Stage.IMPLEMENTATION]),
    st.none() | st.sampled_from(list(Grade)),
    st.none() | st.integers(-400, 200),
    st.integers(0, 300),
    st.integers(0, 5),
    st.none() | st.sampled_from(list(Quadrant)),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(deal_st, st.frozensets(st.sampled_from([r.id for r in RULES if r.scope == "deal"])))
def test_deal_advice_is_ranked_by_severity_in_scope_and_never_from_a_disabled_rule(deal, off):
    ctx = replace(HEALTHY_DEAL, deal=deal)
    recs = coach_deal(ctx, settings=CoachSettings(disabled_rules=off))
    severities = [r.severity for r in recs]
    assert severities == sorted(severities, reverse=True)
    for rec in recs:
        assert RULES_BY_ID[rec.rule_id].scope == "deal"
        assert rec.rule_id not in off
        assert rec.message.zh and rec.message.en
    assert coach_deal(ctx, settings=CoachSettings(disabled_rules=off)) == recs


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(50000, 3000000), st.sampled_from(list(Stage)[:5])),
        max_size=5,
    ),
    st.booleans(),
)
def test_account_advice_is_ranked_by_severity_then_by_what_is_at_stake(deals, one_person):
    open_deals = tuple(
        replace(DEAL, id=f"d{i}", amount=Decimal(amount), stage=stage)
        for i, (amount, stage) in enumerate(deals)
    )
    account = replace(
        ONE_PERSON if one_person else HEALTHY_ACCOUNT,
        won_orders=0,
        won_revenue=Decimal(0),
        open_deals=open_deals,
    )
    amounts = {d.id: (d.amount, d.stage) for d in open_deals}
    whole = (sum(a for a, _ in amounts.values()), max((s for _, s in amounts.values()), default=0))
    keys = [
        (-r.severity, -amounts.get(r.subject_id, whole)[0], -amounts.get(r.subject_id, whole)[1])
        for r in coach_account(account)
    ]
    assert keys == sorted(keys)
