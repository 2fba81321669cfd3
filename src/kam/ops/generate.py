"""Synthetic data at scale (``kam generate``) for benchmarks and scale tests.

Three presets (``PRESETS``): *small* (10 users, 200 accounts, 2,000 deals,
20,000 activities), *medium* (101 users in 10 teams, 5,000 accounts, 50,000
contacts and deals, 500,000 activities) and *large* (500 users, 20,000
accounts, 200,000 contacts and deals, 2,000,000 activities), each with leads,
off-funnel orders and this fiscal year's quarterly targets per rep and team.

Deterministic: every phase draws from its own ``random.Random(f"{seed}/{phase}")``
and never from database ids, so the same seed, sizes and ``today`` give the same
records (names, amounts, stages, dates, links) in any database and process.

Written in bulk through KAM's models (``bulk_create`` in chunks of ``CHUNK``
rows, each chunk its own short transaction, so a server running on the same
SQLite file waits at most one chunk for the write lock). Nothing holds every
row in memory: the generator keeps a few compact arrays per deal and contact,
and builds model instances one chunk at a time. Planned ``created_at`` and
``updated_at`` are kept (the ``auto_now`` stamps are switched off for the
duration), so deals and activities are dated over the last ``YEARS`` years.
No history rows are written: synthetic data has no authors. At the end every
deal's and account's stored figures are computed for ``today``
(``kam.sales.figures.recompute_all``, as ``kam recompute`` does) unless told not to.

Users: ``admin`` (superuser, no team), one manager per team (``mgr01`` ...)
and reps (``rep001`` ...) spread over the teams, each joined through
``Membership``. Without a password their password is unusable; ``password``
gives every generated user that one password (a benchmark must sign in).

The deals and the truth a model can learn
-----------------------------------------
Each deal gets features first, drawn independently of its outcome:

- its buying center: 2-12 people of the account (2 + a geometric number with
  mean 0.25, or 5-12 for one deal in 25; about 2.5 on average), each with the
  role of their post, an influence from their level, an attitude, and the
  relationship strength the deal's owner has with them (the ``Familiarity``
  rows of the contact: only the account's owner and the team's manager know
  anyone);
- ``dm_mapped``: a decision maker is in the buying center; ``dm_covered``: one
  of them has strength >= GOOD (2) with the owner;
- ``tech``: the technical people's attitude, +1 if one supports us and none
  opposes, -1 if any opposes (a technical person "cannot say yes, can say
  no"), 0 if neutral or none is mapped;
- ``insider``: one non-deciding member is our insider (about 40% of deals);
- ``grade`` A/B/C/D (usually the account's);
- ``visits``: how many of its activities are visits, meetings or site visits
  (``types.VISIT_KINDS``); the activities written for the deal are exactly these.

Its score is::

    s = 1.0*dm_covered + 0.4*(dm_mapped and not dm_covered)
        + 0.8*(tech == +1) - 1.0*(tech == -1) + 0.7*insider
        + {A: 0.6, B: 0.25, C: 0, D: -0.5}[grade] + 0.12*min(visits, 10) - S_CENTER

(``S_CENTER`` = 1.45, about the population mean of the rest, so an average deal
has s = 0). The deal is created on a day of the last three years and walks the
six stages: it spends 14-75 days (longer for larger amounts) in stage k, then
passes gate k (k = 1..5) with probability::

    P(pass gate k) = sigmoid(s + GATE_BIAS[k]),  GATE_BIAS = logit(.5, .5, .667, .75, .8)

so that an average deal's chance of winning from stage k is the method's default
10/20/40/60/80%. Passing gate 5 wins the deal (stage 6, ``closed_on`` that day).
A deal failing gate k closes in stage k, abandoned with probability
(.6, .5, .25, .15, .1)[k] and lost otherwise. A gate not yet reached by
``today`` leaves the deal open in that stage. The probability of winning of an
open deal in stage k with score s is therefore the product of
``sigmoid(s + GATE_BIAS[j])`` for j = k..5: stage reached, buying center,
insider, grade and visits all carry true signal.

Key-node evidence follows the stage (the company's ``process`` settings): the
nodes of every stage passed are evidenced, except those the features deny —
``insider_found`` needs an insider, ``key_people_identified`` a mapped decision
maker and technical person, ``proposal_accepted_by_technical`` a supporting
technical person — and a few drawn at random (need, budget, schedule 3%,
criteria 15%, bid 2%, shortlist 5%); a gate passed with a node missing gets the
``StageOverride`` naming it. The current stage's nodes are evidenced with
probability 0.4 each (same denials); won deals get acceptance and payment after
the order when the time has come. Deals with an insider get 1-3
``InsiderClaim`` rows.

Amounts are log-uniform from 10,000 to 50,000,000 (about 19% under the default
off-funnel threshold of 50,000); off-funnel orders are 2,000 up to the threshold.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from kam.method import screening, types
from kam.method.types import ActivityKind as K
from kam.method.whole_brain import phrases_of
from kam.org.models import CompanySettings, Membership, Team
from kam.sales import demo
from kam.sales import figures as sales_figures
from kam.sales.models import (
    Account,
    Activity,
    BuyingCenterEntry,
    Contact,
    Familiarity,
    InsiderClaim,
    KeyNodeEvidence,
    Lead,
    OffFunnelOrder,
    Opportunity,
    StageOverride,
    Target,
)


@dataclass(frozen=True)
class Sizes:
    """How many of each record to generate (``users`` counts the admin)."""

    teams: int
    users: int
    accounts: int
    contacts: int
    opportunities: int
    activities: int
    leads: int
    off_funnel_orders: int

    def check(self) -> None:
        if self.teams < 1 or self.users < 2 * self.teams + 1:
            raise ValueError("each team needs a manager and a rep, and there is an admin")
        if self.accounts < 1 or self.contacts < 2 * self.accounts:
            raise ValueError("every account needs at least two contacts")
        if self.opportunities < 0 or self.activities < 0:
            raise ValueError("counts cannot be negative")


PRESETS = {
    "small": Sizes(2, 10, 200, 2_000, 2_000, 20_000, 400, 1_000),
    "medium": Sizes(10, 101, 5_000, 50_000, 50_000, 500_000, 10_000, 20_000),
    "large": Sizes(40, 500, 20_000, 200_000, 200_000, 2_000_000, 40_000, 80_000),
}
DEFAULT_SEED = 4242
CHUNK = 5_000
YEARS = 3

S_CENTER = 1.45
GRADE_WEIGHT = {"A": 0.6, "B": 0.25, "C": 0.0, "D": -0.5}
GATE_BIAS = tuple(math.log(p / (1 - p)) for p in (0.5, 0.5, 2 / 3, 0.75, 0.8))
ABANDON_SHARE = (0.6, 0.5, 0.25, 0.15, 0.1)
MIN_AMOUNT, MAX_AMOUNT = 10_000, 50_000_000
# How often a node of a passed stage is missing for no reason the features give.
RANDOM_MISSING = {
    "need_confirmed": 0.03,
    "budget_confirmed": 0.03,
    "schedule_confirmed": 0.03,
    "criteria_reflect_strengths": 0.15,
    "bid_submitted": 0.02,
    "shortlisted": 0.05,
}

DM, TECH, BUYER, USER = 1, 2, 4, 8
ROLE_BITS = {types.Role.DECISION_MAKER: DM, types.Role.TECHNICAL: TECH}
ROLE_BITS |= {types.Role.PURCHASER: BUYER, types.Role.USER: USER}
VISIT_KINDS = ((K.VISIT, K.MEETING, K.SITE_VISIT), (40, 10, 5))
OTHER_KINDS = ((K.CALL, K.EMAIL, K.ENTERTAINMENT, K.GIFT), (24, 8, 8, 5))
COST = {
    K.VISIT: (0, 600),
    K.CALL: (0, 0),
    K.EMAIL: (0, 0),
    K.MEETING: (0, 2_000),
    K.SITE_VISIT: (2_000, 30_000),
    K.ENTERTAINMENT: (500, 8_000),
    K.GIFT: (200, 3_000),
}
INDUSTRIES = (demo.CONSTRUCTION, demo.CHEMICAL, demo.POWER, demo.WATER, demo.STEEL)
NOUN = {
    demo.CONSTRUCTION: "建设集团",
    demo.CHEMICAL: "化工",
    demo.POWER: "发电",
    demo.WATER: "水务",
    demo.STEEL: "钢铁",
}
PROVINCES = (
    ("江苏", "南京 苏州 无锡 常州 南通"),
    ("浙江", "杭州 宁波 温州 绍兴 台州"),
    ("山东", "济南 青岛 烟台 潍坊 淄博"),
    ("河北", "石家庄 唐山 邯郸 保定 沧州"),
    ("四川", "成都 绵阳 宜宾 德阳 泸州"),
    ("湖北", "武汉 宜昌 襄阳 荆州 黄石"),
    ("广东", "广州 深圳 佛山 东莞 惠州"),
    ("河南", "郑州 洛阳 新乡 南阳 许昌"),
)
# fmt: off
BRANDS = (
    "恒远", "华鼎", "宏达", "鑫源", "中联", "金桥", "东方", "永盛", "海川", "瑞丰",
    "长兴", "天元", "新城", "国泰", "顺达", "广源", "泰和", "联创", "正大", "盛世",
    "兴业", "华信", "宝丰", "中原", "北辰", "南方", "西部", "宏图", "通达", "安泰",
)
# fmt: on
SCALES = (Account.Scale.SMALL, Account.Scale.MEDIUM, Account.Scale.LARGE, Account.Scale.GROUP)
OWNERSHIPS = tuple(Account.Ownership)
SOE = {Account.Ownership.CENTRAL_SOE, Account.Ownership.LOCAL_SOE}
GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Result:
    """What ``generate`` wrote: rows per model (``activity_contacts`` for the links
    of activities and contacts) and seconds per phase."""

    counts: dict[str, int]
    seconds: dict[str, float]


class Refused(Exception):
    """The database is not one ``generate`` may write into; the message says why."""


def refusal() -> str | None:
    """Why ``generate`` would refuse this database, or None when it may write."""
    if Opportunity.all_objects.exists():
        return (
            "The database already holds opportunities: kam generate writes only into a "
            "database without any (use a fresh KAM_DATA_DIR, or `kam flush`)."
        )
    return None


def generate(
    *,
    sizes: Sizes,
    seed: int = DEFAULT_SEED,
    today: dt.date | None = None,
    password: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    figures: bool = True,
) -> Result:
    """Write the synthetic data set: the rows written per kind and the seconds per phase.

    Raises ``Refused`` when the database holds opportunities, or users or teams
    of the generated names. ``progress(kind, done, total)`` is called as rows go in.
    With ``figures`` (the default) every deal's and account's stored figures are
    computed at the end, as ``kam recompute`` does; without, run that later.
    """
    sizes.check()
    reason = refusal()
    if reason:
        raise Refused(reason)
    today = today or timezone.localdate()
    generator = _Generator(sizes, seed, today, password, progress)
    generator.check_names()
    with _planned_stamps(Account, Contact, Opportunity, Lead, Activity, OffFunnelOrder):
        generator.run()
    if figures:
        started = time.perf_counter()
        _after_generate(today, generator.progress)
        generator.seconds["figures"] = time.perf_counter() - started
    return Result(generator.counts, generator.seconds)


def _after_generate(today: dt.date, progress: Callable[[str, int, int], None]) -> None:
    """Compute the stored figures (likelihood, coach findings) of every deal and account
    for ``today``, chunk by chunk, as ``kam recompute --today`` does."""
    sales_figures.recompute_all(
        today=today, progress=lambda done, total: progress("figures", done, total)
    )


@contextmanager
def _planned_stamps(*models) -> Iterator[None]:
    """Let ``bulk_create`` keep the planned ``created_at``/``updated_at``."""
    fields = [
        f
        for m in models
        for f in m._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def win_score(
    *, dm_mapped: bool, dm_covered: bool, tech: int, insider: bool, grade: str, visits: int
) -> float:
    """The deal's score ``s`` of the module docstring."""
    s = 1.0 if dm_covered else 0.4 if dm_mapped else 0.0
    s += 0.8 if tech > 0 else -1.0 if tech < 0 else 0.0
    s += 0.7 * insider + GRADE_WEIGHT[grade] + 0.12 * min(visits, 10)
    return s - S_CENTER


