import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.method import process
from kam.method.process import (
    DEFAULT_SETTINGS,
    DEFAULT_STAGES,
    DealClosed,
    GateNotMet,
    InvalidProcessSettings,
    InvalidTransition,
    KeyNode,
    ProcessSettings,
    ReasonRequired,
)
from kam.method.types import Deal, Evidence, Outcome, Override, Stage, Text

DAY = dt.date(2025, 3, 1)
STAGE_1 = ("need_confirmed", "budget_confirmed", "schedule_confirmed", "grade_given")
STAGE_2 = ("insider_found", "key_people_identified")
STAGE_3 = ("criteria_reflect_strengths", "proposal_accepted_by_technical")
STAGE_4 = ("bid_submitted", "shortlisted")
STAGE_5 = ("contract_signed",)
ALL_NODES = [n.id for d in DEFAULT_STAGES for n in d.key_nodes]


def make_deal(stage=Stage.DEVELOPMENT, nodes=(), **fields):
    evidence = tuple(Evidence(node=n, by="li", on=DAY) for n in nodes)
    return Deal(
        id="d1",
        name="Boiler retrofit",
        amount=Decimal("800000"),
        stage=stage,
        evidence=evidence,
        stage_entered_on=DAY,
        **fields,
    )


def ids(nodes):
    return tuple(n.id for n in nodes)


# --- the stage table ------------------------------------------------------------------


def test_the_six_stages_carry_the_default_probabilities_of_the_method():
    assert [process.stage_probability(s) for s in Stage] == [0.10, 0.20, 0.40, 0.60, 0.80, 1.0]


def test_each_stage_splits_its_key_node_into_checkable_items():
    assert [ids(d.key_nodes) for d in DEFAULT_STAGES] == [
        STAGE_1,
        STAGE_2,
        STAGE_3,
        STAGE_4,
        STAGE_5,
        ("acceptance", "payment"),
    ]


def test_a_stage_definition_names_the_customer_step_and_the_sales_stage_in_both_languages():
    negotiation = DEFAULT_SETTINGS.definition(Stage.NEGOTIATION)
    assert negotiation.customer_step == Text("购买承诺", "Purchase commitment")
    assert negotiation.name == Text("商务谈判阶段", "Business negotiation")
    assert negotiation.key_nodes[0].label.zh == "双方合同已签订"


def test_the_default_penalty_halves_the_chance_per_forced_gate():
    assert DEFAULT_SETTINGS.forced_advance_penalty == 0.5


def test_settings_need_the_six_stages_in_order():
    with pytest.raises(
        InvalidProcessSettings, match=r"six stages 1-6 in order, got \[1, 2, 3, 4, 5\]"
    ):
        ProcessSettings(stages=DEFAULT_STAGES[:5])
    swapped = (DEFAULT_STAGES[1], DEFAULT_STAGES[0], *DEFAULT_STAGES[2:])
    with pytest.raises(InvalidProcessSettings, match="in order"):
        ProcessSettings(stages=swapped)


def test_settings_refuse_a_key_node_id_used_twice():
    stage_2 = replace(
        DEFAULT_STAGES[1], key_nodes=(KeyNode("need_confirmed", Text("需求", "Need")),)
    )
    stages = (DEFAULT_STAGES[0], stage_2, *DEFAULT_STAGES[2:])
    with pytest.raises(InvalidProcessSettings, match="stage 2: key node id 'need_confirmed'"):
        ProcessSettings(stages=stages)


def test_settings_refuse_a_blank_key_node_id():
    stage_3 = replace(DEFAULT_STAGES[2], key_nodes=(KeyNode(" ", Text("空", "Blank")),))
    stages = (*DEFAULT_STAGES[:2], stage_3, *DEFAULT_STAGES[3:])
    with pytest.raises(InvalidProcessSettings, match="stage 3: a key node has an empty id"):
        ProcessSettings(stages=stages)


def test_settings_refuse_a_probability_outside_zero_to_one():
    stages = (replace(DEFAULT_STAGES[0], probability=-0.1), *DEFAULT_STAGES[1:])
    with pytest.raises(InvalidProcessSettings, match=r"stage 1: probability -0.1 is not in 0..1"):
        ProcessSettings(stages=stages)


def test_settings_refuse_a_probability_that_falls_from_one_stage_to_the_next():
    stages = (*DEFAULT_STAGES[:3], replace(DEFAULT_STAGES[3], probability=0.3), *DEFAULT_STAGES[4:])
    with pytest.raises(InvalidProcessSettings, match=r"stage 4: probability 0\.3 is below .* 0\.4"):
        ProcessSettings(stages=stages)


