"""How far to trust what the insider tells us (内线, METHOD.md §2).

An insider gives the inside view: schedule, budget, organisation, roles, key
people and competitors (``InsiderFact``). Each piece of information is a claim
the seller checks later against what happens; the insider's record of claims
confirmed and contradicted says how far to rely on the next one.

Reliability is the Laplace rule of succession with a configurable prior:
``(confirmed + prior_confirmed) / (settled + prior_confirmed + prior_contradicted)``.
With the default prior of one each, no insider starts at 0% or 100%: one
confirmed claim gives 2/3, not certainty; nothing settled gives 1/2, which the
verdict reports as unproven rather than as a coin toss.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from kam.method.types import InsiderFact, MethodError, Text


class InsiderError(MethodError):
    """Base of the errors of this module."""


class InvalidInsiderClaim(InsiderError):
    """A claim names no known fact or has a confirmation that is not yes/no/unknown."""


class InvalidInsiderSettings(InsiderError):
    """An insider setting is out of its range."""


@dataclass(frozen=True)
class InsiderSettings:
    """Thresholds for judging an insider; the source is silent, these are defaults.

    ``prior_confirmed`` / ``prior_contradicted``: pseudo-counts added before any
    claim is settled (Laplace: one each). ``min_settled``: fewer settled claims
    than this leave the insider unproven (two, so one lucky claim proves
    nothing). ``reliable_at``: reliability from which the insider is reliable;
    2/3 means, with the default prior, at least 2k+1 confirmed claims for k
    contradicted ones.
    """

    prior_confirmed: float = 1.0
    prior_contradicted: float = 1.0
    min_settled: int = 2
    reliable_at: float = 2 / 3

    def __post_init__(self) -> None:
        for name in ("prior_confirmed", "prior_contradicted"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidInsiderSettings(f"{name} must be above 0, got {value}")
        if self.min_settled < 0:
            raise InvalidInsiderSettings(f"min_settled must be 0 or more, got {self.min_settled}")
        if not 0 < self.reliable_at <= 1:
            raise InvalidInsiderSettings(
                f"reliable_at must be above 0 and at most 1, got {self.reliable_at}"
            )


DEFAULT_SETTINGS = InsiderSettings()


@dataclass(frozen=True)
class InsiderClaim:
    """One piece of information the insider gave.

    ``confirmed`` is ``True`` when events bore it out, ``False`` when they
    contradicted it, ``None`` while not yet checked. A fact may be given as its
    string value (``"budget"``); anything else raises ``InvalidInsiderClaim``.
    """

    fact: InsiderFact
    supplied_on: dt.date
    confirmed: bool | None
    note: str = ""

    def __post_init__(self) -> None:
        try:
            fact = InsiderFact(self.fact)
        except ValueError:
            known = ", ".join(f.value for f in InsiderFact)
            raise InvalidInsiderClaim(
                f"claim of {self.supplied_on}: unknown fact {self.fact!r} (known: {known})"
            ) from None
        object.__setattr__(self, "fact", fact)
        if not (self.confirmed is None or isinstance(self.confirmed, bool)):
            raise InvalidInsiderClaim(
                f"claim of {self.supplied_on} on {fact.value}: confirmed must be True, False "
                f"or None, got {self.confirmed!r}"
            )


class FactStatus(StrEnum):
    """Where one fact stands, from the insider's latest claim on it."""

    CONFIRMED = "confirmed"
    CONTRADICTED = "contradicted"
    PENDING = "pending"


class Verdict(StrEnum):
    """How far to rely on the insider."""

    RELIABLE = "reliable"
    DOUBTFUL = "doubtful"
    UNPROVEN = "unproven"


VERDICT_LABELS: MappingProxyType[Verdict, Text] = MappingProxyType(
    {
        Verdict.RELIABLE: Text("内线可靠", "Reliable insider"),
        Verdict.DOUBTFUL: Text("内线存疑", "Doubtful insider"),
        Verdict.UNPROVEN: Text("内线尚未验证", "Insider not yet proven"),
    }
)