def win_probability(score: float, stage: int) -> float:
    """The true chance that an open deal in ``stage`` (1-5) with ``score`` is won."""
    p = 1.0
    for k in range(stage, 6):
        p *= _sigmoid(score + GATE_BIAS[k - 1])
    return p


class _Generator:
    def __init__(self, sizes, seed, today, password, progress):
        self.sizes = sizes
        self.seed = seed
        self.today = today
        self.t = today.toordinal()
        self.start = self.t - 365 * YEARS
        self.password = make_password(password or None)
        self.progress = progress or (lambda phase, done, total: None)
        self.tz = timezone.get_current_timezone()
        company = CompanySettings.load()
        method = company.to_method()
        self.stages = method.process.stages
        self.threshold = method.funnel.off_funnel_threshold
        self.screening = method.screening
        self.fy_month = company.fiscal_year_start_month
        self.currency = company.currency
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def rng(self, phase: str) -> random.Random:
        return random.Random(f"{self.seed}/{phase}")

    def moment(self, ordinal: int, rng: random.Random) -> dt.datetime:
        day = dt.date.fromordinal(ordinal)
        return dt.datetime(day.year, day.month, day.day, rng.randint(8, 18), rng.randint(0, 59),
                           tzinfo=self.tz)  # fmt: skip

    def write(self, model, objs: list) -> list:
        model._base_manager.bulk_create(objs, batch_size=CHUNK)
        key = model._meta.model_name
        self.counts[key] = self.counts.get(key, 0) + len(objs)
        return objs

    def run(self) -> None:
        for phase in (
            self._org,
            self._accounts,
            self._contacts,
            self._deals,
            self._activities,
            self._leads,
            self._off_funnel_orders,
            self._targets,
        ):
            started = time.perf_counter()
            phase()
            self.seconds[phase.__name__[1:]] = time.perf_counter() - started

    # -- who we are ----------------------------------------------------------

    def usernames(self) -> tuple[list[str], list[str]]:
        teams = self.sizes.teams
        reps = self.sizes.users - 1 - teams
        return (
            [f"mgr{i + 1:02d}" for i in range(teams)],
            [f"rep{i + 1:03d}" for i in range(reps)],
        )

    def team_names(self) -> list[str]:
        return [f"大客户{i + 1:02d}部" for i in range(self.sizes.teams)]

    def check_names(self) -> None:
        managers, reps = self.usernames()
        names = ["admin", *managers, *reps]
        taken = list(
            get_user_model().objects.filter(username__in=names).values_list("username", flat=True)
        )
        if taken:
            raise Refused(f"Users named {', '.join(sorted(taken)[:5])} ... already exist.")
        teams = list(Team.objects.filter(name__in=self.team_names()).values_list("name", flat=True))
        if teams:
            raise Refused(f"Teams named {', '.join(sorted(teams)[:5])} ... already exist.")

    def _org(self) -> None:
        rng = self.rng("org")
        user_model = get_user_model()
        managers, reps = self.usernames()
        joined = self.moment(self.start - 60, rng)
        with transaction.atomic():
            teams = self.write(Team, [Team(name=n) for n in self.team_names()])
            self.team_ids = [t.pk for t in teams]

            def user(username, last_name, first_name, **extra):
                return user_model(
                    username=username,
                    first_name=first_name,
                    last_name=last_name,
                    email=f"{username}@generated.example.com",
                    password=self.password,
                    date_joined=joined,
                    **extra,
                )

            people = [user("admin", "管", "理员", is_staff=True, is_superuser=True)]
            for name in managers + reps:
                people.append(user(name, rng.choice(demo.SURNAMES)[0], rng.choice(demo.GIVEN)[0]))
            self.write(user_model, people)
            self.admin_id = people[0].pk
            self.manager_of = [u.pk for u in people[1 : 1 + len(managers)]]
            self.reps_of: list[list[int]] = [[] for _ in teams]
            for i, u in enumerate(people[1 + len(managers) :]):
                self.reps_of[i % len(teams)].append(u.pk)
            memberships = [
                Membership(user_id=uid, team_id=tid, role=Membership.Role.MANAGER)
                for uid, tid in zip(self.manager_of, self.team_ids, strict=True)
            ]
            memberships += [
                Membership(user_id=uid, team_id=self.team_ids[t], role=Membership.Role.REP)
                for t, ids in enumerate(self.reps_of)
                for uid in ids
            ]
            self.write(Membership, memberships)

    # -- customers -----------------------------------------------------------

    def _accounts(self) -> None:
        rng = self.rng("accounts")
        n = self.sizes.accounts
        self.acc_ids = array("q")
        self.acc_team = array("i")
        self.acc_owner = array("q")
        self.acc_industry = array("b")
        self.acc_collective = array("b")
        self.acc_grade = array("b")
        self.acc_short: list[str] = []
        # Contacts per account: 2 each, the rest shared by a heavy-tailed weight.
        weights = [min(rng.paretovariate(1.3), 60.0) for _ in range(n)]
        spare = self.sizes.contacts - 2 * n
        total = sum(weights)
        counts = [2 + int(spare * w / total) for w in weights]
        order = sorted(range(n), key=lambda i: -(spare * weights[i] / total % 1))
        for i in order[: self.sizes.contacts - sum(counts)]:
            counts[i] += 1
        self.acc_contacts = array("i", counts)
        self.acc_first = array("q", accumulate(counts, initial=0))
        for lo in range(0, n, CHUNK):
            batch = []
            for i in range(lo, min(n, lo + CHUNK)):
                team = i % len(self.team_ids)
                owner = rng.choice(self.reps_of[team])
                if rng.random() < 0.1:
                    owner = self.manager_of[team]
                industry = rng.randrange(len(INDUSTRIES))
                province, cities = PROVINCES[rng.randrange(len(PROVINCES))]
                city = rng.choice(cities.split())
                short = f"{city}{rng.choice(BRANDS)}"
                size = counts[i]
                scale = SCALES[min(3, (size > 6) + (size > 12) + (size > 25))]
                ownership = rng.choice(OWNERSHIPS)
                collective = ownership in SOE and rng.random() < 0.8
                grade = rng.choices(range(4), (2, 3, 3, 2))[0]
                rel = rng.choices(range(4), (3, 3, 3, 1))[0]
                account = Account(
                    name=f"{short}{NOUN[INDUSTRIES[industry]]}有限公司·{i + 1:05d}",
                    industry=INDUSTRIES[industry],
                    region=f"{province}·{city}",
                    scale=scale,
                    ownership=ownership,
                    collective_decision=collective,
                    grade=GRADES[grade],
                    lifecycle=rng.choice(tuple(types.Lifecycle)).value,
                    relationship_type=tuple(types.RelationshipType)[rel].value,
                    relationship_level=rng.randint(1, 3),
                    owner_id=owner,
                    team_id=self.team_ids[team],
                )
                day = self.start - rng.randint(30, 400)
                account.created_at = account.updated_at = self.moment(day, rng)
                batch.append(account)
                self.acc_team.append(team)
                self.acc_owner.append(owner)
                self.acc_industry.append(industry)
                self.acc_collective.append(collective)
                self.acc_grade.append(grade)
                self.acc_short.append(short)
            with transaction.atomic():
                self.write(Account, batch)
            self.acc_ids.extend(a.pk for a in batch)
            self.progress("accounts", min(n, lo + CHUNK), n)

    # -- people at the customers ---------------------------------------------

    def _contacts(self) -> None:
        rng = self.rng("contacts")
        self.c_ids = array("q")
        self.c_roles = array("b")
        self.c_level = array("b")
        self.c_strength = array("b")  # with the account's owner
        self.c_names: list[str] = []
        phrases = {q: [p.id for p in phrases_of(q)] for q in types.Quadrant}
        n = self.sizes.accounts
        lo = 0
        while lo < n:
            hi = lo
            rows = 0
            while hi < n and rows < CHUNK:
                rows += self.acc_contacts[hi]
                hi += 1
            tops, others, familiar = [], [], []
            for a in range(lo, hi):
                plant = INDUSTRIES[self.acc_industry[a]] != demo.CONSTRUCTION
                catalogue = demo.PLANT_POSITIONS if plant else demo.CONTRACTOR_POSITIONS
                by_key = {p.key: p for p in catalogue}
                fixed = [by_key["gm"], by_key["chief_eng"], by_key["proc_mgr"]]
                rest = [p for p in catalogue if p.key not in ("gm", "chief_eng", "proc_mgr")]
                acc_id = self.acc_ids[a]
                created = self.start - rng.randint(0, 30)
                for j in range(self.acc_contacts[a]):
                    position = fixed[j] if j < 3 else rest[(j - 3) % len(rest)]
                    title = position.title if j < 3 + len(rest) else f"{position.title}{j}"
                    name = rng.choice(demo.SURNAMES)[0] + "".join(
                        g[0] for g in rng.sample(demo.GIVEN, rng.choice((1, 2, 2)))
                    )
                    contact = Contact(
                        account_id=acc_id,
                        name=name,
                        title=title,
                        department=position.department,
                        leadership_member=bool(self.acc_collective[a]) and position.leadership,
                        phone=f"1{rng.choice('35789')}{rng.randint(10**8, 10**9 - 1)}",
                    )
                    if rng.random() < 0.5:
                        quadrant = position.quadrant
                        contact.brain_phrases = rng.sample(phrases[quadrant], 2)
                    contact.created_at = contact.updated_at = self.moment(created, rng)
                    (tops if j == 0 else others).append(contact)
                    roles = sum(ROLE_BITS[r] for r in position.roles)
                    strength = rng.choices((0, 1, 2, 3), (4, 3, 2, 1))[0]
                    self.c_roles.append(roles)
                    self.c_level.append(position.level)
                    self.c_strength.append(strength)
                    self.c_names.append(f"{name}({title})")
                    familiar.append((contact, self.acc_owner[a], strength))
                    manager = self.manager_of[self.acc_team[a]]
                    if position.level == 3 and manager != self.acc_owner[a] and rng.random() < 0.2:
                        familiar.append((contact, manager, rng.randint(1, 2)))
            with transaction.atomic():
                self.write(Contact, tops)
                top_of = {c.account_id: c.pk for c in tops}
                for c in others:
                    c.reports_to_id = top_of[c.account_id]
                self.write(Contact, others)
                self.write(
                    Familiarity,
                    [
                        Familiarity(contact_id=c.pk, user_id=user, strength=s)
                        for c, user, s in familiar
                        if s
                    ],
                )
            # Keep the account order: the top of each account first, then its others.
            it_tops, it_others = iter(tops), iter(others)
            for a in range(lo, hi):
                self.c_ids.append(next(it_tops).pk)
                self.c_ids.extend(next(it_others).pk for _ in range(self.acc_contacts[a] - 1))
            lo = hi
            self.progress("contacts", len(self.c_ids), self.sizes.contacts)

    # -- deals ---------------------------------------------------------------

    def _deals(self) -> None:
        rng = self.rng("deals")
        n = self.sizes.opportunities
        cum = list(accumulate(self.acc_contacts))
        self.d_ids = array("q")
        self.d_acc = array("i")
        self.d_owner = array("q")
        self.d_created = array("i")
        self.d_end = array("i")
        self.d_acts = array("h")
        self.d_visits = array("h")
        self.d_source = array("b")
        self.d_bc_first = array("q", [0])
        self.d_bc = array("i")  # contact indexes of each deal's buying center
        mean_acts = max(1.0, 0.6 * self.sizes.activities / max(1, n))
        sources = tuple(types.LeadSource)
        for lo in range(0, n, CHUNK // 2):
            plans = [
                self._deal(rng, cum, mean_acts, sources) for _ in range(lo, min(n, lo + CHUNK // 2))
            ]
            with transaction.atomic():
                self.write(Opportunity, [p["model"] for p in plans])
                self._deal_children(plans)
            self.d_ids.extend(p["model"].pk for p in plans)
            self.progress("opportunities", min(n, lo + CHUNK // 2), n)

    def _deal(self, rng, cum, mean_acts, sources) -> dict:
        a = bisect_right(cum, rng.random() * cum[-1])
        a = min(a, len(cum) - 1)
        team = self.acc_team[a]
        owner = self.acc_owner[a]
        if rng.random() < 0.15:
            owner = rng.choice(self.reps_of[team])
        industry = INDUSTRIES[self.acc_industry[a]]
        grade = GRADES[self.acc_grade[a]] if rng.random() < 0.6 else rng.choice(GRADES)
        amount = _amount(rng, MIN_AMOUNT, MAX_AMOUNT)
        # The buying center.
        first, size = self.acc_first[a], self.acc_contacts[a]
        k = rng.randint(5, 12) if rng.random() < 0.04 else 2 + _geometric(rng, 0.8)
        k = min(k, size)
        picks: list[int] = []
        if rng.random() < 0.65:
            picks.append(0)
        if size > 1 and rng.random() < 0.7:
            picks.append(1)
        rest = [j for j in rng.sample(range(size), min(size, k + 2)) if j not in picks]
        picks = (picks + rest)[:k]
        own = owner == self.acc_owner[a]
        entries = []
        for j in picks:
            c = first + j
            roles = self.c_roles[c] or USER
            if rng.random() < 0.1:
                roles |= rng.choice((DM, TECH, BUYER, USER))
            if self.acc_collective[a] and self.c_level[c] == 3 and j != 1:
                roles |= DM
            level = self.c_level[c]
            influence = {1: 1, 2: 2, 3: 3}[level]
            if rng.random() < 0.15:
                influence = 3 if level == 1 else 2 if level == 3 else influence
            roll = rng.random()
            if roles & TECH:
                attitude = "supporter" if roll < 0.4 else "neutral" if roll < 0.8 else "opponent"
            else:
                attitude = "supporter" if roll < 0.35 else "neutral" if roll < 0.9 else "opponent"
            strength = self.c_strength[c] if own else 0
            entries.append([c, roles, influence, attitude, strength, False])
        candidates = [e for e in entries if not e[1] & DM]
        insider = None
        if candidates and rng.random() < 0.4:
            insider = rng.choice(candidates)
            insider[5] = True
            insider[3] = "supporter"
        dm = [e for e in entries if e[1] & DM]
        tech_attitudes = {e[3] for e in entries if e[1] & TECH}
        tech = -1 if "opponent" in tech_attitudes else 1 if "supporter" in tech_attitudes else 0
        n_acts = min(80, max(1, round(rng.expovariate(1 / mean_acts))))
        visits = sum(rng.random() < 0.45 for _ in range(n_acts))
        dm_covered = any(e[4] >= 2 for e in dm)
        score = win_score(
            dm_mapped=bool(dm),
            dm_covered=dm_covered,
            tech=tech,
            insider=insider is not None,
            grade=grade,
            visits=visits,
        )
        # The walk through the stages.
        # More deals lately than three years ago: the business grows.
        created = self.t - 1 - int((365 * YEARS - 1) * rng.random() ** 1.3)
        slow = 1 + 0.1 * math.log10(amount / MIN_AMOUNT)
        entered = [created]
        stage, outcome, closed = 1, "open", None
        for g in range(1, 6):
            gate_day = entered[-1] + int(rng.randint(20, 110) * slow)
            if gate_day >= self.t:
                break
            if rng.random() < _sigmoid(score + GATE_BIAS[g - 1]):
                entered.append(gate_day)
                stage = g + 1
                if g == 5:
                    outcome, closed = "won", gate_day
            else:
                closed = gate_day
                outcome = "abandoned" if rng.random() < ABANDON_SHARE[g - 1] else "lost"
                break
        end = closed if closed is not None else self.t
        if outcome == "open":
            left = sum(45 for _ in range(stage, 6))
            expected = entered[-1] + left + rng.randint(-30, 60)
            if rng.random() < 0.15:
                expected = self.t - rng.randint(1, 60)
        else:
            expected = closed + rng.randint(-45, 30)
        product = rng.choice((demo.COATING, demo.CONCRETE))
        project = rng.choice(demo.PROJECTS[(industry, product)]).format(
            n=rng.randint(1, 12),
            m=rng.randint(1, 6),
            dn=rng.choice((1200, 1400, 1600, 1800)),
            place=rng.choice(demo.PLACES),
        )
        source = rng.randrange(len(sources)) if rng.random() < 0.85 else -1
        close_reason = ""
        if outcome == "lost":
            close_reason = rng.choice(demo.LOST_REASONS)
        elif outcome == "abandoned":
            close_reason = rng.choice(demo.ABANDONED_REASONS)
        competitors = rng.sample(demo.COMPETITORS[product], rng.randint(0, 3 if stage > 1 else 1))
        model = Opportunity(
            account_id=self.acc_ids[a],
            name=f"{self.acc_short[a]}{project}",
            amount=amount,
            currency=self.currency,
            expected_close=dt.date.fromordinal(expected),
            stage=stage,
            stage_entered_on=dt.date.fromordinal(entered[-1]),
            outcome=outcome,
            closed_on=dt.date.fromordinal(closed) if closed is not None else None,
            close_reason=close_reason,
            grade=grade,
            competitors="\n".join(competitors),
            proposal_emphasis=rng.choice("ABCD") if stage >= 3 and rng.random() < 0.6 else "",
            source=sources[source].value if source >= 0 else "",
            owner_id=owner,
            team_id=self.team_ids[team],
        )
        model.created_at = self.moment(created, rng)
        model.updated_at = self.moment(end, rng)
        mapped = bool(dm) and bool(tech_attitudes)
        evidence, overrides = self._process(
            rng, entered, stage, outcome, closed, insider is not None, mapped, tech
        )
        claims = []
        if insider is not None and stage >= 2:
            found = entered[1]
            for fact in rng.sample(list(types.InsiderFact), rng.randint(1, 3)):
                roll = rng.random()
                if outcome == "open":
                    confirmed = None if roll < 0.5 else roll < 0.9
                else:
                    confirmed = None if roll < 0.1 else roll < 0.8
                day = found + rng.randint(0, max(0, end - found))
                claims.append((fact.value, day, confirmed))
        self.d_acc.append(a)
        self.d_owner.append(owner)
        self.d_created.append(created)
        self.d_end.append(end)
        self.d_acts.append(n_acts)
        self.d_visits.append(visits)
        self.d_source.append(source)
        self.d_bc.extend(e[0] for e in entries)
        self.d_bc_first.append(len(self.d_bc))
        return {
            "model": model,
            "entries": entries,
            "insider": insider[0] if insider else None,
            "evidence": evidence,
            "overrides": overrides,
            "claims": claims,
            "owner": owner,
        }

    def _process(self, rng, entered, stage, outcome, closed, insider, key_people, tech):
        """Evidence ``[(node, day)]`` and overrides ``[(from, missing, day)]`` of one deal."""

        def allowed(node_id: str) -> bool:
            if node_id == "insider_found":
                return insider
            if node_id == "key_people_identified":
                return key_people
            if node_id == "proposal_accepted_by_technical":
                return tech > 0
            return rng.random() >= RANDOM_MISSING.get(node_id, 0.0)

        evidence, overrides = [], []
        for s in range(1, stage):
            start, gate_day = entered[s - 1], entered[s]
            missing = []
            for node in self.stages[s - 1].key_nodes:
                if node.id == "contract_signed" or allowed(node.id):
                    evidence.append((node.id, start + rng.randint(0, gate_day - start)))
                else:
                    missing.append(node.id)
            if missing:
                overrides.append((s, missing, gate_day))
        end = closed if closed is not None else self.t
        nodes = self.stages[stage - 1].key_nodes
        if outcome == "won":
            day = closed
            for node in nodes:
                day += rng.randint(10, 60)
                if day > self.t or rng.random() < 0.2:
                    break
                evidence.append((node.id, day))
        else:
            for node in nodes:
                if rng.random() < 0.4 and allowed(node.id):
                    evidence.append((node.id, entered[-1] + rng.randint(0, end - entered[-1])))
        return evidence, overrides

    def _deal_children(self, plans: list[dict]) -> None:
        entries, evidence, overrides, claims = [], [], [], []
        for p in plans:
            opp = p["model"].pk
            by = p["owner"]
            for c, roles, influence, attitude, strength, insider in p["entries"]:
                entries.append(
                    BuyingCenterEntry(
                        opportunity_id=opp,
                        contact_id=self.c_ids[c],
                        decision_maker=bool(roles & DM),
                        technical=bool(roles & TECH),
                        purchaser=bool(roles & BUYER),
                        user=bool(roles & USER),
                        influence=influence,
                        attitude=attitude,
                        strength=strength,
                        insider=insider,
                    )
                )
            for node, day in p["evidence"]:
                evidence.append(
                    KeyNodeEvidence(
                        opportunity_id=opp,
                        node=node,
                        by_id=by,
                        on=dt.date.fromordinal(day),
                        note=demo.EVIDENCE_NOTES.get(node, "").split("{")[0],
                    )
                )
            for s, missing, day in p["overrides"]:
                overrides.append(
                    StageOverride(
                        opportunity_id=opp,
                        from_stage=s,
                        to_stage=s + 1,
                        missing=missing,
                        reason=demo.FORCE_REASONS.get(missing[0], demo.FORCE_REASON_OTHERWISE),
                        by_id=by,
                        on=dt.date.fromordinal(day),
                    )
                )
            for fact, day, confirmed in p["claims"]:
                claims.append(
                    InsiderClaim(
                        opportunity_id=opp,
                        contact_id=self.c_ids[p["insider"]],
                        fact=fact,
                        supplied_on=dt.date.fromordinal(day),
                        confirmed=confirmed,
                        note=demo.CLAIM_NOTES[types.InsiderFact(fact)],
                    )
                )
        self.write(BuyingCenterEntry, entries)
        self.write(KeyNodeEvidence, evidence)
        self.write(StageOverride, overrides)
        self.write(InsiderClaim, claims)

    # -- activities ----------------------------------------------------------

    def _activities(self) -> None:
        rng = self.rng("activities")
        total = self.sizes.activities
        planned = sum(self.d_acts)
        loose = max(0, total - planned)
        self.done_acts = 0
        buffer: list[tuple[Activity, list[int]]] = []

        def flush() -> None:
            with transaction.atomic():
                self.write(Activity, [act for act, _ in buffer])
                through = Activity.contacts.through
                self.write(
                    through,
                    [
                        through(activity_id=act.pk, contact_id=self.c_ids[c])
                        for act, met in buffer
                        for c in met
                    ],
                )
            self.done_acts += len(buffer)
            buffer.clear()
            self.progress("activities", self.done_acts, planned + loose)

        for d in range(len(self.d_ids)):
            a = self.d_acc[d]
            team = self.acc_team[a]
            bc = self.d_bc[self.d_bc_first[d] : self.d_bc_first[d + 1]]
            start, end = self.d_created[d], self.d_end[d]
            visits = self.d_visits[d]
            for i in range(self.d_acts[d]):
                kinds = VISIT_KINDS if i < visits else OTHER_KINDS
                kind = rng.choices(*kinds)[0]
                owner = self.d_owner[d]
                if rng.random() < 0.08:
                    owner = self.manager_of[team]
                day = start + rng.randint(0, end - start)
                buffer.append(
                    self._activity(rng, kind, day, a, self.d_ids[d], owner, team, list(bc))
                )
                if len(buffer) >= CHUNK:
                    flush()
        cum = list(accumulate(self.acc_contacts))
        for _ in range(loose):
            a = min(bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)
            first = self.acc_first[a]
            pool = list(range(first, first + self.acc_contacts[a]))
            day = self.start + rng.randint(0, self.t - self.start)
            kind = rng.choices(VISIT_KINDS[0] + OTHER_KINDS[0], VISIT_KINDS[1] + OTHER_KINDS[1])[0]
            buffer.append(
                self._activity(rng, kind, day, a, None, self.acc_owner[a], self.acc_team[a], pool)
            )
            if len(buffer) >= CHUNK:
                flush()
        if buffer:
            flush()

    def _activity(self, rng, kind, day, a, opportunity, owner, team, pool):
        one = kind in (K.CALL, K.EMAIL)
        met = rng.sample(pool, min(len(pool), 1 if one else rng.randint(1, 3)))
        who = "、".join(self.c_names[c] for c in met)
        template = rng.choice(demo.ACTIVITY_NOTES[kind])
        low, high = COST[kind]
        cost = 0 if high == 0 or rng.random() < 0.4 else round(rng.randint(low, high), -1)
        activity = Activity(
            kind=kind.value,
            on=dt.date.fromordinal(day),
            account_id=self.acc_ids[a],
            opportunity_id=opportunity,
            notes=template.format(who=who, project="项目"),
            cost=Decimal(cost),
            owner_id=owner,
            team_id=self.team_ids[team],
        )
        if kind is not K.GIFT and rng.random() < 0.5:
            activity.next_step = rng.choice(demo.NEXT_STEPS)
        if kind in types.VISIT_KINDS and rng.random() < 0.7:
            activity.next_pretext = rng.choice(demo.PRETEXTS)
            activity.next_on = dt.date.fromordinal(day + rng.randint(7, 40))
        activity.created_at = activity.updated_at = self.moment(day, rng)
        return activity, met

    # -- leads, small orders, targets ---------------------------------------

    def _leads(self) -> None:
        rng = self.rng("leads")
        s = self.screening
        n = self.sizes.leads
        sources = tuple(types.LeadSource)
        with_source = [d for d in range(len(self.d_ids)) if self.d_source[d] >= 0]
        converted = rng.sample(with_source, min(len(with_source), n * 3 // 10))
        converted.sort()
        opportunities = dict(
            Opportunity.all_objects.filter(pk__in=[self.d_ids[d] for d in converted]).values_list(
                "pk", "name"
            )
        )
        for lo in range(0, n, CHUNK):
            batch = []
            for i in range(lo, min(n, lo + CHUNK)):
                if i < len(converted):
                    d = converted[i]
                    a = self.d_acc[d]
                    screened = self.d_created[d] - rng.randint(3, 20)
                    source = sources[self.d_source[d]]
                    name = opportunities[self.d_ids[d]]
                    opportunity, account, owner = self.d_ids[d], self.acc_ids[a], self.d_owner[d]
                    pursue = True
                else:
                    a = rng.randrange(self.sizes.accounts)
                    screened = self.t - rng.randint(1, 365 * YEARS)
                    source = rng.choice(sources)
                    industry = INDUSTRIES[self.acc_industry[a]]
                    product = rng.choice((demo.COATING, demo.CONCRETE))
                    name = self.acc_short[a] + rng.choice(
                        demo.PROJECTS[(industry, product)]
                    ).format(n=3, m=2, dn=1400, place=rng.choice(demo.PLACES))
                    opportunity = None
                    account = self.acc_ids[a] if rng.random() < 0.4 else None
                    owner = rng.choice(self.reps_of[self.acc_team[a]])
                    pursue = False
                amount = _amount(rng, 30_000, 5_000_000)
                lead = Lead(
                    name=name,
                    company=f"{self.acc_short[a]}{NOUN[INDUSTRIES[self.acc_industry[a]]]}有限公司",
                    source=source.value,
                    known=f"预计金额约{int(amount / 10_000)}万元。",
                    amount=amount,
                    currency=self.currency,
                    owner_id=owner,
                    team_id=self.team_ids[self.acc_team[a]],
                    account_id=account,
                    opportunity_id=opportunity,
                )
                lead.created_at = lead.updated_at = self.moment(screened, rng)
                if pursue or rng.random() > 0.12:
                    self._screen(rng, lead, s, dt.date.fromordinal(screened), pursue)
                batch.append(lead)
            with transaction.atomic():
                self.write(Lead, batch)
            self.progress("leads", min(n, lo + CHUNK), n)

    @staticmethod
    def _screen(rng, lead, s, screened, pursue) -> None:
        # A converted lead is one screening said to pursue: draw until it does (or 20 times).
        for _attempt in range(20):
            if pursue:
                scores = {f.key: rng.randint(3, 5) for f in s.factors}
                likelihood = rng.choice((0.4, 0.5, 0.6, 0.7, 0.8))
                close = screened + dt.timedelta(days=rng.randint(40, 170))
            else:
                scores = {f.key: rng.choice((1, 2, 3, 3, 4, 4, 5)) for f in s.factors}
                likelihood = rng.choice((0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7))
                close = screened + dt.timedelta(days=rng.randint(20, 420))
            card = screening.score_risk(scores, settings=s)
            grade = screening.grade(close, today=screened, win_likelihood=likelihood, settings=s)
            decision = screening.decide(card, grade, amount=lead.amount, settings=s)
            if not pursue or decision.decision is types.Decision.PURSUE:
                break
        lead.scores = scores
        lead.score = card.score
        lead.expected_close = close
        lead.win_likelihood = likelihood
        lead.grade = grade.value
        lead.decision = decision.decision.value
        lead.screening_reasons = [{"zh": r.zh, "en": r.en} for r in decision.reasons]

    def _off_funnel_orders(self) -> None:
        rng = self.rng("off_funnel")
        n = self.sizes.off_funnel_orders
        if self.threshold <= 2_000:
            return
        high = int(self.threshold) - 1
        for lo in range(0, n, CHUNK):
            batch = []
            for _ in range(lo, min(n, lo + CHUNK)):
                a = rng.randrange(self.sizes.accounts)
                product = rng.choice((demo.COATING, demo.CONCRETE))
                note = rng.choice(demo.OFF_FUNNEL_NOTES[product]).format(n=rng.randint(20, 400))
                order = OffFunnelOrder(
                    account_id=self.acc_ids[a],
                    amount=min(Decimal(high), _amount(rng, 2_000, high)),
                    currency=self.currency,
                    on=dt.date.fromordinal(self.t - rng.randint(0, 365 * YEARS)),
                    note=note,
                    owner_id=self.acc_owner[a],
                    team_id=self.team_ids[self.acc_team[a]],
                )
                order.created_at = order.updated_at = self.moment(order.on.toordinal(), rng)
                batch.append(order)
            with transaction.atomic():
                self.write(OffFunnelOrder, batch)

    def _targets(self) -> None:
        """Quarterly targets of the fiscal year containing today, per rep and per team:
        about what a rep wins in a year (deals per rep and year x 10% x the mean amount)."""
        rng = self.rng("targets")
        year = self.today.year if self.today.month >= self.fy_month else self.today.year - 1
        start = dt.date(year, self.fy_month, 1)
        quarters = []
        for q in range(4):
            first = screening.months_later(start, 3 * q)
            quarters.append((first, screening.months_later(first, 3) - dt.timedelta(days=1)))
        shares = (Decimal("0.20"), Decimal("0.25"), Decimal("0.25"), Decimal("0.30"))
        reps = sum(len(r) for r in self.reps_of)
        mean_amount = (MAX_AMOUNT - MIN_AMOUNT) / math.log(MAX_AMOUNT / MIN_AMOUNT)
        per_rep = self.sizes.opportunities / YEARS / reps * 0.1 * mean_amount
        targets = []
        for t, ids in enumerate(self.reps_of):
            team_total = [Decimal(0)] * 4
            for uid in ids:
                annual = Decimal(round(per_rep * rng.uniform(0.8, 1.3), -5))
                for i, (first, last) in enumerate(quarters):
                    amount = (annual * shares[i]).quantize(Decimal(1))
                    team_total[i] += amount
                    targets.append(Target(user_id=uid, start=first, end=last, amount=amount))
            for i, (first, last) in enumerate(quarters):
                amount = (team_total[i] * Decimal("1.1")).quantize(Decimal(1))
                targets.append(
                    Target(team_id=self.team_ids[t], start=first, end=last, amount=amount)
                )
        with transaction.atomic():
            self.write(Target, targets)


def _amount(rng: random.Random, low: float, high: float) -> Decimal:
    """A log-uniform amount, rounded as a quotation would be."""
    value = low * (high / low) ** rng.random()
    step = 10_000 if value >= 1_000_000 else 1_000 if value >= 50_000 else 100
    return Decimal(max(int(low), min(int(high), round(value / step) * step)))


def _geometric(rng: random.Random, p: float) -> int:
    """Failures before the first success with probability ``p``: mean (1-p)/p."""
    n = 0
    while rng.random() >= p and n < 10:
        n += 1
    return n


def fingerprint() -> str:
    """A digest of what ``generate`` wrote, by values (never ids): equal data, equal digest.

    Every opportunity's values in insertion order, and aggregates of the rest.
    """
    user_model = get_user_model()
    parts = [
        list(Team.objects.order_by("name").values_list("name")),
        list(
            user_model.objects.order_by("username").values_list(
                "username", "first_name", "last_name", "is_superuser", "memberships__team__name"
            )
        ),
        list(
            Account.all_objects.order_by("id").values_list(
                "name", "owner__username", "grade", "region", "created_at"
            )
        ),
        list(
            Opportunity.all_objects.order_by("id").values_list(
                "account__name",
                "name",
                "amount",
                "stage",
                "outcome",
                "grade",
                "expected_close",
                "stage_entered_on",
                "closed_on",
                "owner__username",
                "created_at",
            )
        ),
        list(
            BuyingCenterEntry.objects.values("opportunity__outcome")
            .annotate(
                n=Count("id"),
                dm=Count("id", filter=Q(decision_maker=True)),
                ins=Count("id", filter=Q(insider=True)),
            )
            .order_by("opportunity__outcome")
        ),
        list(KeyNodeEvidence.objects.values("node").annotate(n=Count("id")).order_by("node")),
        list(
            StageOverride.objects.values("from_stage")
            .annotate(n=Count("id"))
            .order_by("from_stage")
        ),
        list(
            Activity.objects.values("kind")
            .annotate(n=Count("id"), cost=Sum("cost"), first=Min("on"), last=Max("on"))
            .order_by("kind")
        ),
        Activity.contacts.through.objects.count(),
        list(Contact.all_objects.order_by("id").values_list("name", "title", "reports_to__name")),
        Familiarity.objects.aggregate(n=Count("id"), s=Sum("strength")),
        InsiderClaim.objects.aggregate(n=Count("id"), first=Min("supplied_on")),
        list(Lead.objects.order_by("id").values_list("name", "grade", "decision", "amount")),
        OffFunnelOrder.objects.aggregate(n=Count("id"), total=Sum("amount")),
        list(Target.objects.order_by("id").values_list("start", "amount")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()