def test_settings_require_stage_six_to_be_won_for_certain():
    stages = (*DEFAULT_STAGES[:5], replace(DEFAULT_STAGES[5], probability=0.9))
    with pytest.raises(InvalidProcessSettings, match=r"stage 6: probability 0\.9 must be 1"):
        ProcessSettings(stages=stages)


def test_settings_refuse_a_penalty_outside_zero_to_one():
    with pytest.raises(
        InvalidProcessSettings, match=r"forced_advance_penalty 1\.5 is not in 0\.\.1"
    ):
        ProcessSettings(forced_advance_penalty=1.5)


def test_a_company_can_change_the_stage_probabilities():
    stages = tuple(
        replace(d, probability=p)
        for d, p in zip(DEFAULT_STAGES, [0.05, 0.15, 0.3, 0.5, 0.9, 1.0], strict=True)
    )
    settings = ProcessSettings(stages=stages)
    assert process.stage_probability(Stage.NEGOTIATION, settings=settings) == 0.9


# --- the gate -----------------------------------------------------------------------------


def test_a_new_deal_without_evidence_cannot_leave_development():
    gate = process.gate(make_deal())
    assert gate.allowed is False
    assert (gate.from_stage, gate.to_stage) == (Stage.DEVELOPMENT, Stage.ENTRY)
    assert ids(gate.missing) == STAGE_1
    assert gate.readiness == 0.0
    assert gate.reason.en == (
        "Before Sales entry, key nodes are still missing: Need confirmed, Budget confirmed, "
        "Schedule confirmed, Customer graded A/B/C/D. "
        "Forcing the deal on greatly lowers the chance of success."
    )
    assert gate.reason.zh.startswith("进入销售进入阶段前还缺关键节点:需求已确认、预算已确认")


def test_readiness_is_the_evidenced_share_of_the_required_nodes():
    gate = process.gate(make_deal(nodes=("need_confirmed", "budget_confirmed")))
    # 2 of the 4 stage-1 nodes
    assert gate.readiness == 0.5
    assert ids(gate.missing) == ("schedule_confirmed", "grade_given")


def test_a_deal_with_all_key_nodes_of_its_stage_may_move_on():
    gate = process.gate(make_deal(nodes=STAGE_1))
    assert gate.allowed is True
    assert gate.missing == ()
    assert gate.readiness == 1.0
    assert gate.reason == Text(
        "关键节点均已达成,可以从开发阶段推进到销售进入阶段。",
        "All key nodes are reached: can move from Development to Sales entry.",
    )


def test_evidence_of_unknown_nodes_does_not_open_a_gate():
    gate = process.gate(make_deal(nodes=("coffee_with_the_boss",)))
    assert gate.allowed is False
    assert gate.readiness == 0.0


def test_jumping_two_stages_needs_the_key_nodes_of_both_stages_left():
    gate = process.gate(make_deal(nodes=STAGE_1), to_stage=Stage.PROPOSAL)
    assert gate.allowed is False
    assert ids(gate.missing) == STAGE_2
    # 4 of the 6 nodes of stages 1 and 2
    assert gate.readiness == pytest.approx(4 / 6)


def test_moving_back_needs_no_key_node():
    gate = process.gate(make_deal(stage=Stage.TENDER), to_stage=Stage.ENTRY)
    assert gate.allowed is True
    assert gate.missing == ()
    assert gate.readiness == 1.0
    assert (
        gate.reason.en == "Can move back from Tender to Sales entry: moving back needs no key node."
    )


def test_a_stage_without_key_nodes_has_an_open_gate():
    stages = (replace(DEFAULT_STAGES[0], key_nodes=()), *DEFAULT_STAGES[1:])
    gate = process.gate(make_deal(), settings=ProcessSettings(stages=stages))
    assert gate.allowed is True
    assert gate.readiness == 1.0


def test_a_closed_deal_is_not_allowed_through_any_gate():
    lost = make_deal(stage=Stage.PROPOSAL, nodes=STAGE_1 + STAGE_2 + STAGE_3, outcome=Outcome.LOST)
    gate = process.gate(lost)
    assert gate.allowed is False
    assert gate.readiness == 1.0
    assert gate.reason == Text(
        "商机已丢单,不能再变更阶段;如需继续跟进,请先重新打开。",
        "The deal is lost and cannot change stage; reopen it first.",
    )
    assert process.gate(lost, to_stage=Stage.ENTRY).allowed is False


