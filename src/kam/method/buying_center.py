"""The buying center (采购氛围的 4 类人) and the key-person strategy (关键人策略), METHOD.md §2.

Everything here is derived from the people recorded on one opportunity: who holds
which role, how strong our relationship is with each, who opposes us, who reports
to whom. Nothing is ticked by hand: a step of the key-person strategy is done when
the data says so.

Words used in this module:

- *covered*: our relationship strength with a person is at least
  ``settings.covered_strength`` (default 关系良好 / ``GOOD``).
- *key people*: influence at least ``settings.key_influence`` (default ``HIGH``),
  or holding the decision-maker role, or, for a collective-decision customer,
  a member of the leadership team (领导班子).
- *opponent*: attitude ``OPPONENT`` (反对).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kam.method.types import Attitude, Influence, MethodError, Person, Role, Strength, Text

# Title words are matched as substrings for Chinese and as whole words (any case) for
# English, so "director" does not match inside "directory" nor "cto" inside "director".
SENIOR_TITLE_WORDS: tuple[str, ...] = (
    "董事长",
    "董事",
    "总裁",
    "总经理",
    "副总",
    "总工",
    "总监",
    "厂长",
    "主任",
    "部长",
    "处长",
    "局长",
    "院长",
    "书记",
    "chairman",
    "president",
    "general manager",
    "managing director",
    "director",
    "chief",
    "head",
    "vp",
    "ceo",
    "cto",
    "cfo",
    "coo",
)
JUNIOR_TITLE_WORDS: tuple[str, ...] = (
    "助理",
    "秘书",
    "文员",
    "专员",
    "科员",
    "办事员",
    "技术员",
    "操作工",
    "实习",
    "assistant",
    "secretary",
    "clerk",
    "intern",
    "operator",
    "technician",
    "coordinator",
)


@dataclass(frozen=True)
class BuyingCenterSettings:
    """Thresholds of the buying-center analysis; the defaults are METHOD.md's.

    ``org_chart_min_people`` is how many people must be recorded before the
    organisation chart (step 2) can count as learned. The title word lists drive
    ``title_role_mismatches``.
    """

    covered_strength: Strength = Strength.GOOD
    key_influence: Influence = Influence.HIGH
    required_roles: frozenset[Role] = frozenset(Role)
    broad_front_min_strength: Strength = Strength.ACQUAINTED
    org_chart_min_people: int = 2
    senior_title_words: tuple[str, ...] = SENIOR_TITLE_WORDS
    junior_title_words: tuple[str, ...] = JUNIOR_TITLE_WORDS


DEFAULT_SETTINGS = BuyingCenterSettings()

ROLE_LABELS: Mapping[Role, Text] = {
    Role.DECISION_MAKER: Text("决策人", "decision maker"),
    Role.TECHNICAL: Text("技术选型人", "technical person"),
    Role.PURCHASER: Text("购买人", "purchaser"),
    Role.USER: Text("使用人", "user"),
}

STRENGTH_LABELS: Mapping[Strength, Text] = {
    Strength.NONE: Text("未接触", "never met"),
    Strength.ACQUAINTED: Text("认识", "acquainted"),
    Strength.GOOD: Text("关系良好", "good"),
    Strength.STRONG: Text("关系密切", "strong"),
}

STEP_TITLES: tuple[Text, ...] = (
    Text("寻找内线", "Find your insider"),
    Text("了解客户内部采购的组织结构图", "Learn the customer's purchasing organisation chart"),
    Text("明确客户的角色与职能分工", "Clarify each person's role and function"),
    Text("确定影响采购决策的关键人", "Identify the key people who most influence the decision"),
    Text("与关键决策人建立良好关系", "Build a good relationship with the key decision makers"),
    Text(
        "建立广泛的统一战线，与所有人保持良好关系",
        "Build a broad united front: good relations with everyone involved",
    ),
)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class DuplicatePerson(MethodError):
    """The same person id appears twice in one buying center."""

    def __init__(self, person_id: str) -> None:
        self.person_id = person_id
        super().__init__(f"person id {person_id!r} appears more than once in the buying center")


class UnknownManager(MethodError):
    """``reports_to`` names someone who is not in the buying center."""

    def __init__(self, person_id: str, manager_id: str) -> None:
        self.person_id = person_id
        self.manager_id = manager_id
        super().__init__(
            f"person {person_id!r} has reports_to={manager_id!r}, who is not in the buying center"
        )


class ReportingCycle(MethodError):
    """``reports_to`` goes round in a circle; ``people`` are the ids in the circle."""

    def __init__(self, people: tuple[str, ...]) -> None:
        self.people = people
        loop = " -> ".join((*people, people[0]))
        super().__init__(f"reports_to forms a cycle: {loop}")


# ---------------------------------------------------------------------------
# Coverage of the four roles
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleCoverage:
    """Who holds one role in this deal (person ids, in the order recorded)."""

    role: Role
    holders: tuple[str, ...]
    covered_by: tuple[str, ...]
    opponents: tuple[str, ...]
    supporters: tuple[str, ...]

    @property
    def mapped(self) -> bool:
        return bool(self.holders)

    @property
    def covered(self) -> bool:
        return bool(self.covered_by)

    @property
    def opposed(self) -> bool:
        return bool(self.opponents)


@dataclass(frozen=True)
class Coverage:
    """The buying-center picture of one deal.

    ``roles`` has one entry per ``Role``. ``unmapped_roles`` are required roles
    nobody holds; ``uncovered_roles`` are required roles that are mapped but whose
    holders are all below the coverage threshold (the two never overlap);
    ``opposed_roles`` are roles (required or not) with at least one opponent.
    The ``leadership*`` fields are empty unless ``collective_decision``.
    ``findings`` are all the gaps above as messages, most serious first.
    """

    roles: tuple[RoleCoverage, ...]
    unmapped_roles: tuple[Role, ...]
    uncovered_roles: tuple[Role, ...]
    opposed_roles: tuple[Role, ...]
    veto_reasons: tuple[Text, ...]
    collective_decision: bool
    leadership: tuple[str, ...]
    leadership_unmapped: tuple[str, ...]
    leadership_uncovered: tuple[str, ...]
    insiders: tuple[str, ...]
    key_people: tuple[str, ...]
    findings: tuple[Text, ...]

    def of(self, role: Role) -> RoleCoverage:
        return next(rc for rc in self.roles if rc.role is role)

    @property
    def veto_risk(self) -> bool:
        return bool(self.veto_reasons)

    @property
    def has_insider(self) -> bool:
        return bool(self.insiders)

    @property
    def no_leadership_recorded(self) -> bool:
        return self.collective_decision and not self.leadership


def coverage(
    people: Iterable[Person],
    *,
    collective_decision: bool,
    settings: BuyingCenterSettings = DEFAULT_SETTINGS,
) -> Coverage:
    """Map and coverage of the buying center of one deal.

    A role is covered when at least one of its holders is covered. The technical
    person "cannot say yes, can say no", so there is a veto risk when any technical
    holder opposes us or is not covered, or when the technical role is required
    and nobody holds it. For a collective-decision customer (集体决策, 三重一大)
    every leadership member must hold the decision-maker role and be covered.
    Raises ``DuplicatePerson`` when an id appears twice.
    """
    index = _index(people)
    everyone = tuple(index.values())
    roles = tuple(
        RoleCoverage(
            role=role,
            holders=tuple(p.id for p in everyone if role in p.roles),
            covered_by=tuple(
                p.id for p in everyone if role in p.roles and _is_covered(p, settings)
            ),
            opponents=tuple(
                p.id for p in everyone if role in p.roles and p.attitude is Attitude.OPPONENT
            ),
            supporters=tuple(
                p.id for p in everyone if role in p.roles and p.attitude is Attitude.SUPPORTER
            ),
        )
        for role in Role
    )
    required = [rc for rc in roles if rc.role in settings.required_roles]
    unmapped = tuple(rc.role for rc in required if not rc.mapped)
    uncovered = tuple(rc.role for rc in required if rc.mapped and not rc.covered)
    opposed = tuple(rc.role for rc in roles if rc.opposed)

    leadership = tuple(p for p in everyone if collective_decision and p.leadership_member)
    leadership_unmapped = tuple(p for p in leadership if Role.DECISION_MAKER not in p.roles)
    leadership_uncovered = tuple(p for p in leadership if not _is_covered(p, settings))
    veto = _veto_reasons(everyone, settings)

    findings: list[Text] = list(veto)
    for rc in roles:
        if rc.opposed:
            findings.append(_opposed_finding(rc.role, [index[i] for i in rc.opponents]))
    if collective_decision and not leadership:
        findings.append(_NO_LEADERSHIP)
    if leadership_unmapped:
        findings.append(_leadership_unmapped_finding(leadership_unmapped))
    if leadership_uncovered:
        findings.append(_leadership_uncovered_finding(leadership_uncovered, settings))
    findings += [_unmapped_finding(role) for role in unmapped]
    for rc in required:
        if rc.mapped and not rc.covered:
            findings.append(_uncovered_finding(rc.role, [index[i] for i in rc.holders], settings))

    return Coverage(
        roles=roles,
        unmapped_roles=unmapped,
        uncovered_roles=uncovered,
        opposed_roles=opposed,
        veto_reasons=veto,
        collective_decision=collective_decision,
        leadership=_ids(leadership),
        leadership_unmapped=_ids(leadership_unmapped),
        leadership_uncovered=_ids(leadership_uncovered),
        insiders=tuple(p.id for p in everyone if p.insider),
        key_people=_ids(_key_people(everyone, collective_decision, settings)),
        findings=tuple(findings),
    )


def _veto_reasons(everyone: tuple[Person, ...], settings: BuyingCenterSettings) -> tuple[Text, ...]:
    technical = [p for p in everyone if Role.TECHNICAL in p.roles]
    if not technical:
        if Role.TECHNICAL in settings.required_roles:
            return (
                Text(
                    "尚未明确技术选型人：他不能说“是”，却能说“不”。",
                    "No technical person mapped yet: they cannot say yes, but can say no.",
                ),
            )
        return ()
    reasons = []
    threshold = STRENGTH_LABELS[settings.covered_strength]
    for p in technical:
        if p.attitude is Attitude.OPPONENT:
            reasons.append(
                Text(
                    f"技术选型人{_who(p)}反对我们，可能否决我们的方案。",
                    f"Technical person {_who(p)} opposes us and can veto our solution.",
                )
            )
        elif p.strength < settings.covered_strength:
            reasons.append(
                Text(
                    f"与技术选型人{_who(p)}的关系不到“{threshold.zh}”：他能说“不”。",
                    f"Relationship with technical person {_who(p)} is below "
                    f'"{threshold.en}": they can say no.',
                )
            )
    return tuple(reasons)


def is_key_person(
    person: Person, *, collective_decision: bool, settings: BuyingCenterSettings = DEFAULT_SETTINGS
) -> bool:
    """Whether a person weighs on the decision: real influence at least
    ``key_influence``, the decision-maker role, or (collective decision) a seat on
    the leadership team. Title plays no part."""
    return (
        person.influence >= settings.key_influence
        or Role.DECISION_MAKER in person.roles
        or (collective_decision and person.leadership_member)
    )


def _key_people(
    everyone: Iterable[Person], collective_decision: bool, settings: BuyingCenterSettings
) -> tuple[Person, ...]:
    return tuple(
        p
        for p in everyone
        if is_key_person(p, collective_decision=collective_decision, settings=settings)
    )


_NO_LEADERSHIP = Text(
    "集体决策客户：尚未记录任何领导班子成员。",
    "Collective decision: no member of the leadership team recorded yet.",
)


def _opposed_finding(role: Role, opponents: list[Person]) -> Text:
    label = ROLE_LABELS[role]
    return Text(
        f"{label.zh}中有人反对我们：{_names_zh(opponents)}。",
        f"{label.en.capitalize()}: {_names_en(opponents)} "
        f"{'opposes' if len(opponents) == 1 else 'oppose'} us.",
    )


def _leadership_unmapped_finding(members: tuple[Person, ...]) -> Text:
    return Text(
        f"领导班子成员{_names_zh(members)}尚未标为决策人。",
        f"Leadership-team members not marked as decision makers: {_names_en(members)}.",
    )


def _leadership_uncovered_finding(
    members: tuple[Person, ...], settings: BuyingCenterSettings
) -> Text:
    threshold = STRENGTH_LABELS[settings.covered_strength]
    return Text(
        f"与领导班子成员{_names_zh(members)}的关系不到“{threshold.zh}”。",
        f'Relationship below "{threshold.en}" with leadership-team members: {_names_en(members)}.',
    )


def _unmapped_finding(role: Role) -> Text:
    label = ROLE_LABELS[role]
    return Text(f"尚未明确谁是{label.zh}。", f"Nobody mapped as {label.en} yet.")


def _uncovered_finding(role: Role, holders: list[Person], settings: BuyingCenterSettings) -> Text:
    label = ROLE_LABELS[role]
    threshold = STRENGTH_LABELS[settings.covered_strength]
    return Text(
        f"{label.zh}（{_names_zh(holders)}）的关系都不到“{threshold.zh}”。",
        f'{label.en.capitalize()} ({_names_en(holders)}): no relationship at "{threshold.en}" '
        "or better yet.",
    )


# ---------------------------------------------------------------------------
# The six steps of the key-person strategy
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPersonStep:
    """One step of the key-person strategy with what the data still lacks."""

    number: int
    title: Text
    done: bool
    missing: tuple[Text, ...]


@dataclass(frozen=True)
class KeyPersonProgress:
    """The six steps in order; each step's status is its own, whatever came before."""

    steps: tuple[KeyPersonStep, ...]

    @property
    def current_step(self) -> int | None:
        """The first step not done, or ``None`` when all six are done."""
        return next((s.number for s in self.steps if not s.done), None)

    @property
    def done(self) -> bool:
        return all(s.done for s in self.steps)


