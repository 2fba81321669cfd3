"""The shared vocabulary of the method (METHOD.md): enums and the plain records
every part of ``kam.method`` reads.

Everything here is framework-free and immutable. The application translates its
models into these records (``to_method()``) and hands them to the pure functions
of the other modules; no rule is computed anywhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum


@dataclass(frozen=True)
class Text:
    """A message in both languages the product speaks."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        """The message for a language code such as ``zh-hans`` or ``en``."""
        return self.zh if language.lower().startswith("zh") else self.en


class LeadSource(StrEnum):
    """Where a lead came from (METHOD.md §1, 销售线索来源)."""

    INDUSTRY_MEDIA = "industry_media"  # 行业媒体
    SEARCH_ENGINE = "search_engine"  # 搜索引擎
    SALES_PEER = "sales_peer"  # 销售同行
    TRADE_SHOW = "trade_show"  # 行业展会
    EXISTING_CUSTOMER = "existing_customer"  # 老客户
    REFERRAL = "referral"  # 熟人介绍
    OTHER = "other"


class Grade(StrEnum):
    """ABCD priority class (ABCD 类优先排序); A is worked first."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Decision(StrEnum):
    """How screening ends: pursue, nurture or drop."""

    PURSUE = "pursue"
    NURTURE = "nurture"
    DROP = "drop"


class Stage(IntEnum):
    """The six sales stages mirroring the customer's six buying steps (METHOD.md §3)."""

    DEVELOPMENT = 1  # 开发阶段 / 内部需求和立项
    ENTRY = 2  # 销售进入阶段 / 初步调查、筛选
    PROPOSAL = 3  # 提案阶段 / 制定采购指标
    TENDER = 4  # 投标阶段 / 招标、评标
    NEGOTIATION = 5  # 商务谈判阶段 / 购买承诺
    IMPLEMENTATION = 6  # 工程实施阶段 / 安装实施 (the order is won)


class Outcome(StrEnum):
    """Whether a deal is still being worked. A deal in stage 6 is WON."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"
    ABANDONED = "abandoned"


class Role(StrEnum):
    """Buying-center roles, held per opportunity (采购氛围的 4 类人)."""

    DECISION_MAKER = "decision_maker"  # 决策人
    TECHNICAL = "technical"  # 技术人 / 技术选型人
    PURCHASER = "purchaser"  # 购买人 / 采购、财务把关者
    USER = "user"  # 使用人


class Influence(IntEnum):
    """Real influence on the decision, kept apart from title (影响力)."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Attitude(StrEnum):
    """Attitude to us (支持 / 中立 / 反对)."""

    SUPPORTER = "supporter"
    NEUTRAL = "neutral"
    OPPONENT = "opponent"


class Strength(IntEnum):
    """How strong our relationship with one person is.

    ``covered`` in the buying-center analysis means at least the company's
    coverage threshold (default ``GOOD``).
    """

    NONE = 0  # never met / 未接触
    ACQUAINTED = 1  # we know each other / 认识
    GOOD = 2  # good working relationship, trust / 关系良好
    STRONG = 3  # strong, personal trust / 关系密切


class Quadrant(StrEnum):
    """Whole-brain quadrants (全脑模型, Herrmann)."""

    A = "A"  # analytical / 分析型
    B = "B"  # sequential / 程序型
    C = "C"  # interpersonal / 人际型
    D = "D"  # imaginative / 想象型


class RelationshipType(StrEnum):
    """Four relationship types from the personal and business axes (METHOD.md §5)."""

    OUTSIDER = "outsider"  # 局外人
    FRIEND = "friend"  # 朋友
    SUPPLIER = "supplier"  # 供应商
    PARTNER = "partner"  # 合作伙伴


class RelationshipLevel(IntEnum):
    """Three levels of a relationship (三个层次)."""

    PRICE = 1  # rests on price
    SERVICE = 2  # personalised, human service
    MUTUAL_BENEFIT = 3  # mutual benefit, complementarity, dependence


class Lifecycle(StrEnum):
    """Customer lifecycle (孕育 -> 交易 -> 合作)."""

    INCUBATION = "incubation"
    TRANSACTION = "transaction"
    COOPERATION = "cooperation"