def test_a_move_to_the_stage_the_deal_is_in_is_refused():
    with pytest.raises(InvalidTransition, match="'d1' is already in stage 3"):
        process.gate(make_deal(stage=Stage.PROPOSAL), to_stage=Stage.PROPOSAL)


def test_there_is_no_stage_after_implementation():
    with pytest.raises(InvalidTransition, match="stage 6, the last stage"):
        process.gate(make_deal(stage=Stage.IMPLEMENTATION))


def test_a_stage_number_outside_one_to_six_is_refused():
    with pytest.raises(InvalidTransition, match="to_stage 7 is not a stage 1-6"):
        process.gate(make_deal(), to_stage=7)


def test_a_stage_can_be_given_as_its_number():
    assert process.gate(make_deal(nodes=STAGE_1), to_stage=2).to_stage is Stage.ENTRY


node_sets = st.sets(st.sampled_from(ALL_NODES))


@given(
    before=node_sets,
    added=node_sets,
    stage=st.sampled_from(list(Stage)),
    target=st.sampled_from(list(Stage)),
)
def test_adding_evidence_never_lowers_readiness_nor_closes_a_gate(before, added, stage, target):
    if stage == target:
        return
    deal = make_deal(stage=stage, nodes=sorted(before))
    more = make_deal(stage=stage, nodes=sorted(before | added))
    was = process.gate(deal, to_stage=target)
    now = process.gate(more, to_stage=target)
    assert now.readiness >= was.readiness
    assert now.allowed or not was.allowed
    assert now.allowed == (now.missing == ())


# --- advancing ----------------------------------------------------------------------------


def test_a_deal_with_its_key_nodes_advances_without_an_override():
    moved = process.advance(make_deal(nodes=STAGE_1), on=dt.date(2025, 3, 10), by="li")
    assert moved.stage is Stage.ENTRY
    assert moved.override is None
    assert moved.outcome is Outcome.OPEN
    assert moved.deal.stage is Stage.ENTRY
    assert moved.deal.stage_entered_on == dt.date(2025, 3, 10)
    assert moved.deal.overrides == ()
    assert moved.gate.allowed is True


def test_a_deal_missing_its_key_nodes_does_not_advance_without_a_reason():
    with pytest.raises(GateNotMet) as raised:
        process.advance(make_deal(nodes=("need_confirmed",)), on=DAY, by="li")
    assert ids(raised.value.missing) == STAGE_1[1:]
    assert raised.value.to_stage is Stage.ENTRY
    assert str(raised.value) == (
        "deal 'd1' cannot move to stage 2: key nodes missing: "
        "budget_confirmed, schedule_confirmed, grade_given"
    )


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_a_blank_reason_cannot_force_a_gate(reason):
    with pytest.raises(ReasonRequired, match="'d1': forcing it to stage 2 needs a reason"):
        process.advance(make_deal(), on=DAY, by="li", force_reason=reason)


def test_forcing_a_gate_with_a_reason_records_an_override():
    moved = process.advance(
        make_deal(nodes=STAGE_1[:3]),
        to_stage=Stage.PROPOSAL,
        on=dt.date(2025, 3, 5),
        by="wang",
        force_reason="  Tender announced early  ",
    )
    expected = Override(
        from_stage=Stage.DEVELOPMENT,
        to_stage=Stage.PROPOSAL,
        missing=("grade_given", *STAGE_2),
        reason="Tender announced early",
        by="wang",
        on=dt.date(2025, 3, 5),
    )
    assert moved.override == expected
    assert moved.deal.overrides == (expected,)
    assert moved.stage is Stage.PROPOSAL


def test_a_reason_given_for_an_open_gate_records_no_override():
    moved = process.advance(make_deal(nodes=STAGE_1), on=DAY, by="li", force_reason="")
    assert moved.override is None


def test_overrides_accumulate_on_the_deal():
    first = process.advance(make_deal(), on=DAY, by="li", force_reason="boss says so").deal
    second = process.advance(first, on=DAY, by="li", force_reason="again").deal
    assert [o.to_stage for o in second.overrides] == [Stage.ENTRY, Stage.PROPOSAL]


def test_moving_back_is_always_allowed_and_restarts_the_time_in_stage():
    moved = process.advance(
        make_deal(stage=Stage.TENDER), to_stage=Stage.PROPOSAL, on=dt.date(2025, 4, 1), by="li"
    )
    assert moved.stage is Stage.PROPOSAL
    assert moved.override is None
    assert moved.deal.stage_entered_on == dt.date(2025, 4, 1)