def key_person_progress(
    people: Iterable[Person],
    *,
    collective_decision: bool,
    settings: BuyingCenterSettings = DEFAULT_SETTINGS,
) -> KeyPersonProgress:
    """Where a deal stands in the six steps (关键人策略六步法), derived from data.

    A step is done when:

    1. someone is marked as insider (内线);
    2. at least ``org_chart_min_people`` people are recorded, every ``reports_to``
       names someone recorded, there is no cycle, and only the top of the chart
       reports to nobody (for a collective-decision customer the leadership
       members who report to nobody count as one top together);
    3. every required role is held by someone and every person holds at least one
       role, insiders excepted (an assistant who minutes the meetings can be the
       best insider without a buying role);
    4. the decision-maker role is held, someone is rated at key influence (real
       influence has been judged, not left at the default), and for a
       collective-decision customer at least one leadership member is recorded and
       every one holds the decision-maker role;
    5. the decision-maker role is held and every decision maker is covered; for a
       collective-decision customer every leadership member too (and at least one
       must be recorded);
    6. everyone recorded is at least ``broad_front_min_strength``, every key
       person is covered and nobody opposes us.

    Only strength-dependent criteria are in steps 5 and 6, so raising anyone's
    strength never moves ``current_step`` back. A broken ``reports_to`` (cycle,
    unknown manager) is reported under step 2 instead of raising; a duplicate id
    raises ``DuplicatePerson``.
    """
    index = _index(people)
    everyone = tuple(index.values())
    leadership = [p for p in everyone if collective_decision and p.leadership_member]
    decision_makers = [p for p in everyone if Role.DECISION_MAKER in p.roles]
    missing: list[list[Text]] = [[] for _ in STEP_TITLES]

    if not any(p.insider for p in everyone):
        missing[0].append(Text("还没有内线。", "No insider yet."))

    missing[1] += _org_chart_gaps(index, collective_decision, settings)

    for role in Role:
        if role in settings.required_roles and not any(role in p.roles for p in everyone):
            missing[2].append(_unmapped_finding(role))
    roleless = [p for p in everyone if not p.roles and not p.insider]
    if roleless:
        missing[2].append(
            Text(
                f"{_names_zh(roleless)}在本项目中的角色未明确。",
                f"Role in this deal not clarified for {_names_en(roleless)}.",
            )
        )

    if not decision_makers:
        missing[3].append(_unmapped_finding(Role.DECISION_MAKER))
        missing[4].append(_unmapped_finding(Role.DECISION_MAKER))
    if not any(p.influence >= settings.key_influence for p in everyone):
        missing[3].append(
            Text(
                "还没有人被评为高影响力：请判断谁对采购决策影响最大。",
                "Nobody rated at high influence: judge who most influences the decision.",
            )
        )
    if collective_decision and not leadership:
        missing[3].append(_NO_LEADERSHIP)
        missing[4].append(_NO_LEADERSHIP)
    unmapped_leaders = [p for p in leadership if Role.DECISION_MAKER not in p.roles]
    if unmapped_leaders:
        missing[3].append(_leadership_unmapped_finding(tuple(unmapped_leaders)))

    threshold = STRENGTH_LABELS[settings.covered_strength]
    uncovered = [
        p
        for p in everyone
        if (Role.DECISION_MAKER in p.roles or (collective_decision and p.leadership_member))
        and not _is_covered(p, settings)
    ]
    if uncovered:
        missing[4].append(
            Text(
                f"与决策人{_names_zh(uncovered)}的关系不到“{threshold.zh}”。",
                f'Relationship below "{threshold.en}" with decision makers: '
                f"{_names_en(uncovered)}.",
            )
        )

    front = STRENGTH_LABELS[settings.broad_front_min_strength]
    distant = [p for p in everyone if p.strength < settings.broad_front_min_strength]
    if distant:
        missing[5].append(
            Text(
                f"与{_names_zh(distant)}的关系不到“{front.zh}”。",
                f'Relationship below "{front.en}" with {_names_en(distant)}.',
            )
        )
    key_uncovered = [
        p
        for p in _key_people(everyone, collective_decision, settings)
        if not _is_covered(p, settings)
    ]
    if key_uncovered:
        missing[5].append(
            Text(
                f"与关键人{_names_zh(key_uncovered)}的关系不到“{threshold.zh}”。",
                f'Relationship below "{threshold.en}" with key people: {_names_en(key_uncovered)}.',
            )
        )
    opponents = [p for p in everyone if p.attitude is Attitude.OPPONENT]
    if opponents:
        missing[5].append(
            Text(
                f"{_names_zh(opponents)}仍反对我们。",
                f"Still opposed to us: {_names_en(opponents)}.",
            )
        )

    return KeyPersonProgress(
        steps=tuple(
            KeyPersonStep(number=n, title=title, done=not gaps, missing=tuple(gaps))
            for n, (title, gaps) in enumerate(zip(STEP_TITLES, missing, strict=True), start=1)
        )
    )


