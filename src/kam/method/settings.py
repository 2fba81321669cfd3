"""All of a company's method settings in one value.

Each part of the method keeps its own settings dataclass beside its rules; this
gathers them so the application builds one ``MethodSettings`` from its company
settings and hands each part its own. Defaults are METHOD.md's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kam.method.buying_center import BuyingCenterSettings
from kam.method.funnel import FunnelSettings
from kam.method.insider import InsiderSettings
from kam.method.probability import ProbabilitySettings
from kam.method.process import ProcessSettings
from kam.method.relationship import RelationshipSettings
from kam.method.screening import ScreeningSettings
from kam.method.whole_brain import WholeBrainSettings


@dataclass(frozen=True)
class MethodSettings:
    """The settings of every part of the method."""

    screening: ScreeningSettings = field(default_factory=ScreeningSettings)
    buying_center: BuyingCenterSettings = field(default_factory=BuyingCenterSettings)
    process: ProcessSettings = field(default_factory=ProcessSettings)
    probability: ProbabilitySettings = field(default_factory=ProbabilitySettings)
    funnel: FunnelSettings = field(default_factory=FunnelSettings)
    relationship: RelationshipSettings = field(default_factory=RelationshipSettings)
    insider: InsiderSettings = field(default_factory=InsiderSettings)
    whole_brain: WholeBrainSettings = field(default_factory=WholeBrainSettings)


DEFAULT_SETTINGS = MethodSettings()
