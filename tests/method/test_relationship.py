import datetime as dt
from decimal import Decimal

import pytest

from kam.method.relationship import (
    LEVELS,
    LIFECYCLE_LABELS,
    LIFT_ADVICE,
    RELATIONSHIP_TYPES,
    TRUST_ACTIONS,
    InvalidRelationshipSettings,
    NegativeAmount,
    RelationshipSettings,
    TrustKind,
    UnknownTrustAction,
    assess_axes,
    can_be_copied,
    is_key_person,
    lifecycle,
    relationship_cost,
    relationship_type,
    single_person_dependency,
    trust_gaps,
    won_in_lookback,
)
from kam.method.types import (
    Deal,
    Influence,
    Lifecycle,
    MethodError,
    Outcome,
    Person,
    RelationshipLevel,
    RelationshipType,
    Role,
    Strength,
)

GM = Person("gm", "Zhang", roles=frozenset({Role.DECISION_MAKER}), influence=Influence.MEDIUM)
ENGINEER = Person("eng", "Li", roles=frozenset({Role.TECHNICAL}), influence=Influence.HIGH)
OPERATOR = Person("op", "Zhao", roles=frozenset({Role.USER}), influence=Influence.LOW)


# --- four types -------------------------------------------------------------


@pytest.mark.parametrize(
    ("personal", "business", "expected"),
    [
        (False, False, RelationshipType.OUTSIDER),
        (True, False, RelationshipType.FRIEND),
        (False, True, RelationshipType.SUPPLIER),
        (True, True, RelationshipType.PARTNER),
    ],
)
def test_the_two_axes_give_the_four_types(personal, business, expected):
    assert relationship_type(personal, business) is expected


def test_every_type_has_a_label_an_explanation_and_a_next_step():
    assert RELATIONSHIP_TYPES[RelationshipType.OUTSIDER].label.zh == "局外人"
    assert RELATIONSHIP_TYPES[RelationshipType.FRIEND].label.zh == "朋友"
    assert RELATIONSHIP_TYPES[RelationshipType.SUPPLIER].label.zh == "供应商"
    assert RELATIONSHIP_TYPES[RelationshipType.PARTNER].label.en == "Partner"
    assert "性价比" in RELATIONSHIP_TYPES[RelationshipType.SUPPLIER].explanation.zh
    for t in RelationshipType:
        assert RELATIONSHIP_TYPES[t].type is t
        assert RELATIONSHIP_TYPES[t].next_step.zh and RELATIONSHIP_TYPES[t].next_step.en


def test_friends_and_partners_are_told_to_lift_personal_ties_into_organisational_ones():
    assert "组织关系" in LIFT_ADVICE.zh
    assert "organisational" in LIFT_ADVICE.en
    for t in (RelationshipType.FRIEND, RelationshipType.PARTNER):
        assert LIFT_ADVICE.zh in RELATIONSHIP_TYPES[t].next_step.zh
        assert LIFT_ADVICE.en in RELATIONSHIP_TYPES[t].next_step.en


def test_a_good_relationship_with_a_key_person_and_won_business_make_a_partner():
    people = [
        Person("gm", "Zhang", roles=frozenset({Role.DECISION_MAKER}), strength=Strength.GOOD),
        Person("eng", "Li", influence=Influence.HIGH, strength=Strength.STRONG),
        OPERATOR,
    ]
    axes = assess_axes(people, won_revenue=Decimal("250000"))
    assert (axes.personal, axes.business) == (True, True)
    assert axes.type is RelationshipType.PARTNER
    assert axes.friends == ("Zhang", "Li")
    assert axes.description.label.zh == "合作伙伴"


def test_a_good_relationship_with_a_low_influence_user_is_not_a_personal_relationship():
    operator = Person("op", "Zhao", influence=Influence.LOW, strength=Strength.STRONG)
    axes = assess_axes([operator], won_revenue=Decimal(0))
    assert axes.personal is False
    assert axes.type is RelationshipType.OUTSIDER
    assert axes.friends == ()


def test_an_acquaintance_with_the_decision_maker_is_not_yet_a_personal_relationship():
    gm = Person("gm", "Zhang", roles=frozenset({Role.DECISION_MAKER}), strength=Strength.ACQUAINTED)
    assert assess_axes([gm], won_revenue=Decimal(0)).type is RelationshipType.OUTSIDER


