import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.method import process
from kam.method.probability import InvalidProbabilitySettings, ProbabilitySettings, probability
from kam.method.types import (
    Attitude,
    Deal,
    Evidence,
    Outcome,
    Person,
    Role,
    Stage,
    Strength,
)

DAY = dt.date(2026, 11, 1)


def person(pid, *roles, attitude=Attitude.NEUTRAL, strength=Strength.GOOD, **kw):
    return Person(pid, pid, roles=frozenset(roles), attitude=attitude, strength=strength, **kw)


FULL_TEAM = (
    person("dm", Role.DECISION_MAKER),
    person("tech", Role.TECHNICAL),
    person("buyer", Role.PURCHASER),
    person("user", Role.USER),
)


def evidence_up_to(stage):
    """Evidence for every key node of the stages before ``stage``."""
    return tuple(
        Evidence(node.id, "rep", DAY)
        for definition in process.DEFAULT_SETTINGS.stages[: int(stage) - 1]
        for node in definition.key_nodes
    )


def deal(stage=Stage.PROPOSAL, people=FULL_TEAM, evidence=None, **kw):
    return Deal(
        "d1",
        "沥青搅拌站",
        Decimal("800000"),
        stage=stage,
        people=people,
        evidence=evidence_up_to(stage) if evidence is None else evidence,
        **kw,
    )


def test_a_well_mapped_deal_with_its_key_nodes_keeps_the_stage_probability():
    result = probability(deal(Stage.TENDER))
    assert result.stage_probability == 0.60
    assert result.factors == ()
    assert result.value == 0.60


def test_won_is_certain_and_lost_or_abandoned_is_zero_whatever_the_buying_center():
    assert probability(deal(Stage.IMPLEMENTATION, people=(), outcome=Outcome.WON)).value == 1.0
    assert probability(deal(people=(), outcome=Outcome.LOST)).value == 0.0
    assert probability(deal(outcome=Outcome.ABANDONED)).value == 0.0


def test_forcing_one_stage_past_its_key_nodes_halves_the_probability():
    # proposal 40%, customer evidenced only up to stage 2 -> one stage ahead -> 40% * 0.5 = 20%
    result = probability(deal(Stage.PROPOSAL, evidence=evidence_up_to(Stage.ENTRY)))
    assert [f.id for f in result.factors] == ["forced_advance"]
    assert result.factors[0].effect == pytest.approx(-0.20)
    assert result.value == pytest.approx(0.20)


def test_forcing_two_stages_applies_the_penalty_twice():
    # tender 60%, nothing past stage 2 -> 60% * 0.5 * 0.5 = 15%
    result = probability(deal(Stage.TENDER, evidence=evidence_up_to(Stage.ENTRY)))
    assert result.value == pytest.approx(0.15)


def test_the_penalty_is_a_setting():
    settings = process.ProcessSettings(forced_advance_penalty=0.8)
    result = probability(
        deal(Stage.PROPOSAL, evidence=evidence_up_to(Stage.ENTRY)), process_settings=settings
    )
    assert result.value == pytest.approx(0.32)  # 40% * 0.8


def test_no_decision_maker_caps_the_deal_at_twenty_percent():
    result = probability(deal(Stage.NEGOTIATION, people=FULL_TEAM[1:]))
    assert [f.id for f in result.factors] == ["no_decision_maker"]
    assert result.factors[0].effect == pytest.approx(0.20 - 0.80)
    assert result.value == 0.20
    assert "决策人" in result.factors[0].label.zh


def test_an_opposed_technical_person_caps_the_deal_at_ten_percent():
    people = (
        FULL_TEAM[0],
        person("tech", Role.TECHNICAL, attitude=Attitude.OPPONENT),
        *FULL_TEAM[2:],
    )
    result = probability(deal(Stage.TENDER, people=people))
    assert [f.id for f in result.factors] == ["technical_opposed"]
    assert result.value == 0.10


def test_an_uncovered_technical_person_caps_the_deal_at_thirty_percent():
    people = (
        FULL_TEAM[0],
        person("tech", Role.TECHNICAL, strength=Strength.ACQUAINTED),
        *FULL_TEAM[2:],
    )
    result = probability(deal(Stage.TENDER, people=people))
    assert [f.id for f in result.factors] == ["technical_not_covered"]
    assert result.value == 0.30


def test_a_cap_above_the_current_value_changes_nothing_and_is_not_listed():
    # development 10% is below every cap: no technical person, no decision maker, still 10%
    result = probability(deal(Stage.DEVELOPMENT, people=()))
    assert result.factors == ()
    assert result.value == 0.10


def test_collective_decision_with_leadership_unmapped_caps_at_thirty_percent():
    people = (
        *FULL_TEAM,
        person("deputy", leadership_member=True),  # a leadership member without the DM role
    )
    result = probability(deal(Stage.TENDER, people=people, collective_decision=True))
    assert "leadership_unmapped" in [f.id for f in result.factors]
    assert result.value == 0.30


def test_collective_decision_with_no_leadership_recorded_is_capped_too():
    result = probability(deal(Stage.TENDER, collective_decision=True))
    assert [f.id for f in result.factors] == ["leadership_unmapped"]


def test_penalty_and_caps_combine_and_each_shows_its_own_effect():
    # tender 60%, one stage ahead -> 30%; no decision maker -> capped at 20%
    result = probability(
        deal(Stage.TENDER, people=FULL_TEAM[1:], evidence=evidence_up_to(Stage.PROPOSAL))
    )
    assert [(f.id, round(f.effect, 2)) for f in result.factors] == [
        ("forced_advance", -0.30),
        ("no_decision_maker", -0.10),
    ]
    assert result.value == pytest.approx(0.20)
    assert result.stage_probability + sum(f.effect for f in result.factors) == pytest.approx(0.20)


def test_caps_are_settings_and_must_be_probabilities():
    result = probability(
        deal(Stage.NEGOTIATION, people=FULL_TEAM[1:]),
        settings=ProbabilitySettings(no_decision_maker_cap=0.5),
    )
    assert result.value == 0.5
    with pytest.raises(InvalidProbabilitySettings, match=r"technical_opposed_cap 1\.5"):
        ProbabilitySettings(technical_opposed_cap=1.5)


@given(
    stage=st.sampled_from(list(Stage)[:5]),
    evidenced_to=st.sampled_from(list(Stage)[:5]),
    attitude=st.sampled_from(list(Attitude)),
    strength=st.sampled_from(list(Strength)),
    with_dm=st.booleans(),
)
def test_the_factors_explain_the_whole_adjustment_and_never_raise_it(
    stage, evidenced_to, attitude, strength, with_dm
):
    people = (
        *((FULL_TEAM[0],) if with_dm else ()),
        person("tech", Role.TECHNICAL, attitude=attitude, strength=strength),
    )
    result = probability(deal(stage, people=people, evidence=evidence_up_to(evidenced_to)))
    assert 0.0 <= result.value <= result.stage_probability
    assert all(f.effect < 0 for f in result.factors)
    assert result.stage_probability + sum(f.effect for f in result.factors) == pytest.approx(
        result.value
    )
