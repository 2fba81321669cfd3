"""Whole-brain profiles of key people (全脑模型, 关键客户全脑图分析, METHOD.md §6).

Herrmann's four quadrants: A analytical, B sequential, C interpersonal, D
imaginative. A seller profiles a key person from the habitual phrases heard in
visits (惯用语) and, if wanted, a direct 0-100 score per quadrant; the buying
center gets a combined picture. A profile observed by a seller is a hypothesis,
so every profile carries a confidence that grows with the observations behind it.

The phrases of A, B and C and how others describe A and B (别人对他的评价) are the
source's. The source's extract has nothing on D and nothing on how others
describe C; those come from Herrmann's model and are marked ``from_seed=False``.

The source's 2x2 of customer types reads 鹰 驴 / 狐 羊. Its figure is titled
全脑图形, Herrmann's whole-brain figure, which lays the quadrants out as A
top-left, D top-right, B bottom-left, C bottom-right; read in that layout the
animals are 鹰 eagle = A, 驴 donkey = D, 狐 fox = B, 羊 sheep = C. The eagle
(sharp-eyed, above it all) and the sheep (the flock) fit; the donkey and the fox
fit less well, so all four are settings a company may rename or swap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from kam.method.types import BrainScores, Influence, MethodError, Person, Quadrant, Role, Text


class WholeBrainError(MethodError):
    """Base of the errors of this module."""


class UnknownPhrase(WholeBrainError):
    """A phrase id is not in the catalogue."""


class UnknownQuadrant(WholeBrainError):
    """A direct score names no quadrant."""


class ScoreOutOfRange(WholeBrainError):
    """A quadrant score is outside 0-100 or a confidence outside 0-1."""


class InvalidWholeBrainSettings(WholeBrainError):
    """A whole-brain setting is out of its range."""


# Scores computed by different routes (a blend, a weighted mean) that should tie
# may differ in the last bits of a float; relative, so tiny scores do not all tie.
_TIE_TOLERANCE = 1e-9


# Text is frozen, so sharing one instance as a dataclass default is safe.
_ANALYTICAL = Text("分析型", "Analytical")
_SEQUENTIAL = Text("程序型", "Sequential")
_INTERPERSONAL = Text("人际型", "Interpersonal")
_IMAGINATIVE = Text("想象型", "Imaginative")
_EAGLE = Text("鹰", "Eagle")
_FOX = Text("狐", "Fox")
_SHEEP = Text("羊", "Sheep")
_DONKEY = Text("驴", "Donkey")


@dataclass(frozen=True)
class WholeBrainSettings:
    """Labels and weights of the whole-brain model; the source gives no numbers.

    ``label_*``: each quadrant's name. ``animal_*``: the source's animal for it
    (see the module docstring for the layout).

    ``confidence_k``: confidence is n / (n + k) for n observations, so k
    observations give 50%. ``direct_observations``: how many phrase observations
    a direct 0-100 scoring counts as; also its weight in the blend with phrases.
    With the defaults a direct scoring alone gives 1/3, 8 phrases give 1/2.
    ``low_confidence_below``: advice mentions that a profile is a guess below
    this confidence.

    ``influence_weights``: the weight of a LOW, MEDIUM and HIGH influence person
    in a buying center's combined profile.
    """

    label_a: Text = _ANALYTICAL
    label_b: Text = _SEQUENTIAL
    label_c: Text = _INTERPERSONAL
    label_d: Text = _IMAGINATIVE
    animal_a: Text = _EAGLE
    animal_b: Text = _FOX
    animal_c: Text = _SHEEP
    animal_d: Text = _DONKEY
    confidence_k: float = 8.0
    direct_observations: float = 4.0
    low_confidence_below: float = 0.5
    influence_weights: tuple[float, float, float] = (1.0, 2.0, 3.0)

    def __post_init__(self) -> None:
        for name in ("confidence_k", "direct_observations"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidWholeBrainSettings(f"{name} must be above 0, got {value}")
        if not 0 <= self.low_confidence_below <= 1:
            raise InvalidWholeBrainSettings(
                f"low_confidence_below must be within 0-1, got {self.low_confidence_below}"
            )
        weights = self.influence_weights
        if len(weights) != len(Influence) or not all(math.isfinite(w) and w >= 0 for w in weights):
            raise InvalidWholeBrainSettings(
                f"influence_weights must be three weights of 0 or more, got {weights}"
            )

    def label(self, quadrant: Quadrant) -> Text:
        return getattr(self, f"label_{quadrant.value.lower()}")

    def animal(self, quadrant: Quadrant) -> Text:
        return getattr(self, f"animal_{quadrant.value.lower()}")

    def influence_weight(self, influence: Influence) -> float:
        return self.influence_weights[int(influence) - 1]


DEFAULT_SETTINGS = WholeBrainSettings()


# ---------------------------------------------------------------------------
# Catalogue: habitual phrases (惯用语) and how others describe them (别人对他的评价)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """A habitual phrase that hints at a quadrant; ``id`` is stable and stored."""

    id: str
    quadrant: Quadrant
    text: Text
    from_seed: bool = True


@dataclass(frozen=True)
class Evaluation:
    """How others describe a person of a quadrant (别人对他的评价)."""

    id: str
    quadrant: Quadrant
    text: Text
    from_seed: bool = True


def _phrases(quadrant: Quadrant, from_seed: bool, *rows: tuple[str, str, str]) -> list[Phrase]:
    return [Phrase(i, quadrant, Text(zh, en), from_seed) for i, zh, en in rows]


def _evaluations(
    quadrant: Quadrant, from_seed: bool, *rows: tuple[str, str, str]
) -> list[Evaluation]:
    return [Evaluation(i, quadrant, Text(zh, en), from_seed) for i, zh, en in rows]


PHRASES: tuple[Phrase, ...] = (
    *_phrases(
        Quadrant.A,
        True,
        ("a_piece_by_piece", "一样样拆开来", "Take it apart piece by piece"),
        ("a_critical_analysis", "批判式分析", "Critical analysis"),
        ("a_key_points", "要点", "The key points"),
        ("a_bottom_line", "知道底线在哪里", "Know where the bottom line is"),
    ),
    *_phrases(
        Quadrant.B,
        True,
        ("b_by_convention", "依照惯例", "By convention"),
        ("b_build_the_habit", "养成习惯", "Build the habit"),
        ("b_law_and_order", "法律和秩序", "Law and order"),
        ("b_safety_first", "安全第一", "Safety first"),
        # The seed prints 自率精神, a typo for 自律精神 (self-discipline).
        ("b_self_discipline", "自律精神", "Self-discipline"),
        ("b_in_order", "顺序", "In order"),
        ("b_always_done_this_way", "我们一直都是这么做的", "We have always done it this way"),
    ),
    *_phrases(
        Quadrant.C,
        True,
        ("c_human_resources", "人力资源", "Human resources"),
        ("c_value_of_people", "人的价值", "The value of people"),
        ("c_interaction", "互动", "Interaction"),
        ("c_participation", "参与", "Participation"),
        ("c_personal_growth", "个人成长", "Personal growth"),
        ("c_teamwork", "团队合作", "Teamwork"),
        ("c_team_development", "团队发展", "Team development"),
        ("c_family", "家庭", "Family"),
    ),
    *_phrases(
        Quadrant.D,
        False,
        ("d_big_picture", "大局", "The big picture"),
        ("d_new_ideas", "新点子", "New ideas"),
        ("d_future", "未来", "The future"),
        ("d_concept", "概念", "The concept"),
        ("d_imagine", "想象", "Imagine"),
        ("d_innovation", "创新", "Innovation"),
        ("d_cutting_edge", "前沿", "The cutting edge"),
        ("d_synergy", "协同效应", "Synergy"),
        ("d_play_with_an_idea", "琢磨一个点子", "Play with an idea"),
    ),
)

PHRASES_BY_ID: MappingProxyType[str, Phrase] = MappingProxyType({p.id: p for p in PHRASES})

EVALUATIONS: tuple[Evaluation, ...] = (
    *_evaluations(
        Quadrant.A,
        True,
        ("a_calculating", "工于心计", "Calculating"),
        ("a_cold", "冷若冰霜", "Cold as ice"),
        ("a_uncaring", "不懂得关心别人", "Doesn't care about others"),
        ("a_number_machine", "数字机器", "A number machine"),
    ),
    *_evaluations(
        Quadrant.B,
        True,
        ("b_cannot_think_for_self", "不会为自己着想", "Can't think for themselves"),
        ("b_by_the_book", "做事情一板一眼", "Does everything by the book"),
        ("b_one_track_mind", "大脑里只有单行道", "A one-track mind"),
        ("b_picky", "挑剔", "Picky"),
        ("b_hidebound", "墨守成规", "Hidebound"),
        ("b_unimaginative", "没有想象力", "Unimaginative"),
        ("b_stubborn", "一根筋", "Stubborn"),
    ),
    *_evaluations(
        Quadrant.C,
        False,
        ("c_pushover", "耳根子软", "A pushover"),
        ("c_soft_touch", "心太软", "A soft touch"),
        ("c_talks_too_much", "说个没完", "Talk, talk, talk"),
        ("c_touchy_feely", "感情用事", "Touchy-feely"),
        ("c_oversensitive", "多愁善感", "Oversensitive"),
    ),
    *_evaluations(
        Quadrant.D,
        False,
        ("d_unrealistic", "不切实际", "Unrealistic"),
        ("d_head_in_the_clouds", "天马行空", "Head in the clouds"),
        ("d_dreamer", "爱空想", "A dreamer"),
        ("d_undisciplined", "没有纪律", "Undisciplined"),
        ("d_cannot_focus", "抓不住重点", "Can't focus"),
        ("d_reckless", "鲁莽", "Reckless"),
    ),
)


def phrases_of(quadrant: Quadrant) -> tuple[Phrase, ...]:
    """The catalogue's phrases of one quadrant."""
    return tuple(p for p in PHRASES if p.quadrant is quadrant)