class ActivityKind(StrEnum):
    """What an activity was."""

    VISIT = "visit"  # 拜访
    CALL = "call"  # 电话
    MEETING = "meeting"  # 会议
    EMAIL = "email"  # 邮件
    SITE_VISIT = "site_visit"  # 参观考察
    ENTERTAINMENT = "entertainment"  # 招待
    GIFT = "gift"  # 礼品


# Kinds that count as "walking the relationship" (拜访): they need a pretext for the next one.
VISIT_KINDS = frozenset({ActivityKind.VISIT, ActivityKind.MEETING, ActivityKind.SITE_VISIT})


class InsiderFact(StrEnum):
    """What an insider can tell us (内线提供的信息)."""

    SCHEDULE = "schedule"
    BUDGET = "budget"
    ORGANISATION = "organisation"
    ROLES = "roles"
    KEY_PEOPLE = "key_people"
    COMPETITORS = "competitors"


class Severity(IntEnum):
    """How urgent a coach recommendation is; higher ranks first."""

    INFO = 1
    WARNING = 2
    CRITICAL = 3


# ---------------------------------------------------------------------------
# Records the application hands to the method.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BrainScores:
    """Quadrant scores 0-100 with the confidence of the observation (0-1)."""

    a: float = 0.0
    b: float = 0.0
    c: float = 0.0
    d: float = 0.0
    confidence: float = 0.0

    def of(self, quadrant: Quadrant) -> float:
        return {Quadrant.A: self.a, Quadrant.B: self.b, Quadrant.C: self.c, Quadrant.D: self.d}[
            quadrant
        ]


@dataclass(frozen=True)
class Person:
    """One contact as seen in one opportunity's buying center.

    ``roles`` are this person's roles in *this* deal; ``title`` is kept apart from
    ``influence``. ``leadership_member`` marks a member of a collective-decision
    leadership team (领导班子). ``reports_to`` is another person's ``id``.
    ``our_people`` maps each of our users who know this contact to how well.
    """

    id: str
    name: str
    title: str = ""
    roles: frozenset[Role] = frozenset()
    influence: Influence = Influence.MEDIUM
    attitude: Attitude = Attitude.NEUTRAL
    strength: Strength = Strength.NONE
    insider: bool = False
    reports_to: str | None = None
    leadership_member: bool = False
    brain: BrainScores | None = None
    our_people: tuple[tuple[str, Strength], ...] = ()


@dataclass(frozen=True)
class Evidence:
    """Proof that a key node was reached: who recorded it, when, and a note."""

    node: str
    by: str
    on: dt.date
    note: str = ""


@dataclass(frozen=True)
class Override:
    """A forced advance past a gate, with the reason the seller gave."""

    from_stage: Stage
    to_stage: Stage
    missing: tuple[str, ...]
    reason: str
    by: str
    on: dt.date


@dataclass(frozen=True)
class Activity:
    """A visit, call, meeting... with its cost and the pretext for the next visit."""

    id: str
    kind: ActivityKind
    on: dt.date
    contact_ids: frozenset[str] = frozenset()
    cost: Decimal = Decimal(0)
    notes: str = ""
    next_step: str = ""
    next_pretext: str = ""
    next_on: dt.date | None = None
    by: str = ""


@dataclass(frozen=True)
class Deal:
    """An opportunity with everything the method reads about it."""

    id: str
    name: str
    amount: Decimal
    stage: Stage = Stage.DEVELOPMENT
    outcome: Outcome = Outcome.OPEN
    expected_close: dt.date | None = None
    stage_entered_on: dt.date | None = None
    created_on: dt.date | None = None
    closed_on: dt.date | None = None
    grade: Grade | None = None
    owner: str = ""
    evidence: tuple[Evidence, ...] = ()
    overrides: tuple[Override, ...] = ()
    people: tuple[Person, ...] = ()
    collective_decision: bool = False
    competitors: tuple[str, ...] = ()
    proposal_emphasis: Quadrant | None = None
    source: LeadSource | None = None

    @property
    def is_open(self) -> bool:
        return self.outcome is Outcome.OPEN

    @property
    def evidenced_nodes(self) -> frozenset[str]:
        return frozenset(e.node for e in self.evidence)


@dataclass(frozen=True)
class OffFunnelOrder:
    """A small order below the funnel threshold (漏斗外销售额)."""

    amount: Decimal
    on: dt.date


@dataclass(frozen=True)
class Period:
    """A closed date interval, e.g. a fiscal quarter."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class MethodError(ValueError):
    """Base of every named error the method raises on bad input."""