def test_reaching_implementation_wins_the_order():
    deal = make_deal(stage=Stage.NEGOTIATION, nodes=STAGE_5)
    moved = process.advance(deal, on=dt.date(2025, 6, 30), by="li")
    assert moved.stage is Stage.IMPLEMENTATION
    assert moved.outcome is Outcome.WON
    assert moved.deal.outcome is Outcome.WON
    assert moved.deal.closed_on == dt.date(2025, 6, 30)


@pytest.mark.parametrize("outcome", [Outcome.WON, Outcome.LOST, Outcome.ABANDONED])
def test_a_closed_deal_cannot_advance(outcome):
    closed = make_deal(stage=Stage.IMPLEMENTATION, outcome=outcome)
    with pytest.raises(DealClosed, match=f"'d1' is {outcome.value} and cannot change stage"):
        process.advance(closed, to_stage=Stage.NEGOTIATION, on=DAY, by="li")


def test_a_move_dated_before_the_deal_entered_its_stage_is_refused():
    with pytest.raises(InvalidTransition, match=r"date 2025-02-28 is before .* on 2025-03-01"):
        process.advance(make_deal(nodes=STAGE_1), on=dt.date(2025, 2, 28), by="li")


def test_a_deal_without_a_stage_entry_date_can_move_on_any_date():
    deal = replace(make_deal(nodes=STAGE_1), stage_entered_on=None)
    assert process.advance(deal, on=dt.date(2000, 1, 1), by="li").stage is Stage.ENTRY


# --- customer step and drift --------------------------------------------------------------


def test_without_evidence_the_customer_is_at_the_first_step():
    assert process.customer_step(make_deal(stage=Stage.TENDER)) is Stage.DEVELOPMENT


def test_the_customer_step_follows_the_complete_stages_in_order():
    assert process.customer_step(make_deal(nodes=STAGE_1)) is Stage.ENTRY
    # stage 3's nodes do not count while stage 2 is incomplete
    assert process.customer_step(make_deal(nodes=STAGE_1 + STAGE_3)) is Stage.ENTRY
    assert process.customer_step(make_deal(nodes=STAGE_1 + STAGE_2 + STAGE_3)) is Stage.TENDER


def test_the_customer_reaches_implementation_once_the_contract_is_signed():
    nodes = STAGE_1 + STAGE_2 + STAGE_3 + STAGE_4 + STAGE_5
    assert process.customer_step(make_deal(nodes=nodes)) is Stage.IMPLEMENTATION


def test_acceptance_and_payment_do_not_move_the_customer_past_implementation():
    assert process.customer_step(make_deal(nodes=ALL_NODES)) is Stage.IMPLEMENTATION


def test_a_deal_in_step_with_its_customer_has_no_drift():
    assert process.stage_drift(make_deal(stage=Stage.ENTRY, nodes=STAGE_1)) is None
    # behind the customer is not drift either
    assert process.stage_drift(make_deal(nodes=STAGE_1 + STAGE_2)) is None


def test_a_stage_set_ahead_of_the_evidence_drifts_without_an_override():
    drift = process.stage_drift(make_deal(stage=Stage.PROPOSAL, nodes=STAGE_1[:3]))
    assert drift.seller_stage is Stage.PROPOSAL
    assert drift.customer_step is Stage.DEVELOPMENT
    assert drift.stages_ahead == 2
    assert ids(drift.missing) == ("grade_given", *STAGE_2)
    assert drift.overridden is False
    assert drift.message.en == (
        "The sales stage (Proposal) is 2 stage(s) ahead of the customer's buying step "
        "(Internal need and project approval); key nodes missing: Customer graded A/B/C/D, "
        "Insider found, Key people identified. No forced advance was recorded."
    )
    assert drift.message.zh == (
        "销售阶段(提案阶段)领先客户采购步骤(内部需求和立项)2个阶段,"
        "缺关键节点:已判断客户级别、已找到内线、已识别关键人。没有强行推进的记录。"
    )


def test_a_forced_advance_shows_as_drift_with_its_override():
    moved = process.advance(make_deal(nodes=STAGE_1), on=DAY, by="li", force_reason="x").deal
    assert process.stage_drift(moved) is None
    forced = process.advance(moved, on=DAY, by="li", force_reason="tender is tomorrow").deal
    drift = process.stage_drift(forced)
    assert drift.stages_ahead == 1
    assert drift.overridden is True
    assert drift.message.en.endswith("The forced advance was recorded with a reason.")


def test_drift_is_reported_for_a_won_order_without_its_contract():
    won = make_deal(stage=Stage.IMPLEMENTATION, outcome=Outcome.WON)
    assert process.stage_drift(won).stages_ahead == 5


# --- probability --------------------------------------------------------------------------