def test_a_company_can_count_acquaintance_as_personal():
    gm = Person("gm", "Zhang", roles=frozenset({Role.DECISION_MAKER}), strength=Strength.ACQUAINTED)
    settings = RelationshipSettings(good_strength=Strength.ACQUAINTED)
    assert assess_axes([gm], won_revenue=Decimal(0), settings=settings).type is (
        RelationshipType.FRIEND
    )


def test_key_people_are_decision_makers_leadership_members_and_the_highly_influential():
    member = Person("m", "Sun", influence=Influence.LOW, leadership_member=True)
    medium = Person("x", "Wu", influence=Influence.MEDIUM)
    assert is_key_person(GM) and is_key_person(ENGINEER) and is_key_person(member)
    assert not is_key_person(OPERATOR)
    assert not is_key_person(medium)


def test_orders_won_make_the_business_axis_even_without_revenue_recorded():
    axes = assess_axes([], won_revenue=Decimal(0), orders_won=1)
    assert axes.type is RelationshipType.SUPPLIER


def test_negative_won_business_is_refused():
    with pytest.raises(NegativeAmount, match="won_revenue is negative: -1"):
        assess_axes([], won_revenue=Decimal(-1))
    with pytest.raises(NegativeAmount, match="orders_won is negative: -2"):
        assess_axes([], won_revenue=Decimal(0), orders_won=-2)


def test_won_business_counts_only_won_deals_closed_in_the_last_two_years():
    today = dt.date(2025, 6, 30)
    # 730 days before 2025-06-30 is 2023-07-01 (366 days to 2024-07-01, leap year, + 364).
    deals = [
        Deal("1", "on the first day", Decimal(100), outcome=Outcome.WON,
             closed_on=dt.date(2023, 7, 1)),
        Deal("2", "a day too old", Decimal(200), outcome=Outcome.WON,
             closed_on=dt.date(2023, 6, 30)),
        Deal("3", "lost", Decimal(400), outcome=Outcome.LOST, closed_on=dt.date(2025, 1, 1)),
        Deal("4", "open", Decimal(800)),
        Deal("5", "won, date missing", Decimal(1600), outcome=Outcome.WON),
        Deal("6", "today", Decimal(3200), outcome=Outcome.WON, closed_on=today),
        Deal("7", "tomorrow", Decimal(6400), outcome=Outcome.WON,
             closed_on=dt.date(2025, 7, 1)),
    ]  # fmt: skip
    won = won_in_lookback(deals, today=today)
    assert won.revenue == Decimal(100 + 1600 + 3200)
    assert won.orders == 3
    one_year = RelationshipSettings(business_lookback_days=365)
    assert won_in_lookback(deals, today=today, settings=one_year).orders == 2


# --- three levels -------------------------------------------------------------


def test_only_a_relationship_resting_on_price_can_be_copied():
    assert can_be_copied(RelationshipLevel.PRICE) is True
    assert can_be_copied(RelationshipLevel.SERVICE) is False
    assert can_be_copied(RelationshipLevel.MUTUAL_BENEFIT) is False


def test_the_three_levels_say_what_they_rest_on():
    assert LEVELS[RelationshipLevel.PRICE].rests_on.zh == "靠价格"
    assert LEVELS[RelationshipLevel.SERVICE].rests_on.zh == "靠服务的个性化和人格化"
    assert LEVELS[RelationshipLevel.MUTUAL_BENEFIT].rests_on.zh == "靠双方的互惠、互补和互相依赖"
    assert [LEVELS[lv].label.zh for lv in RelationshipLevel] == ["一级关系", "二级关系", "三级关系"]


# --- trust ----------------------------------------------------------------------

ORGANISATION_IDS = [
    "certification",
    "operations",
    "equipment",
    "track_record",
    "honours",
    "test_report",
    "running_installation",
    "customer_reference",
    "factory_visit",
]
PERSON_IDS = [
    "referral",
    "repeated_visits",
    "keep_promises",
    "problem_solving_expert",
    "small_courtesies",
    "confident_manner",
    "common_ground",
]