def _org_chart_gaps(
    index: dict[str, Person], collective_decision: bool, settings: BuyingCenterSettings
) -> list[Text]:
    gaps = []
    if len(index) < settings.org_chart_min_people:
        gaps.append(
            Text(
                f"组织结构图至少需要{settings.org_chart_min_people}人，目前只有{len(index)}人。",
                f"The organisation chart needs at least {settings.org_chart_min_people} "
                f"people; {len(index)} recorded.",
            )
        )
    for p in _unknown_managers(index):
        gaps.append(
            Text(
                f"{_who(p)}的上级（{p.reports_to}）不在名单中。",
                f"{_who(p)} reports to {p.reports_to}, who is not recorded.",
            )
        )
    for cycle in _cycles(index):
        loop = [index[i] for i in cycle]
        gaps.append(
            Text(
                f"汇报关系形成循环：{_names_zh(loop)}。",
                f"Reporting lines go round in a circle: {_names_en(loop)}.",
            )
        )
    roots = [p for p in index.values() if p.reports_to is None]
    leaders = [p for p in roots if collective_decision and p.leadership_member]
    tops = len(roots) - len(leaders) + (1 if leaders else 0)
    if tops > 1:
        gaps.append(
            Text(
                f"{_names_zh(roots)}都没有上级：请记录谁向谁汇报。",
                f"{_names_en(roots)} report to nobody: record who reports to whom.",
            )
        )
    return gaps


