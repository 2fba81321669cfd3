"""The standard process (标准流程策略, METHOD.md §3): six stages, each left only
through its key nodes (关键节点).

The customer buys in six steps and the seller mirrors them with six stages.
Key nodes are evidence of where the *customer* stands: a deal leaves stage N
only when every key node of stage N is evidenced (``Deal.evidence``). A seller
may force a deal past a missing node, but only with a reason, which is kept as
an ``Override``; forcing "greatly lowers the chance of success"
(``ProcessSettings.forced_advance_penalty``).

The functions are pure: a state change (``advance``, ``close_lost``,
``close_abandoned``, ``reopen``) returns the deal as it stands afterwards, and
the application stores it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from kam.method.types import Deal, MethodError, Outcome, Override, Stage, Text


@dataclass(frozen=True)
class KeyNode:
    """One checkable milestone of a stage; ``id`` is what ``Evidence.node`` names."""

    id: str
    label: Text


@dataclass(frozen=True)
class StageDefinition:
    """One row of METHOD.md's process table, with the stage's default win probability."""

    stage: Stage
    customer_step: Text
    name: Text
    main_work: Text
    key_nodes: tuple[KeyNode, ...]
    probability: float


def _node(node_id: str, zh: str, en: str) -> KeyNode:
    return KeyNode(node_id, Text(zh, en))


DEFAULT_STAGES: tuple[StageDefinition, ...] = (
    StageDefinition(
        Stage.DEVELOPMENT,
        Text("内部需求和立项", "Internal need and project approval"),
        Text("开发阶段", "Development"),
        Text(
            "寻找客户线索;评估需求、项目进度、预算、竞争、决策流程和优先评估项;"
            "判断客户级别(A/B/C/D)",
            "Find leads; evaluate the need, schedule, budget, competition, decision process "
            "and priority criteria; grade the customer A/B/C/D",
        ),
        (
            _node("need_confirmed", "需求已确认", "Need confirmed"),
            _node("budget_confirmed", "预算已确认", "Budget confirmed"),
            _node("schedule_confirmed", "项目进度已确认", "Schedule confirmed"),
            _node("grade_given", "已判断客户级别", "Customer graded A/B/C/D"),
        ),
        0.10,
    ),
    StageDefinition(
        Stage.ENTRY,
        Text("初步调查、筛选供应商", "Preliminary supplier survey and screening"),
        Text("销售进入阶段", "Sales entry"),
        Text(
            "理清客户组织结构和角色,与关键人建立良好关系",
            "Map the customer's organisation and roles; build relationships with the key people",
        ),
        (
            _node("insider_found", "已找到内线", "Insider found"),
            _node("key_people_identified", "已识别关键人", "Key people identified"),
        ),
        0.20,
    ),
    StageDefinition(
        Stage.PROPOSAL,
        Text("制定采购指标", "Set the purchase criteria"),
        Text("提案阶段", "Proposal"),
        Text(
            "影响客户采购标准,提供解决方案",
            "Influence the purchase criteria; offer the solution",
        ),
        (
            _node(
                "criteria_reflect_strengths",
                "采购指标体现我方优势",
                "Criteria reflect our strengths",
            ),
            _node(
                "proposal_accepted_by_technical",
                "方案获技术选型人认可",
                "Proposal accepted by the technical person",
            ),
        ),
        0.40,
    ),
    StageDefinition(
        Stage.TENDER,
        Text("招标、评标", "Tender and evaluation"),
        Text("投标阶段", "Tender"),
        Text("投标", "Bid"),
        (
            _node("bid_submitted", "标书已提交", "Bid submitted"),
            _node("shortlisted", "已入围", "Shortlisted"),
        ),
        0.60,
    ),
    StageDefinition(
        Stage.NEGOTIATION,
        Text("购买承诺", "Purchase commitment"),
        Text("商务谈判阶段", "Business negotiation"),
        Text("商务条款和价格谈判", "Negotiate terms and price"),
        (_node("contract_signed", "双方合同已签订", "Contract signed"),),
        0.80,
    ),
    StageDefinition(
        Stage.IMPLEMENTATION,
        Text("安装实施", "Installation and implementation"),
        Text("工程实施阶段", "Implementation"),
        Text("交付、安装、验收", "Deliver, install, get acceptance"),
        (
            _node("acceptance", "客户已验收", "Accepted by the customer"),
            _node("payment", "已回款", "Payment received"),
        ),
        1.0,
    ),
)


class InvalidProcessSettings(MethodError):
    """The stage table or the penalty of ``ProcessSettings`` is not usable."""


class InvalidTransition(MethodError):
    """A move that makes no sense: to the same stage, past stage 6, back in time, ..."""


class DealClosed(MethodError):
    """The deal is won, lost or abandoned and cannot move (reopen a lost one first)."""


class ReasonRequired(MethodError):
    """A forced advance or a closure was given an empty reason."""


class GateNotMet(MethodError):
    """The key nodes needed to leave the stage are missing and no reason to force was given."""

    def __init__(self, missing: tuple[KeyNode, ...], *, deal_id: str, to_stage: Stage) -> None:
        self.missing = missing
        self.deal_id = deal_id
        self.to_stage = to_stage
        ids = ", ".join(node.id for node in missing)
        super().__init__(
            f"deal {deal_id!r} cannot move to stage {int(to_stage)}: key nodes missing: {ids}"
        )


@dataclass(frozen=True)
class ProcessSettings:
    """The six stages and what forcing a gate costs.

    ``forced_advance_penalty`` multiplies a deal's win probability once for every
    gate it was pushed through without its key nodes: forcing "greatly lowers the
    chance of success" (强行进入下一阶段,成功概率大大降低), 0.5 halves it.
    Probabilities must be in 0..1 and never fall from one stage to the next;
    stage 6 is a won order, so its probability is 1.
    """

    stages: tuple[StageDefinition, ...] = DEFAULT_STAGES
    forced_advance_penalty: float = 0.5

    def __post_init__(self) -> None:
        if tuple(d.stage for d in self.stages) != tuple(Stage):
            found = [int(d.stage) for d in self.stages]
            raise InvalidProcessSettings(f"stages must be the six stages 1-6 in order, got {found}")
        seen: set[str] = set()
        previous = 0.0
        for definition in self.stages:
            where = f"stage {int(definition.stage)}"
            for node in definition.key_nodes:
                if not node.id.strip():
                    raise InvalidProcessSettings(f"{where}: a key node has an empty id")
                if node.id in seen:
                    raise InvalidProcessSettings(f"{where}: key node id {node.id!r} is repeated")
                seen.add(node.id)
            p = definition.probability
            if not 0.0 <= p <= 1.0:
                raise InvalidProcessSettings(f"{where}: probability {p!r} is not in 0..1")
            if p < previous:
                raise InvalidProcessSettings(
                    f"{where}: probability {p!r} is below the previous stage's {previous!r}"
                )
            previous = p
        if self.stages[-1].probability != 1.0:
            raise InvalidProcessSettings(
                f"stage 6: probability {self.stages[-1].probability!r} must be 1 (the order is won)"
            )
        if not 0.0 <= self.forced_advance_penalty <= 1.0:
            raise InvalidProcessSettings(
                f"forced_advance_penalty {self.forced_advance_penalty!r} is not in 0..1"
            )

    def definition(self, stage: Stage) -> StageDefinition:
        """The definition of one stage."""
        return self.stages[int(stage) - 1]


DEFAULT_SETTINGS = ProcessSettings()


@dataclass(frozen=True)
class Gate:
    """Whether a deal may move from its stage to ``to_stage``.

    ``missing`` lists every unevidenced key node of every stage being left
    (``from_stage`` up to the stage before ``to_stage``); ``readiness`` is the
    evidenced fraction of those nodes (1.0 when none are required).
    """

    from_stage: Stage
    to_stage: Stage
    allowed: bool
    missing: tuple[KeyNode, ...]
    readiness: float
    reason: Text


@dataclass(frozen=True)
class Advance:
    """The result of a move: the deal afterwards, and the override when it was forced."""

    deal: Deal
    stage: Stage
    outcome: Outcome
    override: Override | None
    gate: Gate


@dataclass(frozen=True)
class Drift:
    """The seller's stage runs ahead of the customer's evidenced buying step.

    ``overridden`` is true when every missing node was named in a recorded
    override, i.e. the seller forced the gates with a reason; false when the
    stage was set some other way (e.g. imported) or evidence was withdrawn.
    """

    seller_stage: Stage
    customer_step: Stage
    stages_ahead: int
    missing: tuple[KeyNode, ...]
    overridden: bool
    message: Text


@dataclass(frozen=True)
class OutcomeChange:
    """A deal closed as lost or abandoned, or reopened, with the reason given."""

    deal: Deal
    outcome: Outcome
    reason: str
    on: dt.date


_OUTCOME_NAMES = {
    Outcome.OPEN: Text("进行中", "open"),
    Outcome.WON: Text("赢单", "won"),
    Outcome.LOST: Text("丢单", "lost"),
    Outcome.ABANDONED: Text("放弃", "abandoned"),
}


def stage_probability(stage: Stage, *, settings: ProcessSettings = DEFAULT_SETTINGS) -> float:
    """The default win probability of a stage (10/20/40/60/80%, stage 6 = 100%)."""
    return settings.definition(stage).probability


def _required(from_stage: Stage, to_stage: Stage, settings: ProcessSettings) -> list[KeyNode]:
    return [
        node
        for stage in range(from_stage, to_stage)
        for node in settings.stages[stage - 1].key_nodes
    ]


def _missing(deal: Deal, nodes: list[KeyNode]) -> tuple[KeyNode, ...]:
    evidenced = deal.evidenced_nodes
    return tuple(node for node in nodes if node.id not in evidenced)


def _labels(nodes: tuple[KeyNode, ...]) -> Text:
    return Text("、".join(n.label.zh for n in nodes), ", ".join(n.label.en for n in nodes))


def _target(deal: Deal, to_stage: Stage | int | None) -> Stage:
    if to_stage is None:
        if deal.stage is Stage.IMPLEMENTATION:
            raise InvalidTransition(f"deal {deal.id!r} is in stage 6, the last stage")
        return Stage(deal.stage + 1)
    try:
        target = Stage(to_stage)
    except ValueError:
        raise InvalidTransition(
            f"deal {deal.id!r}: to_stage {to_stage!r} is not a stage 1-6"
        ) from None
    if target == deal.stage:
        raise InvalidTransition(f"deal {deal.id!r} is already in stage {int(target)}")
    return target


def gate(
    deal: Deal,
    *,
    to_stage: Stage | None = None,
    settings: ProcessSettings = DEFAULT_SETTINGS,
) -> Gate:
    """Whether ``deal`` may move to ``to_stage`` (default: the next stage).

    Moving forward needs every key node of every stage being left; moving back
    needs nothing. A closed deal (won, lost, abandoned) gets ``allowed=False``
    with that reason, whatever its evidence: it must be reopened first.
    Raises ``InvalidTransition`` for a move to the deal's own stage or past stage 6.
    """
    target = _target(deal, to_stage)
    to_name = settings.definition(target).name
    from_name = settings.definition(deal.stage).name
    if target < deal.stage:
        missing: tuple[KeyNode, ...] = ()
        readiness = 1.0
    else:
        required = _required(deal.stage, target, settings)
        missing = _missing(deal, required)
        readiness = 1.0 if not required else 1 - len(missing) / len(required)
    if not deal.is_open:
        outcome = _OUTCOME_NAMES[deal.outcome]
        return Gate(
            deal.stage,
            target,
            False,
            missing,
            readiness,
            Text(
                f"商机已{outcome.zh},不能再变更阶段;如需继续跟进,请先重新打开。",
                f"The deal is {outcome.en} and cannot change stage; reopen it first.",
            ),
        )
    if target < deal.stage:
        reason = Text(
            f"可以从{from_name.zh}退回到{to_name.zh}:退回不需要关键节点。",
            f"Can move back from {from_name.en} to {to_name.en}: moving back needs no key node.",
        )
    elif missing:
        labels = _labels(missing)
        reason = Text(
            f"进入{to_name.zh}前还缺关键节点:{labels.zh}。强行推进会大大降低成功概率。",
            f"Before {to_name.en}, key nodes are still missing: {labels.en}. "
            "Forcing the deal on greatly lowers the chance of success.",
        )
    else:
        reason = Text(
            f"关键节点均已达成,可以从{from_name.zh}推进到{to_name.zh}。",
            f"All key nodes are reached: can move from {from_name.en} to {to_name.en}.",
        )
    return Gate(deal.stage, target, not missing, missing, readiness, reason)


def _check_date(deal: Deal, on: dt.date) -> None:
    if deal.stage_entered_on is not None and on < deal.stage_entered_on:
        raise InvalidTransition(
            f"deal {deal.id!r}: date {on} is before the deal entered its stage "
            f"on {deal.stage_entered_on}"
        )


def advance(
    deal: Deal,
    *,
    to_stage: Stage | None = None,
    on: dt.date,
    by: str,
    force_reason: str | None = None,
    settings: ProcessSettings = DEFAULT_SETTINGS,
) -> Advance:
    """Move ``deal`` to ``to_stage`` (default: the next stage) on ``on``, done by ``by``.

    When the gate is not met the move needs ``force_reason``: without one it
    raises ``GateNotMet``; a blank one raises ``ReasonRequired``; otherwise the
    move is recorded as an ``Override`` naming the missing nodes. The reason is
    ignored when the gate is met. Reaching stage 6 makes the deal WON, closed on
    ``on``. Raises ``DealClosed`` for a closed deal and ``InvalidTransition`` for
    a move to its own stage, past stage 6, or dated before it entered its stage.
    """
    if not deal.is_open:
        raise DealClosed(f"deal {deal.id!r} is {deal.outcome.value} and cannot change stage")
    checked = gate(deal, to_stage=to_stage, settings=settings)
    _check_date(deal, on)
    override = None
    if not checked.allowed:
        if force_reason is None:
            raise GateNotMet(checked.missing, deal_id=deal.id, to_stage=checked.to_stage)
        if not force_reason.strip():
            raise ReasonRequired(
                f"deal {deal.id!r}: forcing it to stage {int(checked.to_stage)} needs a reason"
            )
        override = Override(
            from_stage=deal.stage,
            to_stage=checked.to_stage,
            missing=tuple(node.id for node in checked.missing),
            reason=force_reason.strip(),
            by=by,
            on=on,
        )
    won = checked.to_stage is Stage.IMPLEMENTATION
    moved = replace(
        deal,
        stage=checked.to_stage,
        stage_entered_on=on,
        outcome=Outcome.WON if won else deal.outcome,
        closed_on=on if won else deal.closed_on,
        overrides=deal.overrides + ((override,) if override else ()),
    )
    return Advance(moved, moved.stage, moved.outcome, override, checked)


def customer_step(deal: Deal, *, settings: ProcessSettings = DEFAULT_SETTINGS) -> Stage:
    """The customer's buying step as the evidence shows it.

    The highest stage S such that every key node of every stage before S is
    evidenced: stage 1 when nothing is, stage 6 when stages 1-5 are complete.
    """
    evidenced = deal.evidenced_nodes
    step = Stage.DEVELOPMENT
    for definition in settings.stages[:-1]:
        if any(node.id not in evidenced for node in definition.key_nodes):
            break
        step = Stage(definition.stage + 1)
    return step


def stage_drift(deal: Deal, *, settings: ProcessSettings = DEFAULT_SETTINGS) -> Drift | None:
    """How far the seller's stage runs ahead of the customer's step; None when it does not.

    Reported for any outcome: a won order whose contract was never evidenced
    still drifted.
    """
    step = customer_step(deal, settings=settings)
    if deal.stage <= step:
        return None
    missing = _missing(deal, _required(Stage.DEVELOPMENT, deal.stage, settings))
    forced_ids = {node_id for o in deal.overrides for node_id in o.missing}
    overridden = all(node.id in forced_ids for node in missing)
    ahead = deal.stage - step
    seller = settings.definition(deal.stage).name
    customer = settings.definition(step).customer_step
    labels = _labels(missing)
    if overridden:
        how = Text("已记录强行推进的理由。", "The forced advance was recorded with a reason.")
    else:
        how = Text("没有强行推进的记录。", "No forced advance was recorded.")
    message = Text(
        f"销售阶段({seller.zh})领先客户采购步骤({customer.zh}){ahead}个阶段,"
        f"缺关键节点:{labels.zh}。{how.zh}",
        f"The sales stage ({seller.en}) is {ahead} stage(s) ahead of the customer's "
        f"buying step ({customer.en}); key nodes missing: {labels.en}. {how.en}",
    )
    return Drift(deal.stage, step, ahead, missing, overridden, message)


def deal_probability(deal: Deal, *, settings: ProcessSettings = DEFAULT_SETTINGS) -> float:
    """The win probability of a deal before any buying-center adjustment.

    Won = 1, lost or abandoned = 0. An open deal gets its stage's probability,
    multiplied by ``forced_advance_penalty`` once for every stage its sales
    stage runs ahead of the customer's evidenced step (each gate passed without
    its key nodes is one forced advance). Evidence recorded later lifts it back.
    """
    if deal.outcome is Outcome.WON:
        return 1.0
    if not deal.is_open:
        return 0.0
    drift = stage_drift(deal, settings=settings)
    forced = drift.stages_ahead if drift else 0
    return (
        stage_probability(deal.stage, settings=settings) * settings.forced_advance_penalty**forced
    )


def _change(deal: Deal, outcome: Outcome, reason: str, on: dt.date) -> OutcomeChange:
    if not reason.strip():
        raise ReasonRequired(f"deal {deal.id!r}: marking it {outcome.value} needs a reason")
    _check_date(deal, on)
    if outcome is Outcome.OPEN:
        # The time a deal lay closed is not time stuck in its stage.
        changed = replace(deal, outcome=outcome, closed_on=None, stage_entered_on=on)
    else:
        changed = replace(deal, outcome=outcome, closed_on=on)
    return OutcomeChange(changed, outcome, reason.strip(), on)


def close_lost(
    deal: Deal, *, reason: str, on: dt.date, settings: ProcessSettings = DEFAULT_SETTINGS
) -> OutcomeChange:
    """Close an open deal as lost (丢单) on ``on``; it keeps the stage it was lost at.

    Raises ``ReasonRequired`` for a blank reason and ``DealClosed`` for a closed deal.
    """
    if not deal.is_open:
        raise DealClosed(f"deal {deal.id!r} is already {deal.outcome.value}")
    return _change(deal, Outcome.LOST, reason, on)


def close_abandoned(
    deal: Deal, *, reason: str, on: dt.date, settings: ProcessSettings = DEFAULT_SETTINGS
) -> OutcomeChange:
    """Close an open deal as abandoned (放弃) on ``on``; it keeps its stage.

    Raises ``ReasonRequired`` for a blank reason and ``DealClosed`` for a closed deal.
    """
    if not deal.is_open:
        raise DealClosed(f"deal {deal.id!r} is already {deal.outcome.value}")
    return _change(deal, Outcome.ABANDONED, reason, on)


def reopen(
    deal: Deal, *, reason: str, on: dt.date, settings: ProcessSettings = DEFAULT_SETTINGS
) -> OutcomeChange:
    """Reopen a lost or abandoned deal at the stage it was closed in.

    A shelved project can come back (a re-tender, a revived budget); its history
    and evidence are kept and its time in stage counts from ``on``. A won order
    is not reopened: it is in stage 6. Raises ``ReasonRequired`` for a blank
    reason and ``InvalidTransition`` for an open or won deal.
    """
    if deal.outcome not in (Outcome.LOST, Outcome.ABANDONED):
        raise InvalidTransition(
            f"deal {deal.id!r} is {deal.outcome.value}: only lost or abandoned deals reopen"
        )
    return _change(deal, Outcome.OPEN, reason, on)
