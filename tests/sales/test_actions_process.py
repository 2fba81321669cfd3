"""Key-node evidence and stage moves: record_evidence, remove_evidence, advance_stage,
close_opportunity and reopen_opportunity, each through kam.method.process."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import prefetch_related_objects
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kam.history.models import Change
from kam.history.record import history_of
from kam.method import probability, process
from kam.org.models import CompanySettings
from kam.sales import actions
from kam.sales.actions import StaleRecord
from kam.sales.models import (
    OPPORTUNITY_PREFETCH,
    KeyNodeEvidence,
    Opportunity,
    StageOverride,
    opportunity_to_deal,
)

from . import factories as f
from .factories import PAGE, STAGE_1_NODES, TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep):
    return f.opportunity(rep, f.account(rep))


def _method_deal(opportunity):
    opportunity = Opportunity.objects.get(pk=opportunity.pk)
    prefetch_related_objects([opportunity], *OPPORTUNITY_PREFETCH)
    return opportunity_to_deal(opportunity)


def test_evidence_keeps_who_when_and_the_note_and_shows_in_the_deals_history(rep, deal):
    evidence = actions.record_evidence(
        deal, node="need_confirmed", on=TODAY, note="技术协议已确认", acting_user=rep, source=PAGE
    )

    assert (evidence.by, evidence.on, evidence.note) == (rep, TODAY, "技术协议已确认")
    change = history_of(deal).first()
    assert change.content_type.model == "keynodeevidence"
    assert change.changes["node"] == [None, "need_confirmed"]
    assert (change.user, change.source) == (rep, "page")
    assert _method_deal(deal).evidenced_nodes == {"need_confirmed"}


def test_evidence_for_a_node_the_company_does_not_have_is_refused(rep, deal):
    with pytest.raises(ValidationError) as refused:
        actions.record_evidence(deal, node="lunch_eaten", on=TODAY, acting_user=rep, source=PAGE)

    assert "node" in refused.value.message_dict
    assert not KeyNodeEvidence.objects.exists()


def test_a_node_is_evidenced_once(rep, deal):
    f.evidence(rep, deal, "need_confirmed")

    with pytest.raises(ValidationError) as refused:
        f.evidence(rep, deal, "need_confirmed")

    assert "already has evidence" in refused.value.message_dict["node"][0]


def test_removed_evidence_leaves_a_history_row_with_what_was_removed(rep, deal):
    f.evidence(rep, deal, "need_confirmed")

    actions.remove_evidence(deal, node="need_confirmed", acting_user=rep, source=PAGE)

    assert not KeyNodeEvidence.objects.exists()
    change = history_of(deal).first()
    assert change.action == Change.Action.REMOVE
    assert change.changes["node"] == ["need_confirmed", None]
    with pytest.raises(ValidationError):
        actions.remove_evidence(deal, node="need_confirmed", acting_user=rep, source=PAGE)


def test_advancing_without_the_key_nodes_is_refused_naming_them_in_english(rep, deal):
    f.evidence(rep, deal, "need_confirmed", "budget_confirmed")

    with pytest.raises(ValidationError) as refused:
        actions.advance_stage(deal, on=TODAY, acting_user=rep, source=PAGE)

    message = refused.value.message_dict["to_stage"][0]
    assert "Schedule confirmed" in message
    assert "Customer graded A/B/C/D" in message
    assert "Budget confirmed" not in message
    assert Opportunity.objects.get().stage == 1


def test_the_refusal_names_the_missing_nodes_in_chinese_for_a_chinese_user(rep, deal):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        actions.advance_stage(deal, on=TODAY, acting_user=rep, source=PAGE)

    message = refused.value.message_dict["to_stage"][0]
    assert "需求已确认" in message
    assert "已判断客户级别" in message


def test_advancing_through_the_gate_moves_the_deal_and_records_the_change(rep, deal):
    f.evidence(rep, deal, *STAGE_1_NODES)

    moved = actions.advance_stage(deal, on=TODAY, acting_user=rep, source=PAGE)

    assert (moved.stage, moved.version, moved.stage_entered_on) == (2, 2, TODAY)
    change = history_of(deal, parts=False).first()
    assert change.changes["stage"] == [1, 2]
    assert (change.version, change.user) == (2, rep)
    assert not StageOverride.objects.exists()


def test_a_forced_advance_keeps_the_override_and_the_method_lowers_the_probability(rep, deal):
    moved = actions.advance_stage(
        deal,
        to_stage=3,
        force_reason="客户总工口头承诺,进度紧",
        on=TODAY,
        acting_user=rep,
        source=PAGE,
    )

    assert moved.stage == 3
    override = StageOverride.objects.get()
    assert (override.from_stage, override.to_stage, override.by) == (1, 3, rep)
    assert set(override.missing) == {*STAGE_1_NODES, "insider_found", "key_people_identified"}
    assert override.reason == "客户总工口头承诺,进度紧"
    assert history_of(deal, parts=False).first().note == "客户总工口头承诺,进度紧"
    method = CompanySettings.load().to_method()
    seen = probability.probability(_method_deal(deal), process_settings=method.process)
    assert seen.stage_probability == process.stage_probability(3, settings=method.process)
    forced = next(factor for factor in seen.factors if factor.id == "forced_advance")
    assert forced.effect < 0
    assert seen.value < seen.stage_probability


def test_forcing_needs_a_real_reason(rep, deal):
    with pytest.raises(ValidationError) as refused:
        actions.advance_stage(deal, force_reason="  ", on=TODAY, acting_user=rep, source=PAGE)

    assert "force_reason" in refused.value.message_dict
    assert not StageOverride.objects.exists()


def test_reaching_stage_six_wins_the_deal(rep, deal):
    won = actions.advance_stage(
        deal, to_stage=6, force_reason="合同已签", on=TODAY, acting_user=rep, source=PAGE
    )

    assert (won.stage, won.outcome, won.closed_on) == (6, "won", TODAY)
    with pytest.raises(ValidationError) as refused:
        actions.advance_stage(won, to_stage=5, on=TODAY, acting_user=rep, source=PAGE)
    assert "reopen" in refused.value.message_dict["to_stage"][0]


def test_moving_back_needs_no_key_node(rep, deal):
    actions.advance_stage(
        deal, to_stage=4, force_reason="补录", on=TODAY, acting_user=rep, source=PAGE
    )

    back = actions.advance_stage(deal, to_stage=2, on=TODAY, acting_user=rep, source=PAGE)

    assert back.stage == 2
    assert StageOverride.objects.count() == 1


def test_a_move_to_the_same_stage_or_dated_before_the_stage_began_names_the_field(rep, deal):
    with pytest.raises(ValidationError) as same:
        actions.advance_stage(deal, to_stage=1, on=TODAY, acting_user=rep, source=PAGE)
    assert "to_stage" in same.value.message_dict

    f.evidence(rep, deal, *STAGE_1_NODES)
    with pytest.raises(ValidationError) as early:
        actions.advance_stage(deal, on=TODAY - dt.timedelta(days=1), acting_user=rep, source=PAGE)
    assert "on" in early.value.message_dict


def test_an_advance_from_a_stale_page_is_refused_when_the_stage_moved_since(rep, teammate, deal):
    f.evidence(rep, deal, *STAGE_1_NODES)
    actions.advance_stage(deal, on=TODAY, acting_user=teammate, source=PAGE)

    with pytest.raises(StaleRecord) as refused:
        actions.advance_stage(deal, on=TODAY, acting_user=rep, source=PAGE, expected_version=1)

    assert "stage" in refused.value.conflicts
    assert Opportunity.objects.get().stage == 2


def test_an_advance_merges_with_an_edit_of_other_fields(rep, teammate, deal):
    f.evidence(rep, deal, *STAGE_1_NODES)
    actions.update_record(
        deal,
        acting_user=teammate,
        source=PAGE,
        expected_version=1,
        changes={"competitors": "某外资品牌"},
    )

    moved = actions.advance_stage(deal, on=TODAY, acting_user=rep, source=PAGE, expected_version=1)

    assert (moved.stage, moved.competitors, moved.version) == (2, "某外资品牌", 3)


def test_closing_as_lost_keeps_the_reason_and_the_stage(rep, deal):
    lost = actions.close_opportunity(
        deal, outcome="lost", reason="价格高于竞争对手 8%", on=TODAY, acting_user=rep, source=PAGE
    )

    assert (lost.outcome, lost.closed_on, lost.stage) == ("lost", TODAY, 1)
    assert lost.close_reason == "价格高于竞争对手 8%"
    change = history_of(deal, parts=False).first()
    assert change.changes["outcome"] == ["open", "lost"]
    assert change.note == "价格高于竞争对手 8%"


def test_closing_needs_a_reason_and_a_known_outcome(rep, deal):
    with pytest.raises(ValidationError) as no_reason:
        actions.close_opportunity(
            deal, outcome="abandoned", reason=" ", on=TODAY, acting_user=rep, source=PAGE
        )
    assert "reason" in no_reason.value.message_dict

    with pytest.raises(ValidationError) as won:
        actions.close_opportunity(
            deal, outcome="won", reason="x", on=TODAY, acting_user=rep, source=PAGE
        )
    assert "outcome" in won.value.message_dict
    assert Opportunity.objects.get().outcome == "open"


def test_a_closed_deal_is_not_closed_again(rep, deal):
    actions.close_opportunity(
        deal, outcome="abandoned", reason="项目取消", on=TODAY, acting_user=rep, source=PAGE
    )

    with pytest.raises(ValidationError) as refused:
        actions.close_opportunity(
            deal, outcome="lost", reason="x", on=TODAY, acting_user=rep, source=PAGE
        )

    assert "outcome" in refused.value.message_dict


def test_reopening_a_lost_deal_brings_it_back_open_in_its_stage(rep, deal):
    actions.close_opportunity(
        deal, outcome="lost", reason="预算冻结", on=TODAY, acting_user=rep, source=PAGE
    )

    reopened = actions.reopen_opportunity(
        deal, reason="预算重新批复", on=TODAY, acting_user=rep, source=PAGE
    )

    assert (reopened.outcome, reopened.closed_on, reopened.close_reason) == ("open", None, "")
    assert history_of(deal, parts=False).first().changes["close_reason"] == ["预算冻结", ""]


def test_an_open_deal_cannot_be_reopened(rep, deal):
    with pytest.raises(ValidationError) as refused:
        actions.reopen_opportunity(deal, reason="x", on=TODAY, acting_user=rep, source=PAGE)

    assert "outcome" in refused.value.message_dict


def test_a_deal_in_the_recycle_bin_does_not_move(rep, deal):
    f.evidence(rep, deal, *STAGE_1_NODES)
    actions.delete_record(deal, acting_user=rep, source=PAGE)

    with pytest.raises(ValidationError):
        actions.advance_stage(deal, on=TODAY, acting_user=rep, source=PAGE)


def test_advancing_costs_the_same_queries_whatever_the_size_of_the_buying_center(rep):
    def queries_to_advance(people):
        account = f.account(rep, name=f"客户{people}")
        deal = f.opportunity(rep, account)
        f.evidence(rep, deal, *STAGE_1_NODES)
        for i in range(people):
            person = f.contact(rep, account, name=f"联系人{i}")
            actions.set_familiarity(person, rep, 2, acting_user=rep, source=PAGE)
            actions.set_buying_center_entry(
                deal, person, roles=["user"], acting_user=rep, source=PAGE
            )
        with CaptureQueriesContext(connection) as queries:
            actions.advance_stage(deal, on=TODAY, acting_user=rep, source=PAGE)
        return len(queries)

    assert queries_to_advance(1) == queries_to_advance(6)