# ---------------------------------------------------------------------------
# Organisation chart (组织结构图)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgChart:
    """Who reports to whom. ``children`` has an entry (maybe empty) for every person."""

    roots: tuple[str, ...]
    children: Mapping[str, tuple[str, ...]]

    def walk(self) -> tuple[tuple[str, int], ...]:
        """Every person as ``(id, depth)``, depth first from each root, roots at depth 0."""
        order: list[tuple[str, int]] = []
        stack = [(root, 0) for root in reversed(self.roots)]
        while stack:
            person_id, depth = stack.pop()
            order.append((person_id, depth))
            stack += [(child, depth + 1) for child in reversed(self.children[person_id])]
        return tuple(order)


def check_reports_to(people: Iterable[Person]) -> None:
    """Raise ``UnknownManager`` or ``ReportingCycle`` when ``reports_to`` is broken.

    Also raises ``DuplicatePerson`` when an id appears twice.
    """
    index = _index(people)
    for p in _unknown_managers(index):
        raise UnknownManager(p.id, p.reports_to or "")
    for cycle in _cycles(index):
        raise ReportingCycle(cycle)


def org_chart(people: Iterable[Person]) -> OrgChart:
    """The organisation chart by ``reports_to``, in the order people were recorded.

    Raises like ``check_reports_to`` when the reporting lines are broken.
    """
    people = tuple(people)
    check_reports_to(people)
    children: dict[str, list[str]] = {p.id: [] for p in people}
    for p in people:
        if p.reports_to is not None:
            children[p.reports_to].append(p.id)
    return OrgChart(
        roots=tuple(p.id for p in people if p.reports_to is None),
        children={k: tuple(v) for k, v in children.items()},
    )