def test_the_trust_catalogue_keeps_its_stable_ids_and_kinds():
    assert [a.id for a in TRUST_ACTIONS] == ORGANISATION_IDS + PERSON_IDS
    assert {a.id for a in TRUST_ACTIONS if a.kind is TrustKind.ORGANISATION} == set(
        ORGANISATION_IDS
    )
    assert all(a.label.zh and a.label.en for a in TRUST_ACTIONS)
    assert "ISO 9000" in TRUST_ACTIONS[0].label.zh
    assert "下次拜访的借口" in TRUST_ACTIONS[10].label.zh


def test_trust_gaps_list_what_is_left_organisation_first():
    gaps = trust_gaps(["certification", "referral", "factory_visit"])
    assert [a.id for a in gaps] == (
        [i for i in ORGANISATION_IDS if i not in ("certification", "factory_visit")]
        + [i for i in PERSON_IDS if i != "referral"]
    )


def test_a_company_can_list_person_level_trust_gaps_first():
    gaps = trust_gaps([], settings=RelationshipSettings(organisation_first=False))
    assert [a.id for a in gaps] == PERSON_IDS + ORGANISATION_IDS


def test_no_trust_gap_is_left_when_everything_is_done():
    assert trust_gaps(ORGANISATION_IDS + PERSON_IDS) == ()


def test_an_unknown_trust_action_is_refused_by_name():
    with pytest.raises(UnknownTrustAction, match=r"unknown trust action id\(s\): bribe, iso"):
        trust_gaps(["referral", "iso", "bribe"])


# --- cost -------------------------------------------------------------------------


def test_relationship_cost_within_five_percent_of_revenue_is_fine():
    report = relationship_cost([Decimal(1000), Decimal(2000)], Decimal(100000))
    assert report.cost == Decimal(3000)
    assert report.ratio == pytest.approx(0.03)
    assert report.warning is False
    assert report.message.zh == "关系成本占收入的 3.0%,在 5% 以内。"
    assert report.message.en == "Relationship cost is 3.0% of revenue, within 5%."


def test_relationship_cost_of_exactly_five_percent_is_not_yet_a_warning():
    assert relationship_cost([Decimal(5000)], Decimal(100000)).warning is False


def test_relationship_cost_above_five_percent_of_revenue_is_a_warning():
    report = relationship_cost([Decimal(6000)], Decimal(100000))
    assert report.ratio == pytest.approx(0.06)
    assert report.warning is True
    assert "6.0%" in report.message.zh and "超过 5%" in report.message.zh
    assert "above 5%" in report.message.en


def test_the_cost_warning_ratio_is_a_setting():
    settings = RelationshipSettings(cost_warning_ratio=0.1)
    report = relationship_cost([Decimal(6000)], Decimal(100000), settings=settings)
    assert report.warning is False
    assert report.message.en.endswith("within 10%.")


def test_cost_with_no_revenue_is_relationship_first_spending_and_a_warning():
    report = relationship_cost([Decimal("800.50")], Decimal(0))
    assert report.ratio is None
    assert report.warning is True
    assert "关系领先型" in report.message.zh
    assert "800.50" in report.message.en


def test_no_cost_and_no_revenue_is_no_warning():
    report = relationship_cost([], Decimal(0))
    assert (report.cost, report.ratio, report.warning) == (Decimal(0), None, False)
    assert report.message.en == "No relationship cost and no revenue yet."


def test_a_negative_cost_or_revenue_is_refused_by_position():
    with pytest.raises(NegativeAmount, match="cost #2 is negative: -5"):
        relationship_cost([Decimal(1), Decimal(-5)], Decimal(10))
    with pytest.raises(NegativeAmount, match="revenue is negative: -10"):
        relationship_cost([], Decimal(-10))


# --- lifecycle ----------------------------------------------------------------------


def test_a_customer_without_a_won_order_is_incubating_whatever_the_level():
    assert (
        lifecycle(0, level=RelationshipLevel.MUTUAL_BENEFIT, years_as_customer=4)
        is Lifecycle.INCUBATION
    )


def test_one_or_two_won_orders_are_a_transaction():
    assert lifecycle(1, level=None, years_as_customer=0.5) is Lifecycle.TRANSACTION
    assert lifecycle(2, level=RelationshipLevel.SERVICE, years_as_customer=3) is (
        Lifecycle.TRANSACTION
    )


