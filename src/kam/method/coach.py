"""The coach (销售教练): the method's rules over a deal or an account, as ranked
recommendations (METHOD.md §1-§8).

The coach computes nothing the parts of the method already compute: coverage and
veto risk come from ``buying_center``, drift and gates from ``process``, stuck and
overdue deals from ``funnel``, cost, lifecycle, trust gaps and single-person risk
from ``relationship``, insider reliability from ``insider``, profiles from
``whole_brain``, grades from ``screening``. A rule only decides whether their
result calls for a recommendation, how urgent it is and how to say it.

Rule ids are ``<PART>-<WHAT>`` in capitals, the part naming the section of
METHOD.md: SCR §1, BC §2, PR §3, FN §4, REL §5, WB §6, SEG §7, TIP §8. They are
stable: the application stores them (e.g. in ``CoachSettings.disabled_rules``).

Ranking (``coach_deal``, ``coach_account``): severity first, critical before
warning before info; then what is at stake, the amount of the deal the
recommendation is about (for one about the whole account or a person, the sum of
the account's open deals, since all of them hang on it), then that deal's stage,
later first; then the registry order, which follows METHOD.md's sections; then the
order the rule gave them in. Sorting is stable, so nothing else reorders them.

Tips (§8) are the source's sayings (大客户销售格言). A tip with ``attached_to`` is
advice on a finding, not a finding: it is shown only when one of those rules fired
in the same run. The calm-lake tip has a condition of its own.

A closed deal (won, lost, abandoned) gets no recommendation: the coach is for
deals still being worked; the account rules keep caring after the sale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from kam.method import (
    agenda,
    buying_center,
    funnel,
    insider,
    probability,
    process,
    relationship,
    screening,
    whole_brain,
)
from kam.method.settings import MethodSettings
from kam.method.types import (
    VISIT_KINDS,
    Activity,
    ActivityKind,
    Attitude,
    Deal,
    Grade,
    Influence,
    InsiderFact,
    Lifecycle,
    MethodError,
    Person,
    RelationshipLevel,
    RelationshipType,
    Role,
    Severity,
    Stage,
    Text,
)

Scope = Literal["deal", "account"]


class CoachError(MethodError):
    """Base of the errors of this module."""


class InvalidCoachSettings(CoachError):
    """A coach setting is out of its range or names an unknown rule."""


# ---------------------------------------------------------------------------
# Customer file (大客户档案) and segmentation fields, METHOD.md §7
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileField:
    """One field of the customer file; ``id`` is what ``AccountContext.customer_file`` names."""

    id: str
    label: Text


CUSTOMER_FILE: tuple[FileField, ...] = (
    FileField("business", Text("客户的业务情况", "their business")),
    FileField("innovation_goals", Text("技术创新的总体目标", "their technical innovation goals")),
    FileField(
        "products_in_use", Text("现用产品及使用情况", "the products in use and how they perform")
    ),
    FileField("decision_process", Text("决策流程", "their decision process")),
    FileField("latent_needs", Text("潜在需求", "their latent needs")),
)

SEGMENT_FIELDS: tuple[FileField, ...] = (
    FileField("industry", Text("行业", "industry")),
    FileField("region", Text("地区", "region")),
    FileField("scale", Text("规模", "scale")),
    FileField("traits", Text("客户特性", "traits")),
)


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------

# How often a person must be visited, by the grade of the deal (or account):
# key people (buying_center.is_key_person) by KEY_VISIT_DAYS, everyone else by
# OTHER_VISIT_DAYS. The source is silent; these follow "put time on A first".
KEY_VISIT_DAYS: Mapping[Grade, int] = MappingProxyType(
    {Grade.A: 14, Grade.B: 30, Grade.C: 60, Grade.D: 90}
)
OTHER_VISIT_DAYS: Mapping[Grade, int] = MappingProxyType(
    {Grade.A: 30, Grade.B: 60, Grade.C: 90, Grade.D: 180}
)


@dataclass(frozen=True)
class CoachSettings:
    """When each rule speaks. The source gives none of these numbers; all are defaults.

    ``method``: every part's settings; the coach hands each part its own.

    Visits: ``key_visit_days`` / ``other_visit_days`` give, per grade, the most
    days between two visits (拜访, ``types.VISIT_KINDS``) to a key person / to
    anyone else in the buying center. An ungraded deal or account is visited
    as ``ungraded_visits_as``. ``pretext_lookback_days``: visits this recent
    are checked for a pretext for the next one (older ones are history).
    ``next_visit_grace_days``: a planned next visit is overdue this many days
    after its date.

    Stages from which something is expected: ``insider_from_stage`` (stage 2's
    key node is "insider found"), ``decision_maker_mapped_from_stage``,
    ``technical_mapped_from_stage`` (stage 3's node is the technical person's
    acceptance), ``decision_maker_covered_from_stage`` (by the tender the
    decision maker must know us), ``insider_facts_from_stage`` with
    ``insider_facts_needed``, ``emphasis_from_stage`` (the proposal needs an
    emphasis). Key people should be profiled from ``profile_from_stage`` up to
    ``profile_until_stage`` (before the proposal is written).

    ``effort_window_days`` / ``grade_d_max_activities``: a grade-D deal with more
    activities than this in the window absorbs effort owed to grade A.
    ``late_stage``: from here an incubation account's deal needs the
    organisation's trust. A big account is graded in ``big_account_grades`` or
    has won at least ``big_account_revenue``. ``customer_file`` /
    ``segment_fields``: the fields a full customer file has. ``disabled_rules``:
    rule ids never run; an unknown id raises ``InvalidCoachSettings``.
    """

    method: MethodSettings = field(default_factory=MethodSettings)
    key_visit_days: Mapping[Grade, int] = field(default_factory=lambda: KEY_VISIT_DAYS)
    other_visit_days: Mapping[Grade, int] = field(default_factory=lambda: OTHER_VISIT_DAYS)
    ungraded_visits_as: Grade = Grade.B
    pretext_lookback_days: int = 30
    next_visit_grace_days: int = 0
    insider_from_stage: Stage = Stage.PROPOSAL
    decision_maker_mapped_from_stage: Stage = Stage.PROPOSAL
    technical_mapped_from_stage: Stage = Stage.PROPOSAL
    decision_maker_covered_from_stage: Stage = Stage.TENDER
    insider_facts_from_stage: Stage = Stage.PROPOSAL
    insider_facts_needed: frozenset[InsiderFact] = frozenset(
        {InsiderFact.BUDGET, InsiderFact.SCHEDULE}
    )
    emphasis_from_stage: Stage = Stage.PROPOSAL
    profile_from_stage: Stage = Stage.ENTRY
    profile_until_stage: Stage = Stage.PROPOSAL
    effort_window_days: int = 30
    grade_d_max_activities: int = 3
    late_stage: Stage = Stage.TENDER
    big_account_grades: frozenset[Grade] = frozenset({Grade.A})
    big_account_revenue: Decimal = Decimal("1000000")
    customer_file: tuple[FileField, ...] = CUSTOMER_FILE
    segment_fields: tuple[FileField, ...] = SEGMENT_FIELDS
    disabled_rules: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("key_visit_days", "other_visit_days"):
            cadence = getattr(self, name)
            for grade in Grade:
                days = cadence.get(grade)
                if not isinstance(days, int) or days < 1:
                    raise InvalidCoachSettings(
                        f"{name}[{grade.value}] must be a whole number of days of 1 or more, "
                        f"got {days!r}"
                    )
        for name in ("pretext_lookback_days", "effort_window_days"):
            if getattr(self, name) < 1:
                raise InvalidCoachSettings(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("next_visit_grace_days", "grade_d_max_activities"):
            if getattr(self, name) < 0:
                raise InvalidCoachSettings(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.big_account_revenue < 0:
            raise InvalidCoachSettings(
                f"big_account_revenue must be 0 or more, got {self.big_account_revenue}"
            )
        if self.profile_from_stage > self.profile_until_stage:
            raise InvalidCoachSettings(
                f"profile_from_stage ({int(self.profile_from_stage)}) is after "
                f"profile_until_stage ({int(self.profile_until_stage)})"
            )
        for name in ("customer_file", "segment_fields"):
            ids = [f.id for f in getattr(self, name)]
            if any(not i.strip() for i in ids) or len(set(ids)) != len(ids):
                raise InvalidCoachSettings(f"{name}: field ids must be unique and not blank: {ids}")
        unknown = sorted(self.disabled_rules - RULES_BY_ID.keys())
        if unknown:
            raise InvalidCoachSettings(f"disabled_rules: unknown rule id(s): {', '.join(unknown)}")


# ---------------------------------------------------------------------------
# What the coach reads
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AccountContext:
    """An account as the coach sees it on ``today``.

    ``people`` are the account's contacts (their roles, if any, from any deal);
    ``activities`` every activity with the account, with its cost.
    ``won_revenue`` / ``won_orders``: won business over the relationship's
    ``business_lookback_days`` (``relationship.won_in_lookback``); the coach
    weighs against it the activity cost of the same window. ``open_deals``: the
    account's open deals. ``customer_since``: the first order's date, for the
    lifecycle's minimum years (none: 0 years). ``customer_file``: the ids of the
    customer-file and segmentation fields filled in (``FileField.id``).
    ``trust_actions_done``: ids of ``relationship.TRUST_ACTIONS`` done.
    """

    account_id: str
    name: str
    today: dt.date
    collective_decision: bool = False
    grade: Grade | None = None
    relationship_level: RelationshipLevel | None = None
    trust_actions_done: frozenset[str] = frozenset()
    people: tuple[Person, ...] = ()
    activities: tuple[Activity, ...] = ()
    won_revenue: Decimal = Decimal(0)
    won_orders: int = 0
    open_deals: tuple[Deal, ...] = ()
    customer_since: dt.date | None = None
    customer_file: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class DealContext:
    """A deal as the coach sees it on ``today``.

    The buying center is ``deal.people``. ``activities``: the activities with
    this deal's people (the effort spent is counted from them);
    ``insider_claims``: what the deal's insider told us. ``account``, when given,
    makes the deal a collective decision if the account is one.
    """

    deal: Deal
    today: dt.date
    activities: tuple[Activity, ...] = ()
    insider_claims: tuple[insider.InsiderClaim, ...] = ()
    account: AccountContext | None = None


# ---------------------------------------------------------------------------
# What the coach says
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """What a rule's check returns; the coach adds the rule's id and section."""

    severity: Severity
    message: Text
    evidence: tuple[Text, ...] = ()
    subject_id: str | None = None


@dataclass(frozen=True)
class Recommendation:
    """One piece of advice: which rule, how urgent, what to do and why.

    ``section`` is METHOD.md's (e.g. ``"§2"``); ``subject_id`` the deal,
    person or account it is about.
    """

    rule_id: str
    severity: Severity
    message: Text
    evidence: tuple[Text, ...]
    section: str
    subject_id: str | None


@dataclass(frozen=True)
class Rule:
    """One rule of the method. ``check(ctx, settings)`` yields ``Finding`` s.

    ``ctx`` is a ``DealContext`` for scope ``"deal"``, an ``AccountContext`` for
    ``"account"``. A rule with ``attached_to`` runs only when one of those rules
    (same scope) fired in the same run.
    """

    id: str
    section: str
    scope: Scope
    title: Text
    check: Callable[[Any, CoachSettings], Iterable[Finding]]
    attached_to: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# Labels and helpers
# ---------------------------------------------------------------------------

_KIND = {
    ActivityKind.VISIT: Text("拜访", "visit"),
    ActivityKind.CALL: Text("电话", "call"),
    ActivityKind.MEETING: Text("会议", "meeting"),
    ActivityKind.EMAIL: Text("邮件", "email"),
    ActivityKind.SITE_VISIT: Text("参观考察", "site visit"),
    ActivityKind.ENTERTAINMENT: Text("招待", "entertainment"),
    ActivityKind.GIFT: Text("礼品", "gift"),
}
_INFLUENCE = {
    Influence.LOW: Text("低", "low"),
    Influence.MEDIUM: Text("中", "medium"),
    Influence.HIGH: Text("高", "high"),
}
_ATTITUDE = {
    Attitude.SUPPORTER: Text("支持", "supporter"),
    Attitude.NEUTRAL: Text("中立", "neutral"),
    Attitude.OPPONENT: Text("反对", "opponent"),
}
_FACT = {
    InsiderFact.SCHEDULE: Text("项目进度", "schedule"),
    InsiderFact.BUDGET: Text("预算", "budget"),
    InsiderFact.ORGANISATION: Text("组织结构", "organisation"),
    InsiderFact.ROLES: Text("角色分工", "roles"),
    InsiderFact.KEY_PEOPLE: Text("关键人", "key people"),
    InsiderFact.COMPETITORS: Text("竞争对手", "competitors"),
}


def _who(p: Person) -> str:
    return p.name or p.id


def _who_title(p: Person) -> Text:
    if not p.title:
        return Text(_who(p), _who(p))
    return Text(f"{_who(p)}（{p.title}）", f"{_who(p)} ({p.title})")


def _join(texts: Iterable[Text]) -> Text:
    texts = list(texts)
    return Text("、".join(t.zh for t in texts), ", ".join(t.en for t in texts))


def _names(people: Iterable[Person]) -> Text:
    return _join(Text(_who(p), _who(p)) for p in people)


def _money(amount: Decimal) -> str:
    return f"{amount:,}"


def _person_facts(p: Person, s: CoachSettings) -> Text:
    strength = buying_center.STRENGTH_LABELS[p.strength]
    return Text(
        f"{_who(p)}：态度{_ATTITUDE[p.attitude].zh}，影响力{_INFLUENCE[p.influence].zh}，"
        f"目前{strength.zh}",
        f"{_who(p)}: {_ATTITUDE[p.attitude].en}, {_INFLUENCE[p.influence].en} influence, "
        f'relationship "{strength.en}"',
    )


def _stage(stage: Stage, s: CoachSettings) -> Text:
    name = s.method.process.definition(stage).name
    return Text(f"{name.zh}（第{int(stage)}阶段）", f"{name.en} (stage {int(stage)})")


def _deal_name(deal: Deal) -> Text:
    return Text(f"“{deal.name}”", f'"{deal.name}"')


def _collective(ctx: DealContext) -> bool:
    return ctx.deal.collective_decision or (
        ctx.account is not None and ctx.account.collective_decision
    )


def _coverage(ctx: DealContext, s: CoachSettings) -> buying_center.Coverage:
    return buying_center.coverage(
        ctx.deal.people, collective_decision=_collective(ctx), settings=s.method.buying_center
    )


def _people(ctx: DealContext) -> dict[str, Person]:
    return {p.id: p for p in ctx.deal.people}


def _covered_label(s: CoachSettings) -> Text:
    return buying_center.STRENGTH_LABELS[s.method.buying_center.covered_strength]


def _quadrants(quadrants: Iterable, s: CoachSettings) -> Text:
    return _join(s.method.whole_brain.label(q) for q in quadrants)


def _in_window(day: dt.date, today: dt.date, days: int) -> bool:
    """Whether ``day`` is one of the ``days`` days ending with ``today``."""
    return 0 <= (today - day).days < days


# ---------------------------------------------------------------------------
# §1 Leads and screening
# ---------------------------------------------------------------------------


def _scr_no_grade(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.grade is not None:
        return
    name = _deal_name(deal)
    suggested = _suggested_grade(ctx, s)
    yield Finding(
        Severity.WARNING,
        Text(
            f"{name.zh}还没有ABCD分级：按预计成交时间和赢单把握先分级，再决定投入多少时间和资源。",
            f"{name.en} has no A/B/C/D grade yet: grade it by expected close and win "
            "likelihood before deciding how much time and resource it gets.",
        ),
        (suggested[1],) if suggested else (),
        deal.id,
    )


def _suggested_grade(ctx: DealContext, s: CoachSettings) -> tuple[Grade, Text] | None:
    """The grade screening gives the deal now, with why; None without a close date."""
    deal = ctx.deal
    if deal.expected_close is None:
        return None
    chance = probability.probability(
        deal,
        process_settings=s.method.process,
        buying_center_settings=s.method.buying_center,
        settings=s.method.probability,
    ).value
    grade = screening.grade(
        deal.expected_close, today=ctx.today, win_likelihood=chance, settings=s.method.screening
    )
    return grade, Text(
        f"预计{deal.expected_close.isoformat()}成交，赢单概率{chance:.0%}：按筛选规则应为{grade.value}类。",
        f"Expected to close on {deal.expected_close.isoformat()} at a {chance:.0%} win "
        f"probability: screening puts it in grade {grade.value}.",
    )


def _scr_grade_d_effort(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.grade is not Grade.D:
        return
    window = s.effort_window_days
    recent = sorted(
        (a for a in ctx.activities if _in_window(a.on, ctx.today, window)), key=lambda a: a.on
    )
    if len(recent) <= s.grade_d_max_activities:
        return
    cost = sum((a.cost for a in recent), Decimal(0))
    name = _deal_name(deal)
    yield Finding(
        Severity.WARNING,
        Text(
            f"{name.zh}是D类商机，近{window}天却投入了{len(recent)}次活动"
            f"（上限{s.grade_d_max_activities}次），花费{_money(cost)}：时间和资源应先放在A类上。",
            f"{name.en} is a grade-D deal yet took {len(recent)} activities in the last "
            f"{window} days (limit {s.grade_d_max_activities}), costing {_money(cost)}: "
            "put time and resources on grade A first.",
        ),
        tuple(
            Text(f"{a.on.isoformat()} {_KIND[a.kind].zh}", f"{a.on.isoformat()} {_KIND[a.kind].en}")
            for a in recent
        ),
        deal.id,
    )


def _scr_grade_stale(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.grade is None:
        return
    suggested = _suggested_grade(ctx, s)
    if suggested is None or suggested[0] is deal.grade:
        return
    grade, why = suggested
    name = _deal_name(deal)
    yield Finding(
        Severity.INFO,
        Text(
            f"{name.zh}记为{deal.grade.value}类，按现在的预计成交时间和把握应为{grade.value}类："
            "重新评估优先级。",
            f"{name.en} is graded {deal.grade.value}, but its expected close and win "
            f"likelihood now say {grade.value}: review its priority.",
        ),
        (why,),
        deal.id,
    )


def _scr_no_source(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    if ctx.deal.source is not None:
        return
    name = _deal_name(ctx.deal)
    yield Finding(
        Severity.INFO,
        Text(
            f"{name.zh}没有记录线索来源：记下来源，才能衡量各渠道的线索产出。",
            f"{name.en} has no lead source: record it so that each source's yield can be measured.",
        ),
        (),
        ctx.deal.id,
    )


def _scr_account_no_grade(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    if ctx.grade is not None:
        return
    yield Finding(
        Severity.INFO,
        Text(
            f"客户{ctx.name}还没有ABCD分级：分了级，才知道时间和资源先放在哪里（20/80法则）。",
            f"{ctx.name} has no A/B/C/D grade yet: grade it to know where time and resources "
            "go first (the 20/80 rule).",
        ),
        (),
        ctx.account_id,
    )


# ---------------------------------------------------------------------------
# §2 The buying center and the key-person strategy
# ---------------------------------------------------------------------------


def _bc_no_insider(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.stage < s.insider_from_stage or _coverage(ctx, s).has_insider:
        return
    name = _deal_name(deal)
    stage = _stage(deal.stage, s)
    candidates = [p for p in deal.people if p.attitude is Attitude.SUPPORTER]
    evidence = tuple(
        Text(
            f"内线人选：{_who_title(p).zh}支持我们",
            f"Insider candidate: {_who_title(p).en} supports us",
        )
        for p in candidates
    )
    yield Finding(
        Severity.WARNING,
        Text(
            f"{name.zh}已到{stage.zh}，还没有内线：看不到客户的进度、预算和决策内幕。"
            "找一位参加相关会议、能从项目中受益或认可我们的人。",
            f"{name.en} is in {stage.en} with no insider: you cannot see the customer's "
            "schedule, budget and decision from the inside. Find someone who sits in the "
            "meetings and gains from the deal or likes us.",
        ),
        evidence,
        deal.id,
    )


def _bc_tech_opposed(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    people = _people(ctx)
    for person_id in _coverage(ctx, s).of(Role.TECHNICAL).opponents:
        p = people[person_id]
        who = _who_title(p)
        yield Finding(
            Severity.CRITICAL,
            Text(
                f"技术选型人{who.zh}反对我们：他不能说“是”，却能说“不”，随时可能否决方案。"
                "先弄清他的顾虑，再用测试报告和运行案例回应。",
                f"Technical person {who.en} opposes us: they cannot say yes but can say no, "
                "and may veto the solution. Find out their objection, then answer it with test "
                "reports and running installations.",
            ),
            (_person_facts(p, s),),
            p.id,
        )


def _bc_tech_uncovered(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    cov = _coverage(ctx, s)
    technical = cov.of(Role.TECHNICAL)
    covered = _covered_label(s)
    if not technical.mapped:
        if deal.stage >= s.technical_mapped_from_stage:
            stage = _stage(deal.stage, s)
            name = _deal_name(deal)
            yield Finding(
                Severity.WARNING,
                Text(
                    f"{name.zh}已到{stage.zh}，还没有明确技术选型人：方案要过他这一关，"
                    "他能说“不”。",
                    f"{name.en} is in {stage.en} and no technical person is mapped: the "
                    "solution has to pass them, and they can say no.",
                ),
                (),
                deal.id,
            )
        return
    people = _people(ctx)
    for person_id in technical.holders:
        p = people[person_id]
        if person_id in technical.covered_by or p.attitude is Attitude.OPPONENT:
            continue
        strength = buying_center.STRENGTH_LABELS[p.strength]
        who = _who_title(p)
        yield Finding(
            Severity.WARNING,
            Text(
                f"与技术选型人{who.zh}的关系只到“{strength.zh}”，不到“{covered.zh}”："
                "技术人能说“不”，要尽快建立信任，让方案得到他的认可。",
                f'The relationship with technical person {who.en} is only "{strength.en}", '
                f'below "{covered.en}": the technical person can say no. Build trust and get '
                "the solution accepted by them.",
            ),
            (_person_facts(p, s),),
            p.id,
        )


def _bc_leadership(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    cov = _coverage(ctx, s)
    if not cov.collective_decision:
        return
    people = _people(ctx)
    evidence = []
    if cov.no_leadership_recorded:
        evidence.append(
            Text("还没有记录任何领导班子成员。", "No member of the leadership team recorded yet.")
        )
    if cov.leadership_unmapped:
        names = _names(people[i] for i in cov.leadership_unmapped)
        evidence.append(
            Text(
                f"班子成员{names.zh}尚未标为决策人。",
                f"Leadership members not marked as decision makers: {names.en}.",
            )
        )
    covered = _covered_label(s)
    for person_id in cov.leadership_uncovered:
        p = people[person_id]
        strength = buying_center.STRENGTH_LABELS[p.strength]
        evidence.append(
            Text(
                f"与班子成员{_who(p)}的关系只到“{strength.zh}”，不到“{covered.zh}”。",
                f'Leadership member {_who(p)}: relationship "{strength.en}", below "{covered.en}".',
            )
        )
    if not evidence:
        return
    deal = ctx.deal
    late = deal.stage >= s.decision_maker_covered_from_stage
    name = _deal_name(deal)
    yield Finding(
        Severity.CRITICAL if late else Severity.WARNING,
        Text(
            f"{name.zh}是集体决策（三重一大）：决策人是整个领导班子，每位成员都要梳理清楚并建立关系。",
            f"{name.en} is a collective decision: the decision maker is the whole leadership "
            "team, so every member must be mapped and covered.",
        ),
        tuple(evidence),
        deal.id,
    )


def _bc_no_decision_maker(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.stage < s.decision_maker_mapped_from_stage:
        return
    if _coverage(ctx, s).of(Role.DECISION_MAKER).mapped:
        return
    name = _deal_name(deal)
    stage = _stage(deal.stage, s)
    yield Finding(
        Severity.CRITICAL,
        Text(
            f"{name.zh}已到{stage.zh}，还不知道谁是决策人：弄清是谁拍板"
            "（总经理还是领导班子），否则方案可能白做。",
            f"{name.en} is in {stage.en} and nobody is mapped as decision maker: find out who "
            "signs off (the general manager or the leadership team), or the proposal may be "
            "wasted.",
        ),
        (),
        deal.id,
    )


def _bc_decision_maker_outsider(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.stage < s.decision_maker_covered_from_stage:
        return
    people = _people(ctx)
    name = _deal_name(deal)
    stage = _stage(deal.stage, s)
    covered = _covered_label(s)
    makers = _coverage(ctx, s).of(Role.DECISION_MAKER)
    for person_id in makers.holders:
        if person_id in makers.covered_by:
            continue
        p = people[person_id]
        strength = buying_center.STRENGTH_LABELS[p.strength]
        who = _who_title(p)
        yield Finding(
            Severity.CRITICAL,
            Text(
                f"{name.zh}已到{stage.zh}，决策人{who.zh}和我们的关系还只是“{strength.zh}”"
                f"（要到“{covered.zh}”）：对他来说我们还是局外人，抓紧建立信任。",
                f'{name.en} is in {stage.en} and decision maker {who.en} is still at "'
                f'{strength.en}" (needs "{covered.en}"): to them we are outsiders. Build their '
                "trust now.",
            ),
            (_person_facts(p, s),),
            p.id,
        )


def _bc_opponent_high(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    key = s.method.buying_center.key_influence
    for p in ctx.deal.people:
        # A technical opponent is already a veto risk (BC-TECH-OPPOSED).
        if p.attitude is not Attitude.OPPONENT or p.influence < key or Role.TECHNICAL in p.roles:
            continue
        who = _who_title(p)
        yield Finding(
            Severity.WARNING,
            Text(
                f"{who.zh}影响力高，却反对我们：弄清他反对的原因和他在意的利益，至少争取他保持中立。",
                f"{who.en} has high influence and opposes us: find out why and what they care "
                "about, and win them at least to neutral.",
            ),
            (_person_facts(p, s),),
            p.id,
        )


def _bc_title_mismatch(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    for mismatch in buying_center.title_role_mismatches(
        ctx.deal.people, settings=s.method.buying_center
    ):
        yield Finding(
            Severity.INFO,
            Text(
                f"职位与角色可能错位，请核实：{mismatch.message.zh}",
                f"Title and role may not match; check it: {mismatch.message.en}",
            ),
            (),
            mismatch.person_id,
        )


def _insiders(ctx: DealContext, s: CoachSettings) -> Text:
    people = _people(ctx)
    return _names(people[i] for i in _coverage(ctx, s).insiders)


def _bc_insider_doubtful(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    report = insider.insider_reliability(ctx.insider_claims, settings=s.method.insider)
    if report.verdict is not insider.Verdict.DOUBTFUL:
        return
    names = _insiders(ctx, s)
    who = Text(names.zh or "内线", names.en or "the insider")
    evidence = [report.message]
    if report.contradicted:
        facts = _join(_FACT[f] for f in report.contradicted)
        evidence.append(
            Text(f"被事实否定的信息：{facts.zh}", f"Contradicted by events: {facts.en}")
        )
    yield Finding(
        Severity.WARNING,
        Text(
            f"{who.zh}提供的信息不太可靠（{report.claims_confirmed}条证实，"
            f"{report.claims_contradicted}条被否定）：关键信息要从其他渠道交叉核实。",
            f"What {who.en} tells us is doubtful ({report.claims_confirmed} confirmed, "
            f"{report.claims_contradicted} contradicted): cross-check the key facts elsewhere.",
        ),
        tuple(evidence),
        ctx.deal.id,
    )


def _bc_insider_no_facts(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.stage < s.insider_facts_from_stage or not _coverage(ctx, s).has_insider:
        return
    report = insider.insider_reliability(ctx.insider_claims, settings=s.method.insider)
    missing = [f for f in InsiderFact if f in s.insider_facts_needed and f not in report.supplied]
    if not missing:
        return
    names = _insiders(ctx, s)
    facts = _join(_FACT[f] for f in missing)
    name = _deal_name(deal)
    stage = _stage(deal.stage, s)
    yield Finding(
        Severity.WARNING,
        Text(
            f"{name.zh}已到{stage.zh}，内线{names.zh}还没有告诉我们{facts.zh}：请他摸清楚。",
            f"{name.en} is in {stage.en} and insider {names.en} has not yet told us the "
            f"{facts.en}: ask them to find out.",
        ),
        (report.message,),
        deal.id,
    )


def _bc_account_leadership(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    if not ctx.collective_decision:
        return
    cov = buying_center.coverage(
        ctx.people, collective_decision=True, settings=s.method.buying_center
    )
    people = {p.id: p for p in ctx.people}
    covered = _covered_label(s)
    if cov.no_leadership_recorded:
        evidence = (
            Text("还没有记录任何领导班子成员。", "No member of the leadership team recorded yet."),
        )
    elif cov.leadership_uncovered:
        evidence = tuple(
            Text(
                f"{_who(p)}：关系“{buying_center.STRENGTH_LABELS[p.strength].zh}”",
                f'{_who(p)}: relationship "{buying_center.STRENGTH_LABELS[p.strength].en}"',
            )
            for p in (people[i] for i in cov.leadership_uncovered)
        )
    else:
        return
    yield Finding(
        Severity.WARNING,
        Text(
            f"客户{ctx.name}实行集体决策（三重一大），领导班子每位成员都要认识并建立“{covered.zh}”"
            "以上的关系。",
            f"{ctx.name} decides collectively: know every member of the leadership team and "
            f'bring each to "{covered.en}" or better.',
        ),
        evidence,
        ctx.account_id,
    )


# ---------------------------------------------------------------------------
# §3 The standard process
# ---------------------------------------------------------------------------


def _pr_forced(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    drift = process.stage_drift(deal, settings=s.method.process)
    if drift is None:
        return
    name = _deal_name(deal)
    back = _stage(drift.customer_step, s)
    evidence = [drift.message]
    for o in deal.overrides:
        evidence.append(
            Text(
                f"{o.on.isoformat()} {o.by}从第{int(o.from_stage)}阶段强行推进到第"
                f"{int(o.to_stage)}阶段，理由：{o.reason}",
                f"{o.on.isoformat()} {o.by} forced it from stage {int(o.from_stage)} to stage "
                f"{int(o.to_stage)}: {o.reason}",
            )
        )
    if drift.overridden:
        how = Text("推进时记录了理由，", "A reason was recorded, ")
    else:
        how = Text(
            "没有强行推进的记录（阶段可能是导入或手工改的），",
            "no forced advance was recorded (the stage may have been imported or edited), ",
        )
    yield Finding(
        Severity.WARNING,
        Text(
            f"{name.zh}越过关键节点被推进了{drift.stages_ahead}个阶段：{how.zh}"
            f"但缺关键节点，成功概率大大降低。补齐证据，或退回{back.zh}。",
            f"{name.en} was pushed {drift.stages_ahead} stage(s) past its key nodes. {how.en}"
            f"but without them the chance of success drops sharply. Evidence the nodes or move "
            f"it back to {back.en}.",
        ),
        tuple(evidence),
        deal.id,
    )


def _pr_next_nodes(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.stage is Stage.IMPLEMENTATION:
        return
    checked = process.gate(deal, settings=s.method.process)
    if checked.allowed:
        return
    nodes = _join(n.label for n in checked.missing)
    target = _stage(checked.to_stage, s)
    name = _deal_name(deal)
    yield Finding(
        Severity.INFO,
        Text(
            f"{name.zh}要进入{target.zh}，还缺关键节点：{nodes.zh}。",
            f"For {name.en} to reach {target.en}, key nodes still missing: {nodes.en}.",
        ),
        (),
        deal.id,
    )


# ---------------------------------------------------------------------------
# §4 The funnel
# ---------------------------------------------------------------------------


def _fn_stuck(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    for found in funnel.stuck(
        (ctx.deal,),
        today=ctx.today,
        process_settings=s.method.process,
        settings=s.method.funnel,
    ):
        name = _deal_name(ctx.deal)
        yield Finding(
            Severity.WARNING,
            Text(
                f"{name.zh}{found.reason.zh}：查清卡在哪个关键节点，决定推进、降级还是放弃。",
                f"{name.en}: {found.reason.en}. Find the key node it is stuck on and decide to "
                "push, downgrade or drop it.",
            ),
            (),
            ctx.deal.id,
        )


def _fn_overdue(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    for found in funnel.overdue((ctx.deal,), today=ctx.today, settings=s.method.funnel):
        name = _deal_name(ctx.deal)
        yield Finding(
            Severity.WARNING,
            Text(
                f"{name.zh}{found.reason.zh}：向内线核实客户的真实进度，更新预计成交日期。",
                f"{name.en} is {found.reason.en}: check the customer's real schedule with the "
                "insider and update the expected close.",
            ),
            (),
            ctx.deal.id,
        )


def _fn_no_close_date(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.expected_close is not None or deal.stage is Stage.IMPLEMENTATION:
        return
    if funnel.is_off_funnel(deal.amount, settings=s.method.funnel):
        return
    name = _deal_name(deal)
    yield Finding(
        Severity.INFO,
        Text(
            f"{name.zh}（{_money(deal.amount)}）没有预计成交日期，算不进销售预计：向客户问清时间表。",
            f"{name.en} ({_money(deal.amount)}) has no expected close date and cannot enter "
            "the forecast: ask the customer for the timetable.",
        ),
        (),
        deal.id,
    )


# ---------------------------------------------------------------------------
# §5 Relationship marketing
# ---------------------------------------------------------------------------


def _last_visits(activities: Iterable[Activity], today: dt.date) -> dict[str, dt.date]:
    last: dict[str, dt.date] = {}
    for a in activities:
        if a.kind not in VISIT_KINDS or a.on > today:
            continue
        for person_id in a.contact_ids:
            if person_id not in last or a.on > last[person_id]:
                last[person_id] = a.on
    return last


@dataclass(frozen=True)
class _Late:
    person: Person
    days: int | None  # None: never visited
    cadence: int


def _late_visits(
    people: Iterable[Person],
    *,
    cadence: int,
    activities: Iterable[Activity],
    today: dt.date,
    since: dt.date | None,
) -> Iterator[_Late]:
    """People not visited for longer than ``cadence`` days; never visited counts
    from ``since`` (when the deal or the custom began; unknown: at once)."""
    last = _last_visits(activities, today)
    for p in people:
        seen = last.get(p.id)
        if seen is not None:
            if (today - seen).days > cadence:
                yield _Late(p, (today - seen).days, cadence)
        elif since is None or (today - since).days > cadence:
            yield _Late(p, None, cadence)


def _grade_text(grade: Grade | None, s: CoachSettings) -> Text:
    if grade is None:
        g = s.ungraded_visits_as.value
        return Text(f"未分级，按{g}类", f"ungraded, taken as {g}")
    return Text(f"{grade.value}类", f"grade {grade.value}")


def _key_late_finding(late: _Late, grade: Text) -> Finding:
    who = _who_title(late.person)
    if late.days is None:
        gap = Text(f"还没有拜访过关键人{who.zh}", f"Key person {who.en} has never been visited")
    else:
        gap = Text(
            f"已经{late.days}天没有拜访关键人{who.zh}",
            f"Key person {who.en} has not been visited for {late.days} days",
        )
    return Finding(
        Severity.WARNING,
        Text(
            f"{gap.zh}（{grade.zh}，至少每{late.cadence}天一次）：关系是走出来的，安排下次拜访。",
            f"{gap.en} ({grade.en}: at least every {late.cadence} days): relationships are "
            "walked out, so plan the next visit.",
        ),
        (),
        late.person.id,
    )


def _rel_key_cadence(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    grade = deal.grade or s.ungraded_visits_as
    key = set(_coverage(ctx, s).key_people)
    for late in _late_visits(
        (p for p in deal.people if p.id in key),
        cadence=s.key_visit_days[grade],
        activities=ctx.activities,
        today=ctx.today,
        since=deal.created_on,
    ):
        yield _key_late_finding(late, _grade_text(deal.grade, s))


def _rel_front_cadence(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    grade_text = _grade_text(deal.grade, s)
    key = set(_coverage(ctx, s).key_people)
    for late in _late_visits(
        (p for p in deal.people if p.id not in key),
        cadence=s.other_visit_days[deal.grade or s.ungraded_visits_as],
        activities=ctx.activities,
        today=ctx.today,
        since=deal.created_on,
    ):
        who = _who_title(late.person)
        if late.days is None:
            gap = Text(f"还没有拜访过{who.zh}", f"{who.en} has never been visited")
        else:
            gap = Text(
                f"已经{late.days}天没有拜访{who.zh}",
                f"{who.en} has not been visited for {late.days} days",
            )
        yield Finding(
            Severity.INFO,
            Text(
                f"{gap.zh}（{grade_text.zh}，至少每{late.cadence}天一次）："
                "与所有相关的人保持良好关系，建立广泛的统一战线。",
                f"{gap.en} ({grade_text.en}: at least every {late.cadence} days): keep good "
                "relations with everyone involved, a broad united front.",
            ),
            (),
            late.person.id,
        )


def _rel_account_cadence(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    grade = ctx.grade or s.ungraded_visits_as
    for late in _late_visits(
        (p for p in ctx.people if relationship.is_key_person(p)),
        cadence=s.key_visit_days[grade],
        activities=ctx.activities,
        today=ctx.today,
        since=ctx.customer_since,
    ):
        yield _key_late_finding(late, _grade_text(ctx.grade, s))


def _contacts(a: Activity, people: Mapping[str, Person]) -> Text:
    return _join(
        Text(_who(people[i]), _who(people[i])) if i in people else Text(i, i)
        for i in sorted(a.contact_ids)
    )


def _rel_no_pretext(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    window = s.pretext_lookback_days
    bare = sorted(
        (
            a
            for a in ctx.activities
            if a.kind in VISIT_KINDS
            and _in_window(a.on, ctx.today, window)
            and not a.next_pretext.strip()
        ),
        key=lambda a: a.on,
    )
    if not bare:
        return
    people = {p.id: p for p in ctx.people}
    evidence = []
    for a in bare:
        who = _contacts(a, people)
        evidence.append(
            Text(
                f"{a.on.isoformat()} {_KIND[a.kind].zh} {who.zh}".rstrip(),
                f"{a.on.isoformat()} {_KIND[a.kind].en} {who.en}".rstrip(),
            )
        )
    yield Finding(
        Severity.INFO,
        Text(
            f"客户{ctx.name}近{window}天有{len(bare)}次拜访没有留下下次拜访的借口："
            "每次拜访都要有理由，并为下一次埋好伏笔。",
            f"{ctx.name}: {len(bare)} visit(s) in the last {window} days left no pretext for "
            "the next one. Every visit needs a reason and should set up the next.",
        ),
        tuple(evidence),
        ctx.account_id,
    )


def _rel_visit_overdue(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    today = ctx.today
    kept = agenda.kept_by(a for a in ctx.activities if a.kind in VISIT_KINDS and a.on <= today)
    people = {p.id: p for p in ctx.people}
    overdue = []
    for a in ctx.activities:
        if a.next_on is None or (today - a.next_on).days <= s.next_visit_grace_days:
            continue
        if not kept(a):
            overdue.append(a)
    if not overdue:
        return
    overdue.sort(key=lambda a: a.next_on)
    evidence = []
    for a in overdue:
        who = _contacts(a, people)
        step = Text(f"（{a.next_step}）", f" ({a.next_step})") if a.next_step else Text("", "")
        evidence.append(
            Text(
                f"{a.on.isoformat()}约定{a.next_on.isoformat()}再见{who.zh or '客户'}{step.zh}，"
                f"已过{(today - a.next_on).days}天",
                f"On {a.on.isoformat()} planned to see {who.en or 'them'} again on "
                f"{a.next_on.isoformat()}{step.en}: {(today - a.next_on).days} days ago",
            )
        )
    worst = (today - overdue[0].next_on).days
    yield Finding(
        Severity.WARNING,
        Text(
            f"客户{ctx.name}有{len(overdue)}次约好的下次拜访没有去，最久的已过{worst}天："
            "说到就要做到，尽快补上。",
            f"{ctx.name}: {len(overdue)} planned next visit(s) did not happen, the oldest "
            f"{worst} days ago. Keep every promise: go now.",
        ),
        tuple(evidence),
        ctx.account_id,
    )


def _rel_one_person(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    dependency = relationship.single_person_dependency(ctx.people, settings=s.method.relationship)
    if not dependency.at_risk:
        return
    yield Finding(
        Severity.WARNING,
        Text(
            f"客户{ctx.name}的关系押在一个人身上：人会调动，情绪会变。把个人关系提升为组织关系。",
            f"The relationship with {ctx.name} rests on one person: people move and moods "
            "change. Lift it from personal to organisational.",
        ),
        dependency.findings,
        ctx.account_id,
    )


def _rel_cost(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    days = s.method.relationship.business_lookback_days
    costs = [a.cost for a in ctx.activities if _in_window(a.on, ctx.today, days)]
    report = relationship.relationship_cost(costs, ctx.won_revenue, settings=s.method.relationship)
    if not report.warning:
        return
    yield Finding(
        # With no revenue yet it is relationship-first spending: a prompt, not an alarm.
        Severity.WARNING if report.ratio is not None else Severity.INFO,
        Text(f"客户{ctx.name}：{report.message.zh}", f"{ctx.name}: {report.message.en}"),
        (
            Text(
                f"近{days}天关系成本{_money(report.cost)}，成交收入{_money(report.revenue)}",
                f"Last {days} days: relationship cost {_money(report.cost)}, won revenue "
                f"{_money(report.revenue)}",
            ),
        ),
        ctx.account_id,
    )


def _lifecycle(ctx: AccountContext, s: CoachSettings) -> Lifecycle:
    years = 0.0
    if ctx.customer_since is not None:
        years = max(0, (ctx.today - ctx.customer_since).days) / 365.25
    return relationship.lifecycle(
        ctx.won_orders,
        level=ctx.relationship_level,
        years_as_customer=years,
        settings=s.method.relationship,
    )


def _org_trust_gaps(ctx: AccountContext, s: CoachSettings) -> list[relationship.TrustAction]:
    gaps = relationship.trust_gaps(ctx.trust_actions_done, settings=s.method.relationship)
    return [a for a in gaps if a.kind is relationship.TrustKind.ORGANISATION]


def _rel_no_org_trust(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    if _lifecycle(ctx, s) is not Lifecycle.TRANSACTION:
        return
    gaps = _org_trust_gaps(ctx, s)
    every = [a for a in relationship.TRUST_ACTIONS if a.kind is relationship.TrustKind.ORGANISATION]
    if len(gaps) < len(every):
        return
    first = _join(a.label for a in gaps[:3])
    yield Finding(
        Severity.WARNING,
        Text(
            f"客户{ctx.name}已进入交易阶段，还没做过组织层面的信任建设：工业品客户最看重供应商"
            f"组织是否可靠，先从这些做起：{first.zh}。",
            f"{ctx.name} is in the transaction stage and nothing has been done yet for trust in "
            f"our organisation, which industrial buyers weigh most. Start with: {first.en}.",
        ),
        (),
        ctx.account_id,
    )


def _is_big(ctx: AccountContext, s: CoachSettings) -> bool:
    return ctx.grade in s.big_account_grades or ctx.won_revenue >= s.big_account_revenue


def _rel_price_level(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    level = ctx.relationship_level
    if level is not RelationshipLevel.PRICE or not _is_big(ctx, s):
        return
    described = relationship.LEVELS[level]
    copyable = relationship.can_be_copied(level)
    grade = Text(ctx.grade.value, ctx.grade.value) if ctx.grade else Text("未分级", "none")
    evidence = [
        Text(
            f"{described.label.zh}：{described.rests_on.zh}"
            + ("，竞争对手可以复制" if copyable else ""),
            f"{described.label.en}: {described.rests_on.en}"
            + (", which a competitor can copy" if copyable else ""),
        ),
        Text(
            f"客户级别：{grade.zh}；成交收入{_money(ctx.won_revenue)}",
            f"Grade: {grade.en}; won revenue {_money(ctx.won_revenue)}",
        ),
    ]
    yield Finding(
        Severity.WARNING,
        Text(
            f"大客户{ctx.name}的关系还停留在一级，靠价格维持：靠价格赢来的订单也会因价格丢掉。"
            "用个性化服务和互惠合作把关系提升到二级、三级。",
            f"Key account {ctx.name} is still a level-1 relationship resting on price: orders "
            "won on price are lost on price. Move it up with personalised service and mutual "
            "benefit.",
        ),
        tuple(evidence),
        ctx.account_id,
    )


def _rel_incubation_late(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    if _lifecycle(ctx, s) is not Lifecycle.INCUBATION:
        return
    late = [d for d in ctx.open_deals if d.is_open and d.stage >= s.late_stage]
    if not late:
        return
    proof = _join(a.label for a in _org_trust_gaps(ctx, s)[:3])
    evidence = (
        (Text(f"尚未做的组织信任工作：{proof.zh}", f"Not done yet: {proof.en}"),)
        if proof.zh
        else ()
    )
    for deal in late:
        name = _deal_name(deal)
        stage = _stage(deal.stage, s)
        yield Finding(
            Severity.WARNING,
            Text(
                f"客户{ctx.name}还没用过我们的产品（孕育阶段），{name.zh}却已到{stage.zh}："
                "客户对我们这个供应商还不放心，拿出第三方证明（检测报告、运行中的设备、"
                "老客户推荐、工厂考察）。",
                f"{ctx.name} has never used our products (incubation), yet {name.en} is in "
                f"{stage.en}: they do not know us as a supplier yet. Bring third-party proof "
                "(test reports, running installations, references, a factory visit).",
            ),
            evidence,
            deal.id,
        )


def _rel_supplier_only(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    axes = relationship.assess_axes(
        ctx.people,
        won_revenue=ctx.won_revenue,
        orders_won=ctx.won_orders,
        settings=s.method.relationship,
    )
    if axes.type is not RelationshipType.SUPPLIER:
        return
    described = axes.description
    yield Finding(
        Severity.INFO,
        Text(
            f"我们对客户{ctx.name}只是“{described.label.zh}”：{described.explanation.zh}"
            f"{described.next_step.zh}",
            f"With {ctx.name} we are only a {described.label.en.lower()}: "
            f"{described.explanation.en} {described.next_step.en}",
        ),
        (),
        ctx.account_id,
    )


# ---------------------------------------------------------------------------
# §6 Whole-brain profiles
# ---------------------------------------------------------------------------


def _decision_makers(ctx: DealContext) -> list[Person]:
    # Whom whole_brain.combined_profile counts as decision makers, to name them.
    return [p for p in ctx.deal.people if Role.DECISION_MAKER in p.roles or p.leadership_member]


def _profile_facts(people: Iterable[Person], s: CoachSettings) -> tuple[Text, ...]:
    facts = []
    for p in people:
        if p.brain is None:
            continue
        prof = whole_brain.from_brain(p.brain)
        dominant = _quadrants(prof.dominant, s)
        facts.append(
            Text(
                f"{_who(p)}：以{dominant.zh or '—'}为主，置信度{prof.confidence:.0%}",
                f"{_who(p)}: mainly {dominant.en or '—'}, confidence {prof.confidence:.0%}",
            )
        )
    return tuple(facts)


def _wb_emphasis(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    emphasis = ctx.deal.proposal_emphasis
    if emphasis is None:
        return
    wb = s.method.whole_brain
    combined = whole_brain.combined_profile(ctx.deal.people, settings=wb).decision_makers
    if whole_brain.emphasis_matches(emphasis, combined):
        return
    makers = _decision_makers(ctx)
    names = _names(p for p in makers if p.brain is not None)
    dominant = _quadrants(combined.dominant, s)
    bring = whole_brain.advice(combined.dominant[0], settings=wb).bring
    yield Finding(
        Severity.WARNING,
        Text(
            f"方案侧重{wb.label(emphasis).zh}，而决策人{names.zh}以{dominant.zh}为主："
            f"换成他听得进去的方式，带上{bring.zh}",
            f"The proposal stresses {wb.label(emphasis).en}, but the decision makers "
            f"({names.en}) are mainly {dominant.en}: speak their language and bring: {bring.en}",
        ),
        _profile_facts(makers, s),
        ctx.deal.id,
    )


def _wb_no_emphasis(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if deal.proposal_emphasis is not None or deal.stage < s.emphasis_from_stage:
        return
    wb = s.method.whole_brain
    combined = whole_brain.combined_profile(deal.people, settings=wb).decision_makers
    if not combined.dominant:
        return
    dominant = _quadrants(combined.dominant, s)
    bring = whole_brain.advice(combined.dominant[0], settings=wb).bring
    name = _deal_name(deal)
    yield Finding(
        Severity.INFO,
        Text(
            f"{name.zh}的方案还没定侧重点：决策人以{dominant.zh}为主，方案里要有{bring.zh}",
            f"The proposal for {name.en} has no emphasis yet: the decision makers are mainly "
            f"{dominant.en}, so bring: {bring.en}",
        ),
        _profile_facts(_decision_makers(ctx), s),
        deal.id,
    )


def _wb_low_confidence(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    deal = ctx.deal
    if not s.profile_from_stage <= deal.stage <= s.profile_until_stage:
        return
    wb = s.method.whole_brain
    key = set(_coverage(ctx, s).key_people)
    evidence = []
    for p in deal.people:
        if p.id not in key:
            continue
        if p.brain is None:
            evidence.append(Text(f"{_who(p)}：还没有全脑图", f"{_who(p)}: no profile yet"))
            continue
        prof = whole_brain.from_brain(p.brain)
        if prof.confidence < wb.low_confidence_below:
            evidence += _profile_facts((p,), s)
    if not evidence:
        return
    name = _deal_name(deal)
    yield Finding(
        Severity.INFO,
        Text(
            f"{name.zh}提案前要摸清关键人的思维方式：{len(evidence)}位关键人的全脑图还没有把握。"
            "拜访时注意观察、倾听，记下他们的惯用语。",
            f"Before the proposal for {name.en}, learn how the key people think: "
            f"{len(evidence)} key person(s) have no sure profile. On each visit watch, listen "
            "and note the phrases they use.",
        ),
        tuple(evidence),
        deal.id,
    )


# ---------------------------------------------------------------------------
# §7 Personalised needs and segmentation
# ---------------------------------------------------------------------------


def _missing_fields(ctx: AccountContext, fields: tuple[FileField, ...]) -> list[FileField]:
    return [f for f in fields if f.id not in ctx.customer_file]


def _seg_file_incomplete(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    missing = _missing_fields(ctx, s.customer_file)
    if not missing:
        return
    labels = _join(f.label for f in missing)
    yield Finding(
        Severity.INFO,
        Text(
            f"客户{ctx.name}的大客户档案还缺：{labels.zh}。比客户更了解客户，才能先打非价格牌。",
            f"The customer file of {ctx.name} still lacks {labels.en}. Know the customer better "
            "than they know themselves, so you can lead with value, not price.",
        ),
        (),
        ctx.account_id,
    )


def _seg_unsegmented(ctx: AccountContext, s: CoachSettings) -> Iterator[Finding]:
    missing = _missing_fields(ctx, s.segment_fields)
    if not missing:
        return
    labels = _join(f.label for f in missing)
    yield Finding(
        Severity.INFO,
        Text(
            f"客户{ctx.name}还没有细分：缺{labels.zh}。细分之后才能针对同类客户提供个性化的服务。",
            f"{ctx.name} is not segmented yet: {labels.en} missing. Segments let you serve "
            "similar customers in a tailored way.",
        ),
        (),
        ctx.account_id,
    )


# ---------------------------------------------------------------------------
# §8 Sayings as tips
# ---------------------------------------------------------------------------


def _tip_calm_lake(ctx: DealContext, s: CoachSettings) -> Iterator[Finding]:
    cov = _coverage(ctx, s)
    # "Looks safe": the decision maker and the technical person are covered and on side.
    for role in (Role.DECISION_MAKER, Role.TECHNICAL):
        if not cov.of(role).covered or cov.of(role).opposed:
            return
    opponents = [p for p in ctx.deal.people if p.attitude is Attitude.OPPONENT]
    if not opponents:
        return
    names = _names(opponents)
    verb = "opposes" if len(opponents) == 1 else "oppose"
    yield Finding(
        Severity.INFO,
        Text(
            f"别以为湖面平静，鳄鱼就已经走开：决策人和技术人关系都不错，看似稳妥，"
            f"但{names.zh}仍反对我们。",
            "A calm lake does not mean the crocodile has left: the decision maker and the "
            f"technical person are on side and it looks safe, but {names.en} still {verb} us.",
        ),
        (),
        ctx.deal.id,
    )


def _tip(zh: str, en: str) -> Callable[[Any, CoachSettings], Iterator[Finding]]:
    def check(ctx: Any, s: CoachSettings) -> Iterator[Finding]:
        subject = ctx.deal.id if isinstance(ctx, DealContext) else ctx.account_id
        yield Finding(Severity.INFO, Text(zh, en), (), subject)

    return check


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------


RULES: tuple[Rule, ...] = (
    # §1
    Rule("SCR-NO-GRADE", "§1", "deal", Text("商机未分级", "Deal not graded"), _scr_no_grade),
    Rule(
        "SCR-GRADE-STALE",
        "§1",
        "deal",
        Text("分级与筛选规则不符", "Grade no longer fits the screening"),
        _scr_grade_stale,
    ),
    Rule(
        "SCR-GRADE-D-EFFORT",
        "§1",
        "deal",
        Text("D类商机占用过多精力", "Grade-D deal absorbing effort"),
        _scr_grade_d_effort,
    ),
    Rule("SCR-NO-SOURCE", "§1", "deal", Text("未记录线索来源", "No lead source"), _scr_no_source),
    Rule(
        "SCR-ACCOUNT-NO-GRADE",
        "§1",
        "account",
        Text("客户未分级", "Account not graded"),
        _scr_account_no_grade,
    ),
    # §2
    Rule(
        "BC-TECH-OPPOSED",
        "§2",
        "deal",
        Text("技术人反对：否决风险", "Technical person opposed: veto risk"),
        _bc_tech_opposed,
    ),
    Rule(
        "BC-NO-DM",
        "§2",
        "deal",
        Text("尚未明确决策人", "No decision maker mapped"),
        _bc_no_decision_maker,
    ),
    Rule(
        "BC-DM-OUTSIDER",
        "§2",
        "deal",
        Text("决策人仍是局外人", "Decision maker still an outsider"),
        _bc_decision_maker_outsider,
    ),
    Rule(
        "BC-LEADERSHIP",
        "§2",
        "deal",
        Text("集体决策：领导班子未全覆盖", "Collective decision: leadership not covered"),
        _bc_leadership,
    ),
    Rule("BC-NO-INSIDER", "§2", "deal", Text("没有内线", "No insider"), _bc_no_insider),
    Rule(
        "BC-TECH-UNCOVERED",
        "§2",
        "deal",
        Text("技术人未覆盖", "Technical person not covered"),
        _bc_tech_uncovered,
    ),
    Rule(
        "BC-OPPONENT-HIGH",
        "§2",
        "deal",
        Text("高影响力的反对者", "High-influence opponent"),
        _bc_opponent_high,
    ),
    Rule(
        "BC-INSIDER-DOUBTFUL",
        "§2",
        "deal",
        Text("内线信息存疑", "Doubtful insider"),
        _bc_insider_doubtful,
    ),
    Rule(
        "BC-INSIDER-NO-FACTS",
        "§2",
        "deal",
        Text("内线未提供预算或进度", "Insider gave no budget or schedule"),
        _bc_insider_no_facts,
    ),
    Rule(
        "BC-TITLE-MISMATCH",
        "§2",
        "deal",
        Text("职位与角色错位", "Title and role mismatch"),
        _bc_title_mismatch,
    ),
    Rule(
        "BC-ACCOUNT-LEADERSHIP",
        "§2",
        "account",
        Text("集体决策客户：领导班子未全覆盖", "Collective account: leadership not covered"),
        _bc_account_leadership,
    ),
    # §3
    Rule(
        "PR-FORCED",
        "§3",
        "deal",
        Text("越过关键节点推进", "Forced past a key node"),
        _pr_forced,
    ),
    Rule(
        "PR-NEXT-NODES",
        "§3",
        "deal",
        Text("下一阶段还缺的关键节点", "Key nodes for the next stage"),
        _pr_next_nodes,
    ),
    # §4
    Rule("FN-STUCK", "§4", "deal", Text("商机停滞", "Deal stuck in stage"), _fn_stuck),
    Rule("FN-OVERDUE", "§4", "deal", Text("超过预计成交日期", "Past expected close"), _fn_overdue),
    Rule(
        "FN-NO-CLOSE-DATE",
        "§4",
        "deal",
        Text("没有预计成交日期", "No expected close date"),
        _fn_no_close_date,
    ),
    # §5
    Rule(
        "REL-KEY-CADENCE",
        "§5",
        "deal",
        Text("关键人拜访间隔过长", "Key person not visited"),
        _rel_key_cadence,
    ),
    Rule(
        "REL-FRONT-CADENCE",
        "§5",
        "deal",
        Text("其他相关人拜访间隔过长", "Others in the buying center not visited"),
        _rel_front_cadence,
    ),
    Rule(
        "REL-ONE-PERSON",
        "§5",
        "account",
        Text("关系押在一个人身上", "Relationship resting on one person"),
        _rel_one_person,
    ),
    Rule(
        "REL-COST",
        "§5",
        "account",
        Text("关系成本偏高", "Relationship cost above its ratio"),
        _rel_cost,
    ),
    Rule(
        "REL-NO-ORG-TRUST",
        "§5",
        "account",
        Text("缺少组织层面的信任建设", "No organisation-level trust action"),
        _rel_no_org_trust,
    ),
    Rule(
        "REL-PRICE-LEVEL",
        "§5",
        "account",
        Text("大客户关系停留在价格层次", "Key account at the price level"),
        _rel_price_level,
    ),
    Rule(
        "REL-INCUBATION-LATE",
        "§5",
        "account",
        Text("孕育期客户的商机已到后期", "Incubation account with a late-stage deal"),
        _rel_incubation_late,
    ),
    Rule(
        "REL-VISIT-OVERDUE",
        "§5",
        "account",
        Text("约定的下次拜访已过期", "Planned next visit overdue"),
        _rel_visit_overdue,
    ),
    Rule(
        "REL-ACCOUNT-CADENCE",
        "§5",
        "account",
        Text("客户关键人拜访间隔过长", "Account's key person not visited"),
        _rel_account_cadence,
    ),
    Rule(
        "REL-NO-PRETEXT",
        "§5",
        "account",
        Text("拜访没有留下次拜访的借口", "Visit without a pretext for the next"),
        _rel_no_pretext,
    ),
    Rule(
        "REL-SUPPLIER-ONLY",
        "§5",
        "account",
        Text("只是供应商关系", "Only a supplier"),
        _rel_supplier_only,
    ),
    # §6
    Rule(
        "WB-EMPHASIS",
        "§6",
        "deal",
        Text("方案侧重与决策人思维不符", "Proposal emphasis misses the decision maker"),
        _wb_emphasis,
    ),
    Rule(
        "WB-NO-EMPHASIS",
        "§6",
        "deal",
        Text("方案未定侧重点", "Proposal without an emphasis"),
        _wb_no_emphasis,
    ),
    Rule(
        "WB-LOW-CONFIDENCE",
        "§6",
        "deal",
        Text("关键人全脑图把握不足", "Key people's profiles unsure"),
        _wb_low_confidence,
    ),
    # §7
    Rule(
        "SEG-FILE-INCOMPLETE",
        "§7",
        "account",
        Text("大客户档案不完整", "Customer file incomplete"),
        _seg_file_incomplete,
    ),
    Rule(
        "SEG-UNSEGMENTED",
        "§7",
        "account",
        Text("客户未细分", "Account not segmented"),
        _seg_unsegmented,
    ),
    # §8
    Rule(
        "TIP-CALM-LAKE",
        "§8",
        "deal",
        Text("湖面平静，鳄鱼未走", "A calm lake, a crocodile"),
        _tip_calm_lake,
    ),
    Rule(
        "TIP-NO-EXPLAINING",
        "§8",
        "deal",
        Text("不要忙着解释", "Don't be busy explaining"),
        _tip(
            "不要总是忙着给自己做解释：先让反对的人把顾虑说完，再用事实回应。",
            "Don't be busy explaining yourself: let those who oppose us say all their "
            "concerns first, then answer with facts.",
        ),
        attached_to=("BC-TECH-OPPOSED", "BC-OPPONENT-HIGH"),
    ),
    Rule(
        "TIP-NOT-HEARD",
        "§8",
        "deal",
        Text("以为说清楚了", "Thinking you were clear"),
        _tip(
            "要警惕自以为说清楚了，可对方没看到，也没听到：按决策人的思维方式再讲一遍，"
            "并确认他真的听进去了。",
            "Beware of thinking you were clear when they neither saw nor heard: say it again "
            "the way the decision maker thinks, and check that it landed.",
        ),
        attached_to=("WB-EMPHASIS",),
    ),
    Rule(
        "TIP-SIMPLE-MOVES",
        "§8",
        "account",
        Text("简单动作练到极致", "Simple moves to perfection"),
        _tip(
            "把简单的动作练到极致就是绝招：按时拜访，说到做到，每次都留下下次拜访的借口。",
            "Practise the simple moves to perfection: visit on time, keep your word, and leave "
            "a pretext for the next visit every time.",
        ),
        attached_to=("REL-NO-PRETEXT", "REL-VISIT-OVERDUE", "REL-ACCOUNT-CADENCE"),
    ),
    Rule(
        "TIP-BUCKET",
        "§8",
        "account",
        Text("一碗水与一桶水", "A bowl of water, a bucket"),
        _tip(
            "要给别人一碗水，自己就得准备一桶水：对客户了解得越多，给出的方案才越有分量。",
            "To give someone a bowl of water, carry a bucket: the more you know about the "
            "customer, the more your proposal weighs.",
        ),
        attached_to=("SEG-FILE-INCOMPLETE", "SEG-UNSEGMENTED"),
    ),
)

RULES_BY_ID: Mapping[str, Rule] = MappingProxyType({r.id: r for r in RULES})

DEFAULT_SETTINGS = CoachSettings()


# ---------------------------------------------------------------------------
# Running the rules
# ---------------------------------------------------------------------------


def _run(scope: Scope, ctx: Any, settings: CoachSettings) -> list[tuple[int, Recommendation]]:
    found: list[tuple[int, Recommendation]] = []
    fired: set[str] = set()
    active = [
        (i, r)
        for i, r in enumerate(RULES)
        if r.scope == scope and r.id not in settings.disabled_rules
    ]
    # Tips attached to a finding run after every other rule, so they see what fired.
    for attached in (False, True):
        for index, rule in active:
            if bool(rule.attached_to) is not attached:
                continue
            if attached and fired.isdisjoint(rule.attached_to):
                continue
            for f in rule.check(ctx, settings):
                fired.add(rule.id)
                found.append(
                    (
                        index,
                        Recommendation(
                            rule.id, f.severity, f.message, f.evidence, rule.section, f.subject_id
                        ),
                    )
                )
    return found


def coach_deal(
    ctx: DealContext, *, settings: CoachSettings = DEFAULT_SETTINGS
) -> tuple[Recommendation, ...]:
    """Every deal rule's recommendations for an open deal, ranked (module docstring).

    A closed deal gets none. Errors of the parts propagate (e.g.
    ``buying_center.DuplicatePerson``, ``whole_brain.ScoreOutOfRange``).
    """
    if not ctx.deal.is_open:
        return ()
    found = _run("deal", ctx, settings)
    # One deal: every recommendation has the same stake, so the registry order decides.
    found.sort(key=lambda item: (-item[1].severity, item[0]))
    return tuple(rec for _, rec in found)


def coach_account(
    ctx: AccountContext, *, settings: CoachSettings = DEFAULT_SETTINGS
) -> tuple[Recommendation, ...]:
    """Every account rule's recommendations, ranked (module docstring).

    Errors of the parts propagate (e.g. ``relationship.NegativeAmount`` for a
    negative revenue or cost, ``relationship.UnknownTrustAction``).
    """
    open_deals = [d for d in ctx.open_deals if d.is_open]
    deals = {d.id: d for d in open_deals}
    whole = (
        sum((d.amount for d in open_deals), Decimal(0)),
        max((int(d.stage) for d in open_deals), default=0),
    )

    def stake(rec: Recommendation) -> tuple[Decimal, int]:
        deal = deals.get(rec.subject_id or "")
        return (deal.amount, int(deal.stage)) if deal else whole

    found = _run("account", ctx, settings)
    found.sort(
        key=lambda item: (-item[1].severity, -stake(item[1])[0], -stake(item[1])[1], item[0])
    )
    return tuple(rec for _, rec in found)
