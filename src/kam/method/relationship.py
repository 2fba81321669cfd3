"""Relationship marketing (关系营销, METHOD.md §5).

"Interest is the tie, trust is the guarantee" (利益是纽带, 信任是保证). This module
holds the method's vocabulary of relationships and the few rules built on it:

- the four types (客户关系的四种类型) from the personal and business axes, and how
  to read the axes from the buying center and the won business;
- the three levels (三个层次) and which of them a competitor can copy;
- the catalogue of trust-building actions (建立信任的方法) and what is left to do;
- what the relationship costs against what it brings (关系成本);
- the customer lifecycle (孕育 -> 交易 -> 合作);
- the risk of a relationship resting on one person (个人关系的风险).

Key people, here, are the people whose word weighs on the decision: a decision
maker, a member of a collective-decision leadership team (领导班子), or anyone
whose real influence is high: ``buying_center.is_key_person``, one rule for both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from kam.method import buying_center
from kam.method.types import (
    Deal,
    Lifecycle,
    MethodError,
    Outcome,
    Person,
    RelationshipLevel,
    RelationshipType,
    Strength,
    Text,
)


class RelationshipError(MethodError):
    """Base of the errors of this module."""


class NegativeAmount(RelationshipError):
    """A cost, a revenue or a count is below zero."""


class UnknownTrustAction(RelationshipError):
    """A trust-action id is not in the catalogue."""


class InvalidRelationshipSettings(RelationshipError):
    """A relationship setting is out of its range."""


@dataclass(frozen=True)
class RelationshipSettings:
    """The company's choices for relationship marketing; defaults follow METHOD.md §5.

    ``good_strength``: a relationship at least this strong counts as a personal
    relationship (the personal axis) and as a "good" one for the single-person
    risk. Who is a key person is the buying center's rule (``is_key_person``).

    ``business_lookback_days``: won business counts for the business axis when
    it closed in this window (the source is silent; two years because
    industrial orders are few and repeated over long cycles).

    ``organisation_first``: trust gaps list organisation-level actions first,
    because "organisational interest comes first" and industrial buyers weigh
    the supplier's reliability most (特别是对供应商组织系统的信任).

    ``cost_warning_ratio``: relationship cost above this share of revenue is
    flagged (the source is silent and says the balance is the manager's
    judgement, not a financial formula: 5% is a prompt to look, not a rule).

    ``cooperation_min_orders`` / ``cooperation_level`` / ``cooperation_min_years``:
    a customer is in cooperation (合作) after this many won orders or once the
    relationship reaches this level, and, if a company wants it, only after this
    many years as a customer (default 0: no minimum).
    """

    good_strength: Strength = Strength.GOOD
    business_lookback_days: int = 730
    organisation_first: bool = True
    cost_warning_ratio: float = 0.05
    cooperation_min_orders: int = 3
    cooperation_level: RelationshipLevel = RelationshipLevel.MUTUAL_BENEFIT
    cooperation_min_years: float = 0.0

    def __post_init__(self) -> None:
        # Written as `not x >= 0` so that NaN is refused too.
        if self.business_lookback_days < 1:
            raise InvalidRelationshipSettings(
                f"business_lookback_days must be at least 1, got {self.business_lookback_days}"
            )
        if not self.cost_warning_ratio >= 0:
            raise InvalidRelationshipSettings(
                f"cost_warning_ratio must be 0 or more, got {self.cost_warning_ratio}"
            )
        if self.cooperation_min_orders < 1:
            raise InvalidRelationshipSettings(
                f"cooperation_min_orders must be at least 1, got {self.cooperation_min_orders}"
            )
        if not self.cooperation_min_years >= 0:
            raise InvalidRelationshipSettings(
                f"cooperation_min_years must be 0 or more, got {self.cooperation_min_years}"
            )


DEFAULT_SETTINGS = RelationshipSettings()


def is_key_person(person: Person) -> bool:
    """Whether a person weighs on the account's decisions.

    The buying center's definition (``buying_center.is_key_person``), with a
    marked leadership-team member always counting: a seat on the leadership
    team weighs on every deal with this account.
    """
    return buying_center.is_key_person(person, collective_decision=True)


# ---------------------------------------------------------------------------
# Four types (客户关系的四种类型)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeDescription:
    """What a relationship type means and what to do next."""

    type: RelationshipType
    label: Text
    explanation: Text
    next_step: Text


LIFT_ADVICE = Text(
    "把与客户的个人关系提升为组织关系:一切建立在个人关系上风险很大,人会调动,情绪和看法也会变。",
    "Lift personal relationships into organisational ones: a relationship resting on one "
    "person is a risk, because people move and moods and views change.",
)

RELATIONSHIP_TYPES: MappingProxyType[RelationshipType, TypeDescription] = MappingProxyType(
    {
        RelationshipType.OUTSIDER: TypeDescription(
            RelationshipType.OUTSIDER,
            Text("局外人", "Outsider"),
            Text(
                "初次接触,双方还没有建立互信关系,也没有业务往来。",
                "First contact: no mutual trust yet and no business together.",
            ),
            Text(
                "先建立信任:熟人引荐、反复拜访、第三方证明我们的实力。",
                "Build trust first: an introduction, repeated visits, third-party proof "
                "of what we can do.",
            ),
        ),
        RelationshipType.FRIEND: TypeDescription(
            RelationshipType.FRIEND,
            Text("朋友", "Friend"),
            Text(
                "我们与客户的人是私人朋友,但暂时没有业务往来。",
                "We are personal friends with people at the customer, but there is no "
                "business yet.",
            ),
            Text(
                "先满足客户的组织利益(产品、服务、价格、方案),把私人友谊变成业务;" + LIFT_ADVICE.zh,
                "Meet the customer's organisational interest first (product, service, price, "
                "solution) to turn the friendship into business. " + LIFT_ADVICE.en,
            ),
        ),
        RelationshipType.SUPPLIER: TypeDescription(
            RelationshipType.SUPPLIER,
            Text("供应商", "Supplier"),
            Text(
                "我们是客户的供应商,但与客户没有私人友谊;赢得订单靠的是产品的性价比。",
                "We supply the customer but have no personal friendship there; orders are "
                "won on price and performance.",
            ),
            Text(
                "靠性价比赢来的订单也会因更低的价格丢掉:与关键人建立个人信任,"
                "用个性化服务和互惠合作把关系提升到更高层次。",
                "Orders won on price can be lost on price: build personal trust with the key "
                "people and move the relationship up with personalised service and mutual "
                "benefit.",
            ),
        ),
        RelationshipType.PARTNER: TypeDescription(
            RelationshipType.PARTNER,
            Text("合作伙伴", "Partner"),
            Text(
                "我们既是客户的朋友,又是客户的供应商。",
                "We are both the customer's friends and their supplier.",
            ),
            Text(
                "保持并深化:" + LIFT_ADVICE.zh,
                "Keep and deepen it. " + LIFT_ADVICE.en,
            ),
        ),
    }
)


def relationship_type(personal: bool, business: bool) -> RelationshipType:
    """The type from the two axes: personal friendship and business."""
    if personal and business:
        return RelationshipType.PARTNER
    if personal:
        return RelationshipType.FRIEND
    if business:
        return RelationshipType.SUPPLIER
    return RelationshipType.OUTSIDER


@dataclass(frozen=True)
class WonBusiness:
    """Won business with one customer within the lookback window."""

    revenue: Decimal
    orders: int


def won_in_lookback(
    deals: Iterable[Deal],
    *,
    today: dt.date,
    settings: RelationshipSettings = DEFAULT_SETTINGS,
) -> WonBusiness:
    """Revenue and count of the won deals closed within ``business_lookback_days`` of today.

    A won deal without a close date is counted: it is won, and leaving it out
    would call a real supplier an outsider because of a missing date.
    """
    start = today - dt.timedelta(days=settings.business_lookback_days)
    revenue = Decimal(0)
    orders = 0
    for deal in deals:
        if deal.outcome is not Outcome.WON:
            continue
        if deal.closed_on is not None and not start <= deal.closed_on <= today:
            continue
        revenue += deal.amount
        orders += 1
    return WonBusiness(revenue, orders)


@dataclass(frozen=True)
class Axes:
    """The two axes read from data, the type they give, and who carries the personal axis."""

    personal: bool
    business: bool
    type: RelationshipType
    friends: tuple[str, ...]

    @property
    def description(self) -> TypeDescription:
        return RELATIONSHIP_TYPES[self.type]


def assess_axes(
    people: Iterable[Person],
    *,
    won_revenue: Decimal,
    orders_won: int = 0,
    settings: RelationshipSettings = DEFAULT_SETTINGS,
) -> Axes:
    """Read the two axes from the buying center and the won business.

    Personal: some key person's ``strength`` is at least ``good_strength``; their
    names are ``friends``. Business: ``won_revenue`` or ``orders_won`` is above
    zero; both are meant over ``business_lookback_days`` (``won_in_lookback``).
    Negative revenue or count raises ``NegativeAmount``.
    """
    if won_revenue < 0:
        raise NegativeAmount(f"won_revenue is negative: {won_revenue}")
    if orders_won < 0:
        raise NegativeAmount(f"orders_won is negative: {orders_won}")
    friends = tuple(
        p.name for p in people if is_key_person(p) and p.strength >= settings.good_strength
    )
    personal = bool(friends)
    business = won_revenue > 0 or orders_won > 0
    return Axes(personal, business, relationship_type(personal, business), friends)


# ---------------------------------------------------------------------------
# Three levels (三个层次)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelDescription:
    """One level of a relationship: what it rests on and whether a competitor can copy it."""

    level: RelationshipLevel
    label: Text
    rests_on: Text
    copyable: bool


# "Only the higher levels cannot be copied": a price can be matched by anyone;
# personalised service and mutual dependence cannot simply be bought.
LEVELS: MappingProxyType[RelationshipLevel, LevelDescription] = MappingProxyType(
    {
        RelationshipLevel.PRICE: LevelDescription(
            RelationshipLevel.PRICE,
            Text("一级关系", "Level 1"),
            Text("靠价格", "Rests on price"),
            True,
        ),
        RelationshipLevel.SERVICE: LevelDescription(
            RelationshipLevel.SERVICE,
            Text("二级关系", "Level 2"),
            Text("靠服务的个性化和人格化", "Rests on personalised, human service"),
            False,
        ),
        RelationshipLevel.MUTUAL_BENEFIT: LevelDescription(
            RelationshipLevel.MUTUAL_BENEFIT,
            Text("三级关系", "Level 3"),
            Text(
                "靠双方的互惠、互补和互相依赖",
                "Rests on mutual benefit, complementarity and dependence",
            ),
            False,
        ),
    }
)


def can_be_copied(level: RelationshipLevel) -> bool:
    """Whether a competitor can copy a relationship at this level."""
    return LEVELS[level].copyable


# ---------------------------------------------------------------------------
# Trust-building actions (建立信任的方法)
# ---------------------------------------------------------------------------


class TrustKind(StrEnum):
    """Whom the trust is placed in: our organisation or our person."""

    ORGANISATION = "organisation"  # 对供应商组织的信任
    PERSON = "person"  # 对个人的信任


@dataclass(frozen=True)
class TrustAction:
    """One way to build trust; ``id`` is stable and stored by the application."""

    id: str
    label: Text
    kind: TrustKind


def _org(action_id: str, zh: str, en: str) -> TrustAction:
    return TrustAction(action_id, Text(zh, en), TrustKind.ORGANISATION)


def _person(action_id: str, zh: str, en: str) -> TrustAction:
    return TrustAction(action_id, Text(zh, en), TrustKind.PERSON)


# Organisation first, then person, each in the source's order. The source's
# "ISO9000 certificates" appear both as organisational trust and as third-party
# proof; they are one action here ("certification") so it is not asked for twice.
TRUST_ACTIONS: tuple[TrustAction, ...] = (
    _org("certification", "出示ISO 9000等认证证书", "Show certifications such as ISO 9000"),
    _org("operations", "展示规范的运营制度", "Show our sound operating procedures"),
    _org("equipment", "展示硬件设备", "Show our plant and equipment"),
    _org("track_record", "介绍我们的业绩", "Present our track record"),
    _org("honours", "介绍我们获得的荣誉", "Present our honours and awards"),
    _org(
        "test_report",
        "提供国家权威机构的产品检测报告",
        "Provide test reports from national authorities",
    ),
    _org(
        "running_installation",
        "展示已经投入运行的设备",
        "Show installations already running",
    ),
    _org(
        "customer_reference",
        "请使用过我们产品的客户推荐",
        "Give references from customers who use our products",
    ),
    _org(
        "factory_visit",
        "邀请实地考察,参观工厂和设备",
        "Invite them to visit our factory and equipment",
    ),
    _person("referral", "请熟人牵线搭桥", "Get an introduction from someone they know"),
    _person(
        "repeated_visits",
        "拜访拜访再拜访,每次留下下次拜访的借口",
        "Visit again and again, each time leaving a pretext for the next visit",
    ),
    _person(
        "keep_promises",
        "以诚相待:不轻易承诺,承诺了就一定做到",
        "Act with integrity: promise little and keep every promise",
    ),
    _person(
        "problem_solving_expert",
        "成为为客户解决问题的专家",
        "Be the expert who solves their problems",
    ),
    _person(
        "small_courtesies",
        "小恩小惠赢得好感(吃饭、小礼品)",
        "Win goodwill with small courtesies (a meal, a small gift)",
    ),
    _person(
        "confident_manner",
        "以自信的态度消除客户的疑虑",
        "Answer with confidence to remove their doubts",
    ),
    _person("common_ground", "在交谈中寻求共同语言", "Find common ground in conversation"),
)

TRUST_ACTIONS_BY_ID: MappingProxyType[str, TrustAction] = MappingProxyType(
    {a.id: a for a in TRUST_ACTIONS}
)


def trust_gaps(
    done_ids: Iterable[str],
    *,
    settings: RelationshipSettings = DEFAULT_SETTINGS,
) -> tuple[TrustAction, ...]:
    """The trust actions not yet done, organisation-level first (``organisation_first``).

    An id not in ``TRUST_ACTIONS`` raises ``UnknownTrustAction``.
    """
    done = set(done_ids)
    unknown = sorted(done - TRUST_ACTIONS_BY_ID.keys())
    if unknown:
        raise UnknownTrustAction(f"unknown trust action id(s): {', '.join(unknown)}")
    first = TrustKind.ORGANISATION if settings.organisation_first else TrustKind.PERSON
    gaps = [a for a in TRUST_ACTIONS if a.id not in done]
    # sorted() is stable: within a kind the catalogue order stays.
    return tuple(sorted(gaps, key=lambda a: a.kind is not first))


# ---------------------------------------------------------------------------
# Relationship cost (关系成本)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CostReport:
    """Relationship cost against the revenue it helps bring.

    ``ratio`` is cost / revenue, ``None`` when there is no revenue.
    """

    cost: Decimal
    revenue: Decimal
    ratio: float | None
    warning: bool
    message: Text


def relationship_cost(
    costs: Iterable[Decimal],
    revenue: Decimal,
    *,
    settings: RelationshipSettings = DEFAULT_SETTINGS,
) -> CostReport:
    """Weigh the relationship's cost against revenue.

    Warns when cost / revenue is above ``cost_warning_ratio``, or when there is
    cost but no revenue yet (relationship-first spending, 关系领先型: worth it
    only if future orders justify it). A negative cost or revenue raises
    ``NegativeAmount`` naming it.
    """
    if revenue < 0:
        raise NegativeAmount(f"revenue is negative: {revenue}")
    total = Decimal(0)
    for index, cost in enumerate(costs):
        if cost < 0:
            raise NegativeAmount(f"cost #{index + 1} is negative: {cost}")
        total += cost
    limit = settings.cost_warning_ratio
    if revenue == 0:
        if total == 0:
            return CostReport(
                total,
                revenue,
                None,
                False,
                Text("尚无关系成本,也无收入。", "No relationship cost and no revenue yet."),
            )
        return CostReport(
            total,
            revenue,
            None,
            True,
            Text(
                f"已投入关系成本 {total},但尚无收入:这是关系领先型投入,要判断未来的订单是否值得。",
                f"{total} spent on the relationship with no revenue yet: relationship-first "
                "spending is worth it only if future orders justify it.",
            ),
        )
    ratio = float(total / revenue)
    if ratio > limit:
        return CostReport(
            total,
            revenue,
            ratio,
            True,
            Text(
                f"关系成本占收入的 {ratio:.1%},超过 {limit * 100:g}%:"
                "请在效益与成本、长期与短期之间权衡。",
                f"Relationship cost is {ratio:.1%} of revenue, above {limit * 100:g}%: weigh cost "
                "against benefit and the short against the long term.",
            ),
        )
    return CostReport(
        total,
        revenue,
        ratio,
        False,
        Text(
            f"关系成本占收入的 {ratio:.1%},在 {limit * 100:g}% 以内。",
            f"Relationship cost is {ratio:.1%} of revenue, within {limit * 100:g}%.",
        ),
    )


# ---------------------------------------------------------------------------
# Lifecycle (孕育 -> 交易 -> 合作)
# ---------------------------------------------------------------------------


LIFECYCLE_LABELS: MappingProxyType[Lifecycle, Text] = MappingProxyType(
    {
        Lifecycle.INCUBATION: Text("孕育阶段", "Incubation"),
        Lifecycle.TRANSACTION: Text("交易阶段", "Transaction"),
        Lifecycle.COOPERATION: Text("合作阶段", "Cooperation"),
    }
)


def lifecycle(
    orders_won: int,
    *,
    level: RelationshipLevel | None,
    years_as_customer: float,
    settings: RelationshipSettings = DEFAULT_SETTINGS,
) -> Lifecycle:
    """Where the customer stands: incubation, transaction or cooperation.

    Incubation while no order is won (not yet using our products), whatever the
    level. Cooperation once at least ``cooperation_min_years`` as a customer and
    either ``cooperation_min_orders`` won orders or a level of at least
    ``cooperation_level``. Transaction otherwise. A negative count or duration
    raises ``NegativeAmount``.
    """
    if orders_won < 0:
        raise NegativeAmount(f"orders_won is negative: {orders_won}")
    if years_as_customer < 0:
        raise NegativeAmount(f"years_as_customer is negative: {years_as_customer}")
    if orders_won == 0:
        return Lifecycle.INCUBATION
    deep = orders_won >= settings.cooperation_min_orders or (
        level is not None and level >= settings.cooperation_level
    )
    if deep and years_as_customer >= settings.cooperation_min_years:
        return Lifecycle.COOPERATION
    return Lifecycle.TRANSACTION


# ---------------------------------------------------------------------------
# A relationship resting on one person (个人关系的风险)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dependency:
    """Where the relationship rests on one person.

    ``through`` is the one of our people carrying every good link to the key
    people; ``only_contact`` the one customer person we are on good terms with.
    """

    through: str | None
    only_contact: str | None
    findings: tuple[Text, ...]

    @property
    def at_risk(self) -> bool:
        return bool(self.findings)


def single_person_dependency(
    people: Iterable[Person],
    *,
    settings: RelationshipSettings = DEFAULT_SETTINGS,
) -> Dependency:
    """Report when the account's relationship rests on a single person.

    Two findings, each with the name: every good link (``our_people`` at least
    ``good_strength``) to the account's key people runs through one of our
    people; or only one person at the customer (key or not) is on good terms
    with us (``strength`` or one of ``our_people`` at least ``good_strength``).
    No good relationship at all is not a dependency: it is an outsider.
    """
    good = settings.good_strength
    people = tuple(people)
    carriers = {
        ours
        for p in people
        if is_key_person(p)
        for ours, strength in p.our_people
        if strength >= good
    }
    contacts = [
        p.name
        for p in people
        if p.strength >= good or any(strength >= good for _, strength in p.our_people)
    ]
    findings = []
    through = None
    only_contact = None
    if len(carriers) == 1:
        (through,) = carriers
        findings.append(
            Text(
                f"与关键人的良好关系都只经过我方的{through}:{through}一旦离开,关系就断了。"
                "让更多同事与关键人建立关系。",
                f"Every good relationship with the key people runs through {through}: if "
                f"{through} leaves, it goes too. Get more colleagues to know the key people.",
            )
        )
    if len(contacts) == 1:
        (only_contact,) = contacts
        findings.append(
            Text(
                f"客户方只有{only_contact}与我们关系良好:人会调动,情绪会变。"
                "与更多的人建立关系,建立广泛的统一战线。",
                f"Only {only_contact} at the customer is on good terms with us: people move "
                "and moods change. Build relationships with more people, a broad united front.",
            )
        )
    return Dependency(through, only_contact, tuple(findings))
