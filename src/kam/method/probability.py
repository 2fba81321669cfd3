"""A deal's win probability: the stage's default, adjusted by explained factors.

METHOD.md §3 gives each stage a default probability and says that forcing a deal
past its key node "greatly lowers the chance of success"; §2 says the technical
person "cannot say yes, can say no" and that a collective-decision customer's
decision maker is the whole leadership team. So the buying center moves the
forecast here, and every move is shown with its effect:

1. start from the stage's probability (``process.stage_probability``);
2. multiply by the forced-advance penalty once for every stage the seller runs
   ahead of the customer's evidenced step (``process.stage_drift``);
3. cap the result when the buying center holds a veto: no decision maker
   mapped, the technical person opposed, the technical person not covered (or
   not mapped), a collective decision with leadership members unmapped.

Won deals are 1 and lost or abandoned deals 0, whatever the buying center.
"""

from __future__ import annotations

from dataclasses import dataclass

from kam.method import buying_center, process
from kam.method.types import Attitude, Deal, MethodError, Role, Text


class InvalidProbabilitySettings(MethodError):
    """A cap outside 0..1."""


@dataclass(frozen=True)
class ProbabilitySettings:
    """The caps the buying center puts on a deal's probability (each 0..1).

    Defaults: a deal whose decision maker is not even mapped is no better than a
    sales-entry deal (20%); an opposed technical person can veto (10%); one we
    have not covered, or not found, leaves us at the proposal level at most
    (30%); a collective decision with leadership members unmapped, 30%.
    """

    no_decision_maker_cap: float = 0.20
    technical_opposed_cap: float = 0.10
    technical_not_covered_cap: float = 0.30
    leadership_unmapped_cap: float = 0.30

    def __post_init__(self) -> None:
        for name in (
            "no_decision_maker_cap",
            "technical_opposed_cap",
            "technical_not_covered_cap",
            "leadership_unmapped_cap",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidProbabilitySettings(f"{name} {value!r} is not in 0..1")


DEFAULT_SETTINGS = ProbabilitySettings()


@dataclass(frozen=True)
class Factor:
    """One explained adjustment: ``effect`` is the change it made (<= 0)."""

    id: str
    label: Text
    effect: float


@dataclass(frozen=True)
class Probability:
    """The stage probability, the factors that moved it, and the result."""

    stage_probability: float
    factors: tuple[Factor, ...]
    value: float


def _caps(deal: Deal, cov: buying_center.Coverage, settings: ProbabilitySettings):
    """The caps that apply to this deal's buying center, as (id, cap, label)."""
    technical = cov.of(Role.TECHNICAL)
    people = {p.id: p for p in deal.people}
    if not cov.of(Role.DECISION_MAKER).mapped:
        yield (
            "no_decision_maker",
            settings.no_decision_maker_cap,
            Text("未找到决策人", "no decision maker mapped"),
        )
    if any(people[h].attitude is Attitude.OPPONENT for h in technical.holders):
        yield (
            "technical_opposed",
            settings.technical_opposed_cap,
            Text(
                "技术人反对我们：他不能说“是”，但可以说“不”",
                "the technical person opposes us: they cannot say yes, but can say no",
            ),
        )
    if not technical.covered:
        yield (
            "technical_not_covered",
            settings.technical_not_covered_cap,
            Text("技术人未找到或未覆盖", "the technical person is not mapped or not covered"),
        )
    if deal.collective_decision and (cov.leadership_unmapped or cov.no_leadership_recorded):
        yield (
            "leadership_unmapped",
            settings.leadership_unmapped_cap,
            Text(
                "集体决策：领导班子成员未全部梳理",
                "collective decision: leadership members unmapped",
            ),
        )


def probability(
    deal: Deal,
    *,
    process_settings: process.ProcessSettings = process.DEFAULT_SETTINGS,
    buying_center_settings: buying_center.BuyingCenterSettings = buying_center.DEFAULT_SETTINGS,
    settings: ProbabilitySettings = DEFAULT_SETTINGS,
) -> Probability:
    """The deal's win probability with every factor that moved it, in order."""
    base = process.stage_probability(deal.stage, settings=process_settings)
    # process.deal_probability owns the won/lost values and the forced-advance penalty.
    value = process.deal_probability(deal, settings=process_settings)
    if not deal.is_open:
        return Probability(base, (), value)

    factors: list[Factor] = []
    if value < base:
        ahead = process.stage_drift(deal, settings=process_settings).stages_ahead
        factors.append(
            Factor(
                "forced_advance",
                Text(
                    f"销售阶段超前客户采购步骤 {ahead} 步（关键节点未完成）",
                    f"the stage is {ahead} step(s) ahead of the customer's evidenced buying step",
                ),
                value - base,
            )
        )

    cov = buying_center.coverage(
        deal.people, collective_decision=deal.collective_decision, settings=buying_center_settings
    )
    for factor_id, cap, label in _caps(deal, cov, settings):
        if value > cap:
            factors.append(Factor(factor_id, label, cap - value))
            value = cap
    return Probability(base, tuple(factors), value)