@dataclass(frozen=True)
class InsiderReport:
    """What the insider has told us and how far to rely on it.

    ``supplied`` are the facts the insider has given and ``missing`` the others.
    ``confirmed`` / ``contradicted`` / ``pending`` sort the supplied facts by the
    latest claim on each (by ``supplied_on``; on the same day the later in the
    input wins), since newer information replaces older. ``claims_*`` count all
    claims: the insider's track record, from which ``reliability`` is computed.
    Fact tuples follow ``InsiderFact`` order.
    """

    supplied: tuple[InsiderFact, ...]
    missing: tuple[InsiderFact, ...]
    confirmed: tuple[InsiderFact, ...]
    contradicted: tuple[InsiderFact, ...]
    pending: tuple[InsiderFact, ...]
    claims_confirmed: int
    claims_contradicted: int
    claims_pending: int
    reliability: float
    coverage: float
    verdict: Verdict

    @property
    def claims_settled(self) -> int:
        return self.claims_confirmed + self.claims_contradicted

    @property
    def message(self) -> Text:
        label = VERDICT_LABELS[self.verdict]
        return Text(
            f"{label.zh}:{self.claims_confirmed} 条已证实,{self.claims_contradicted} 条被否定,"
            f"{self.claims_pending} 条待核实;可靠度 {self.reliability:.0%},"
            f"已提供 {len(self.supplied)}/{len(InsiderFact)} 类信息。",
            f"{label.en}: {self.claims_confirmed} confirmed, {self.claims_contradicted} "
            f"contradicted, {self.claims_pending} pending; reliability {self.reliability:.0%}, "
            f"{len(self.supplied)} of {len(InsiderFact)} facts supplied.",
        )


def _status(confirmed: bool | None) -> FactStatus:
    if confirmed is None:
        return FactStatus.PENDING
    return FactStatus.CONFIRMED if confirmed else FactStatus.CONTRADICTED


def insider_reliability(
    claims: Iterable[InsiderClaim],
    *,
    settings: InsiderSettings = DEFAULT_SETTINGS,
) -> InsiderReport:
    """Judge an insider from their claims.

    ``reliability`` follows the module docstring; ``coverage`` is the share of
    the six facts supplied; the verdict is unproven below ``min_settled``
    settled claims, else reliable from ``reliable_at``, else doubtful.
    """
    latest: dict[InsiderFact, InsiderClaim] = {}
    counts = dict.fromkeys(FactStatus, 0)
    for claim in claims:
        counts[_status(claim.confirmed)] += 1
        previous = latest.get(claim.fact)
        if previous is None or claim.supplied_on >= previous.supplied_on:
            latest[claim.fact] = claim
    confirmed = counts[FactStatus.CONFIRMED]
    contradicted = counts[FactStatus.CONTRADICTED]
    reliability = (confirmed + settings.prior_confirmed) / (
        confirmed + contradicted + settings.prior_confirmed + settings.prior_contradicted
    )
    if confirmed + contradicted < settings.min_settled:
        verdict = Verdict.UNPROVEN
    elif reliability >= settings.reliable_at:
        verdict = Verdict.RELIABLE
    else:
        verdict = Verdict.DOUBTFUL
    status = {f: _status(latest[f].confirmed) for f in InsiderFact if f in latest}

    def having(wanted: FactStatus) -> tuple[InsiderFact, ...]:
        return tuple(f for f, st in status.items() if st is wanted)

    return InsiderReport(
        supplied=tuple(status),
        missing=tuple(f for f in InsiderFact if f not in status),
        confirmed=having(FactStatus.CONFIRMED),
        contradicted=having(FactStatus.CONTRADICTED),
        pending=having(FactStatus.PENDING),
        claims_confirmed=confirmed,
        claims_contradicted=contradicted,
        claims_pending=counts[FactStatus.PENDING],
        reliability=reliability,
        coverage=len(status) / len(InsiderFact),
        verdict=verdict,
    )