def would_create_cycle(
    people: Iterable[Person], person_id: str, new_manager_id: str | None
) -> bool:
    """Whether setting ``person_id``'s ``reports_to`` to ``new_manager_id`` makes a cycle.

    ``person_id`` may be someone not yet recorded. Raises ``UnknownManager`` when
    ``new_manager_id`` is not recorded (and is not the person themself).
    """
    index = _index(people)
    if new_manager_id is None:
        return False
    if new_manager_id == person_id:
        return True
    if new_manager_id not in index:
        raise UnknownManager(person_id, new_manager_id)
    # Climb from the new manager; reaching the person means they would be their own boss.
    seen: set[str] = set()
    node: str | None = new_manager_id
    while node is not None and node not in seen:
        if node == person_id:
            return True
        if node not in index:
            return False
        seen.add(node)
        node = index[node].reports_to
    return False


def _unknown_managers(index: dict[str, Person]) -> list[Person]:
    return [p for p in index.values() if p.reports_to is not None and p.reports_to not in index]


def _cycles(index: dict[str, Person]) -> list[tuple[str, ...]]:
    # Everyone has at most one manager, so a walk up from anyone either ends or
    # enters exactly one cycle; each cycle is found once, by the first walk into it.
    seen: set[str] = set()
    cycles = []
    for start in index:
        path: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node in index and node not in seen:
            seen.add(node)
            position[node] = len(path)
            path.append(node)
            node = index[node].reports_to
        if node in position:
            cycles.append(tuple(path[position[node] :]))
    return cycles