def test_three_won_orders_or_mutual_benefit_are_cooperation():
    assert lifecycle(3, level=None, years_as_customer=0) is Lifecycle.COOPERATION
    assert lifecycle(1, level=RelationshipLevel.MUTUAL_BENEFIT, years_as_customer=0) is (
        Lifecycle.COOPERATION
    )


def test_a_company_can_require_years_as_a_customer_before_cooperation():
    settings = RelationshipSettings(cooperation_min_years=1.0)
    assert lifecycle(5, level=None, years_as_customer=0.5, settings=settings) is (
        Lifecycle.TRANSACTION
    )
    assert lifecycle(5, level=None, years_as_customer=1.0, settings=settings) is (
        Lifecycle.COOPERATION
    )


def test_every_lifecycle_stage_has_a_label():
    assert [LIFECYCLE_LABELS[s].zh for s in Lifecycle] == ["孕育阶段", "交易阶段", "合作阶段"]


def test_a_negative_lifecycle_input_is_refused():
    with pytest.raises(NegativeAmount, match="orders_won is negative: -1"):
        lifecycle(-1, level=None, years_as_customer=0)
    with pytest.raises(NegativeAmount, match=r"years_as_customer is negative: -0\.5"):
        lifecycle(1, level=None, years_as_customer=-0.5)


# --- resting on one person --------------------------------------------------------


def _linked(person: Person, *links: tuple[str, Strength], strength=Strength.NONE) -> Person:
    return Person(
        person.id,
        person.name,
        roles=person.roles,
        influence=person.influence,
        strength=strength,
        our_people=links,
    )


def test_every_good_link_to_the_key_people_through_one_rep_is_a_risk_named():
    people = [
        _linked(GM, ("wang", Strength.STRONG), ("chen", Strength.ACQUAINTED)),
        _linked(ENGINEER, ("wang", Strength.GOOD)),
        _linked(OPERATOR, ("chen", Strength.STRONG)),  # not a key person
    ]
    dependency = single_person_dependency(people)
    assert dependency.through == "wang"
    assert dependency.only_contact is None
    assert dependency.at_risk is True
    assert len(dependency.findings) == 1
    assert "wang" in dependency.findings[0].zh and "wang" in dependency.findings[0].en


def test_two_of_our_people_carrying_the_key_relationships_is_no_risk():
    people = [
        _linked(GM, ("wang", Strength.STRONG)),
        _linked(ENGINEER, ("chen", Strength.GOOD)),
    ]
    dependency = single_person_dependency(people)
    assert dependency == type(dependency)(None, None, ())
    assert dependency.at_risk is False


def test_only_one_customer_person_on_good_terms_is_a_risk_named():
    people = [
        _linked(GM, strength=Strength.GOOD),
        _linked(ENGINEER, ("wang", Strength.ACQUAINTED)),
        OPERATOR,
    ]
    dependency = single_person_dependency(people)
    assert dependency.only_contact == "Zhang"
    assert dependency.through is None
    assert "Zhang" in dependency.findings[0].zh
    assert dependency.findings[0].en.startswith("Only Zhang at the customer")


def test_one_rep_and_one_contact_give_both_findings():
    dependency = single_person_dependency([_linked(GM, ("wang", Strength.GOOD)), ENGINEER])
    assert (dependency.through, dependency.only_contact) == ("wang", "Zhang")
    assert len(dependency.findings) == 2


def test_no_good_relationship_at_all_is_no_dependency():
    dependency = single_person_dependency([_linked(GM, ("wang", Strength.ACQUAINTED))])
    assert dependency.findings == ()


# --- settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("business_lookback_days", 0),
        ("cost_warning_ratio", -0.01),
        ("cost_warning_ratio", float("nan")),
        ("cooperation_min_orders", 0),
        ("cooperation_min_years", -1.0),
    ],
)
def test_out_of_range_settings_are_refused_by_name(field, value):
    with pytest.raises(InvalidRelationshipSettings, match=field) as caught:
        RelationshipSettings(**{field: value})
    assert isinstance(caught.value, MethodError)