def test_a_deal_in_step_has_its_stage_probability():
    deal = make_deal(stage=Stage.PROPOSAL, nodes=STAGE_1 + STAGE_2)
    assert process.deal_probability(deal) == 0.40


def test_each_gate_forced_halves_the_probability():
    # stage 3 with nothing evidenced: 2 gates forced, 0.40 x 0.5 x 0.5
    assert process.deal_probability(make_deal(stage=Stage.PROPOSAL)) == pytest.approx(0.10)


def test_evidence_recorded_after_forcing_lifts_the_penalty():
    deal = make_deal(stage=Stage.PROPOSAL, nodes=STAGE_1)
    assert process.deal_probability(deal) == pytest.approx(0.20)
    caught_up = make_deal(stage=Stage.PROPOSAL, nodes=STAGE_1 + STAGE_2)
    assert process.deal_probability(caught_up) == pytest.approx(0.40)


def test_closed_deals_are_certain():
    assert process.deal_probability(make_deal(outcome=Outcome.WON)) == 1.0
    assert process.deal_probability(make_deal(outcome=Outcome.LOST)) == 0.0
    assert process.deal_probability(make_deal(outcome=Outcome.ABANDONED)) == 0.0


def test_the_penalty_is_a_setting():
    settings = ProcessSettings(forced_advance_penalty=0.8)
    # stage 2 one gate ahead: 0.20 x 0.8
    probability = process.deal_probability(make_deal(stage=Stage.ENTRY), settings=settings)
    assert probability == pytest.approx(0.16)


# --- closing and reopening ----------------------------------------------------------------


def test_a_lost_deal_keeps_its_stage_and_the_reason():
    change = process.close_lost(
        make_deal(stage=Stage.TENDER), reason=" Competitor 20% cheaper ", on=dt.date(2025, 5, 2)
    )
    assert change.outcome is Outcome.LOST
    assert change.reason == "Competitor 20% cheaper"
    assert change.on == dt.date(2025, 5, 2)
    assert change.deal.outcome is Outcome.LOST
    assert change.deal.stage is Stage.TENDER
    assert change.deal.closed_on == dt.date(2025, 5, 2)


def test_an_abandoned_deal_keeps_its_stage():
    change = process.close_abandoned(
        make_deal(stage=Stage.ENTRY), reason="project cancelled", on=DAY
    )
    assert change.deal.outcome is Outcome.ABANDONED
    assert change.deal.stage is Stage.ENTRY


@pytest.mark.parametrize("close", [process.close_lost, process.close_abandoned])
def test_closing_needs_a_reason(close):
    with pytest.raises(ReasonRequired, match=r"'d1': marking it (lost|abandoned) needs a reason"):
        close(make_deal(), reason="  ", on=DAY)


@pytest.mark.parametrize("close", [process.close_lost, process.close_abandoned])
def test_a_closed_deal_cannot_be_closed_again(close):
    with pytest.raises(DealClosed, match="'d1' is already won"):
        close(make_deal(outcome=Outcome.WON), reason="r", on=DAY)


def test_closing_before_the_deal_entered_its_stage_is_refused():
    with pytest.raises(InvalidTransition, match="before the deal entered its stage"):
        process.close_lost(make_deal(), reason="r", on=dt.date(2025, 1, 1))


def test_a_lost_deal_reopens_at_its_stage_with_a_fresh_time_in_stage():
    lost = make_deal(stage=Stage.TENDER, outcome=Outcome.LOST, closed_on=dt.date(2025, 4, 1))
    change = process.reopen(lost, reason="re-tender announced", on=dt.date(2025, 9, 1))
    assert change.outcome is Outcome.OPEN
    assert change.deal.is_open
    assert change.deal.stage is Stage.TENDER
    assert change.deal.closed_on is None
    assert change.deal.stage_entered_on == dt.date(2025, 9, 1)


def test_an_abandoned_deal_can_be_reopened():
    abandoned = make_deal(outcome=Outcome.ABANDONED)
    assert process.reopen(abandoned, reason="budget back", on=DAY).deal.is_open


@pytest.mark.parametrize("outcome", [Outcome.OPEN, Outcome.WON])
def test_only_lost_or_abandoned_deals_reopen(outcome):
    with pytest.raises(InvalidTransition, match=f"'d1' is {outcome.value}: only lost"):
        process.reopen(make_deal(outcome=outcome), reason="r", on=DAY)


def test_reopening_needs_a_reason():
    with pytest.raises(ReasonRequired, match="marking it open needs a reason"):
        process.reopen(make_deal(outcome=Outcome.LOST), reason="", on=DAY)