# ---------------------------------------------------------------------------
# Title is not role (职位与角色可能错位)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TitleMismatch:
    """A title that does not match the influence rated for this person.

    ``senior_title`` is True for a senior title rated at low influence, False for a
    junior title rated at key influence.
    """

    person_id: str
    senior_title: bool
    message: Text


def title_role_mismatches(
    people: Iterable[Person], *, settings: BuyingCenterSettings = DEFAULT_SETTINGS
) -> tuple[TitleMismatch, ...]:
    """People whose title and rated influence point different ways.

    A title with a senior word (``settings.senior_title_words``) but ``LOW``
    influence, or a junior word (``settings.junior_title_words``) but influence at
    least ``settings.key_influence``. A title with words from both lists (总经理助理,
    "assistant director") is ambiguous and never flagged. These are prompts to
    double-check, not errors: the rating may well be right.
    """
    found = []
    for p in _index(people).values():
        senior = _has_word(p.title, settings.senior_title_words)
        junior = _has_word(p.title, settings.junior_title_words)
        if senior and not junior and p.influence is Influence.LOW:
            found.append(
                TitleMismatch(
                    p.id,
                    True,
                    Text(
                        f"{_who(p)}职位是“{p.title}”，影响力却评为低：他是否受下属左右？",
                        f'{_who(p)} is "{p.title}" but rated low influence: '
                        "do their subordinates steer the decision?",
                    ),
                )
            )
        elif junior and not senior and p.influence >= settings.key_influence:
            found.append(
                TitleMismatch(
                    p.id,
                    False,
                    Text(
                        f"{_who(p)}职位是“{p.title}”，影响力却评为高：职位低微，可能是关键人。",
                        f'{_who(p)} is "{p.title}" but rated high influence: '
                        "a modest title, possibly a key person.",
                    ),
                )
            )
    return tuple(found)


def _has_word(title: str, words: Iterable[str]) -> bool:
    for word in words:
        if word.isascii():
            if re.search(rf"\b{re.escape(word)}\b", title, re.IGNORECASE):
                return True
        elif word in title:
            return True
    return False


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _index(people: Iterable[Person]) -> dict[str, Person]:
    index: dict[str, Person] = {}
    for p in people:
        if p.id in index:
            raise DuplicatePerson(p.id)
        index[p.id] = p
    return index


def _is_covered(p: Person, settings: BuyingCenterSettings) -> bool:
    return p.strength >= settings.covered_strength


def _ids(people: Iterable[Person]) -> tuple[str, ...]:
    return tuple(p.id for p in people)


def _who(p: Person) -> str:
    return p.name or p.id


def _names_zh(people: Iterable[Person]) -> str:
    return "、".join(_who(p) for p in people)


def _names_en(people: Iterable[Person]) -> str:
    return ", ".join(_who(p) for p in people)