def evaluations_of(quadrant: Quadrant) -> tuple[Evaluation, ...]:
    """How others describe a person of one quadrant."""
    return tuple(e for e in EVALUATIONS if e.quadrant is quadrant)


# ---------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Quadrant scores 0-100, the dominant quadrant(s) and the confidence 0-1.

    ``dominant`` holds every quadrant sharing the top score, in A-D order, and
    is empty when there is no evidence or every score is 0.
    """

    a: float
    b: float
    c: float
    d: float
    dominant: tuple[Quadrant, ...]
    confidence: float

    def of(self, quadrant: Quadrant) -> float:
        return {Quadrant.A: self.a, Quadrant.B: self.b, Quadrant.C: self.c, Quadrant.D: self.d}[
            quadrant
        ]

    def as_brain(self) -> BrainScores:
        """The scores as stored on a ``Person``."""
        return BrainScores(self.a, self.b, self.c, self.d, self.confidence)


def _make_profile(scores: Mapping[Quadrant, float], confidence: float) -> Profile:
    top = max(scores.values())
    dominant = (
        tuple(q for q in Quadrant if math.isclose(scores[q], top, rel_tol=_TIE_TOLERANCE))
        if top > 0
        else ()
    )
    return Profile(
        scores[Quadrant.A],
        scores[Quadrant.B],
        scores[Quadrant.C],
        scores[Quadrant.D],
        dominant,
        confidence,
    )


def _check_score(value: float, where: str) -> float:
    if not (isinstance(value, int | float) and 0 <= value <= 100):
        raise ScoreOutOfRange(f"{where}: score must be within 0-100, got {value!r}")
    return float(value)


def profile(
    *,
    phrase_ids: Iterable[str] = (),
    direct: Mapping[Quadrant, float] | None = None,
    settings: WholeBrainSettings = DEFAULT_SETTINGS,
) -> Profile:
    """A person's profile from the phrases heard and, optionally, direct scores.

    Each phrase id is one observation (a phrase heard twice counts twice). The
    phrase score of a quadrant is 100 x its count / the top quadrant's count, so
    the most-heard quadrant scores 100 and quadrants are not forced to share
    100 between them (as in Herrmann's profiles, a person can be strong in two).
    ``direct`` gives 0-100 per quadrant (a quadrant left out scores 0; an empty
    mapping is no direct scoring) and counts as ``direct_observations``
    observations. Both given: each quadrant's score is the mean of the phrase
    score weighted by the number of phrases and the direct score weighted by
    ``direct_observations``. Confidence is n / (n + ``confidence_k``) for n
    observations.

    An unknown phrase id raises ``UnknownPhrase``; a direct score outside 0-100
    ``ScoreOutOfRange``; a direct key that is no quadrant ``UnknownQuadrant``.
    """
    counts = dict.fromkeys(Quadrant, 0)
    for phrase_id in phrase_ids:
        phrase = PHRASES_BY_ID.get(phrase_id)
        if phrase is None:
            raise UnknownPhrase(f"unknown phrase id {phrase_id!r}")
        counts[phrase.quadrant] += 1
    heard = sum(counts.values())
    top = max(counts.values())
    sources: list[tuple[float, dict[Quadrant, float]]] = []
    if heard:
        sources.append((heard, {q: 100 * counts[q] / top for q in Quadrant}))
    if direct:
        scored = dict.fromkeys(Quadrant, 0.0)
        for key, value in direct.items():
            try:
                quadrant = Quadrant(key)
            except ValueError:
                raise UnknownQuadrant(f"direct score for unknown quadrant {key!r}") from None
            scored[quadrant] = _check_score(value, f"direct score of quadrant {quadrant.value}")
        sources.append((settings.direct_observations, scored))
    observations = sum(weight for weight, _ in sources)
    if not observations:
        return Profile(0.0, 0.0, 0.0, 0.0, (), 0.0)
    blended = {
        q: sum(weight * scores[q] for weight, scores in sources) / observations for q in Quadrant
    }
    return _make_profile(blended, observations / (observations + settings.confidence_k))


def _check_brain(brain: BrainScores, who: str) -> None:
    for quadrant in Quadrant:
        _check_score(brain.of(quadrant), f"{who}, quadrant {quadrant.value}")
    if not (isinstance(brain.confidence, int | float) and 0 <= brain.confidence <= 1):
        raise ScoreOutOfRange(f"{who}: confidence must be within 0-1, got {brain.confidence!r}")


def from_brain(brain: BrainScores) -> Profile:
    """The profile of stored scores, with its dominant quadrant(s).

    Scores outside 0-100 or a confidence outside 0-1 raise ``ScoreOutOfRange``.
    """
    _check_brain(brain, "brain scores")
    return _make_profile({q: float(brain.of(q)) for q in Quadrant}, float(brain.confidence))


# ---------------------------------------------------------------------------
# Advice: how to talk to each quadrant
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Advice:
    """How to talk to a person of one quadrant: what to bring, what to avoid."""

    quadrant: Quadrant
    label: Text
    how: Text
    bring: Text
    avoid: Text


_ADVICE: MappingProxyType[Quadrant, tuple[Text, Text, Text]] = MappingProxyType(
    {
        Quadrant.A: (
            Text("用事实和数字说话,先讲要点。", "Talk facts and figures; key points first."),
            Text(
                "数据、数字、测试结果和底线:成本、回报、技术参数。",
                "Data, figures, test results and the bottom line: cost, return, "
                "technical specifications.",
            ),
            Text(
                "空话、夸大其词,只谈感情和闲聊。",
                "Vague claims, exaggeration, feelings and small talk instead of facts.",
            ),
        ),
        Quadrant.B: (
            Text(
                "有条理、按步骤地讲,强调稳妥可靠。",
                "Be orderly and go step by step; stress that it is safe and proven.",
            ),
            Text(
                "一步一步的实施计划、成功案例和参考客户、质量保证和承诺、低风险。",
                "A step-by-step plan, references and running installations, guarantees, low risk.",
            ),
            Text(
                "意外和临时变动、没经过验证的新东西、跳过步骤。",
                "Surprises and last-minute changes, untested novelties, skipped steps.",
            ),
        ),
        Quadrant.C: (
            Text(
                "先谈人,再谈事;多听、让他参与。",
                "People first, then the matter; listen and involve them.",
            ),
            Text(
                "人、团队和关系:方案对他们员工的影响、培训和参与。",
                "The people, the team and the relationship: the effect on their staff, "
                "training and involvement.",
            ),
            Text(
                "只谈数字和流程、冷冰冰的态度、忽视他们的人。",
                "Only numbers and procedure, a cold manner, ignoring their people.",
            ),
        ),
        Quadrant.D: (
            Text(
                "从大局和未来讲起,给他想象的空间。",
                "Start from the big picture and the future; leave room to imagine.",
            ),
            Text(
                "愿景和大局、新的东西、方案如何面向未来。",
                "The vision and the big picture, what is new, how it prepares their future.",
            ),
            Text(
                "一开始就陷入细节,“我们一直都是这么做的”。",
                'Drowning them in detail at the start; "we have always done it this way".',
            ),
        ),
    }
)


def advice(quadrant: Quadrant, *, settings: WholeBrainSettings = DEFAULT_SETTINGS) -> Advice:
    """How to talk to a person whose dominant quadrant is ``quadrant``."""
    how, bring, avoid = _ADVICE[Quadrant(quadrant)]
    return Advice(Quadrant(quadrant), settings.label(Quadrant(quadrant)), how, bring, avoid)


@dataclass(frozen=True)
class ProfileAdvice:
    """Advice for each dominant quadrant, and a caution when the profile is thin."""

    advice: tuple[Advice, ...]
    caution: Text | None


NO_EVIDENCE = Text(
    "还没有依据:拜访时注意观察、倾听,记下对方的惯用语。",
    "No evidence yet: on each visit watch, listen and record the phrases they use.",
)


def advice_for(
    person_profile: Profile, *, settings: WholeBrainSettings = DEFAULT_SETTINGS
) -> ProfileAdvice:
    """Advice for the dominant quadrant(s) of a profile.

    Without a dominant quadrant there is no advice, only ``NO_EVIDENCE``. Below
    ``low_confidence_below`` the caution says the profile is a hypothesis to check.
    """
    if not person_profile.dominant:
        return ProfileAdvice((), NO_EVIDENCE)
    tips = tuple(advice(q, settings=settings) for q in person_profile.dominant)
    caution = None
    if person_profile.confidence < settings.low_confidence_below:
        share = f"{person_profile.confidence:.0%}"
        caution = Text(
            f"把握不大(置信度 {share}):这只是假设,下次拜访时验证。",
            f"Low confidence ({share}): this is a hypothesis; check it on the next visit.",
        )
    return ProfileAdvice(tips, caution)


# ---------------------------------------------------------------------------
# The buying center as a whole (关键客户全脑图分析)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CombinedProfile:
    """The combined picture of a buying center and of its decision makers.

    ``profiled`` / ``unprofiled`` are the names of the people with and without
    scores (the latter are the next people to observe).
    """

    group: Profile
    decision_makers: Profile
    profiled: tuple[str, ...]
    unprofiled: tuple[str, ...]


def _is_decision_maker(person: Person) -> bool:
    # In a collective decision (三重一大) the leadership team is the decision maker.
    return Role.DECISION_MAKER in person.roles or person.leadership_member


def _combine(people: tuple[Person, ...], settings: WholeBrainSettings) -> Profile:
    total_influence = sum(settings.influence_weight(p.influence) for p in people)
    weighted = [
        (settings.influence_weight(p.influence) * p.brain.confidence, p.brain)
        for p in people
        if p.brain is not None
    ]
    mass = sum(weight for weight, _ in weighted)
    if not mass:
        return Profile(0.0, 0.0, 0.0, 0.0, (), 0.0)
    scores = {q: sum(w * brain.of(q) for w, brain in weighted) / mass for q in Quadrant}
    # Confidence is influence-weighted over everyone, the unprofiled counting
    # as 0: an unknown mind among the influential makes the picture less sure.
    return _make_profile(scores, mass / total_influence)


def combined_profile(
    people: Iterable[Person], *, settings: WholeBrainSettings = DEFAULT_SETTINGS
) -> CombinedProfile:
    """Combine the people's ``brain`` scores into a picture of the buying center.

    Each person's scores weigh by ``influence_weights`` of their influence times
    their own confidence, so a sure profile of an influential person counts most
    and a guess about a minor one least. The confidence of the picture is the
    influence-weighted mean confidence over everyone, a person without scores
    counting as 0. Decision makers are people with the decision-maker role or
    members of a collective-decision leadership team. Bad scores raise
    ``ScoreOutOfRange`` naming the person.
    """
    people = tuple(people)
    for p in people:
        if p.brain is not None:
            _check_brain(p.brain, f"person {p.name} ({p.id})")
    return CombinedProfile(
        group=_combine(people, settings),
        decision_makers=_combine(tuple(p for p in people if _is_decision_maker(p)), settings),
        profiled=tuple(p.name for p in people if p.brain is not None),
        unprofiled=tuple(p.name for p in people if p.brain is None),
    )


def emphasis_matches(proposal_emphasis: Quadrant, person_profile: Profile) -> bool:
    """Whether a proposal's emphasis speaks to the profile's dominant quadrant.

    A profile without a dominant quadrant gives no ground for a mismatch, so it
    matches: the coach warns only on evidence.
    """
    return not person_profile.dominant or Quadrant(proposal_emphasis) in person_profile.dominant
