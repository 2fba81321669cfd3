import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.method.buying_center import (
    DEFAULT_SETTINGS,
    BuyingCenterSettings,
    DuplicatePerson,
    OrgChart,
    ReportingCycle,
    UnknownManager,
    check_reports_to,
    coverage,
    is_key_person,
    key_person_progress,
    org_chart,
    title_role_mismatches,
    would_create_cycle,
)
from kam.method.types import Attitude, Influence, MethodError, Person, Role, Strength, Text

DM = Role.DECISION_MAKER
TECH = Role.TECHNICAL
BUY = Role.PURCHASER
USE = Role.USER


def person(pid, *roles, **kw):
    kw.setdefault("name", pid.upper())
    return Person(id=pid, roles=frozenset(roles), **kw)


def complete_team():
    """A buying center where all six steps are done (non-collective)."""
    return (
        person("gm", DM, influence=Influence.HIGH, strength=Strength.GOOD),
        person("cte", TECH, reports_to="gm", strength=Strength.STRONG, attitude=Attitude.SUPPORTER),
        person("buyer", BUY, reports_to="gm", strength=Strength.ACQUAINTED),
        person("shop", USE, reports_to="cte", strength=Strength.ACQUAINTED),
        person(
            "clerk", reports_to="gm", insider=True, strength=Strength.GOOD, influence=Influence.LOW
        ),
    )


def en(texts):
    return [t.en for t in texts]


# --- coverage ---------------------------------------------------------------


def test_an_empty_buying_center_has_every_role_unmapped_and_a_veto_risk():
    cov = coverage((), collective_decision=False)
    assert cov.unmapped_roles == (DM, TECH, BUY, USE)
    assert cov.uncovered_roles == ()
    assert cov.opposed_roles == ()
    assert cov.veto_risk
    assert en(cov.veto_reasons) == [
        "No technical person mapped yet: they cannot say yes, but can say no."
    ]
    assert not cov.has_insider
    assert cov.key_people == ()
    assert not cov.no_leadership_recorded


def test_a_role_is_covered_when_one_of_its_holders_is_at_good_or_better():
    people = (
        person("a", BUY, strength=Strength.ACQUAINTED, attitude=Attitude.SUPPORTER),
        person("b", BUY, strength=Strength.GOOD),
        person("c", USE, strength=Strength.ACQUAINTED),
    )
    cov = coverage(people, collective_decision=False)
    buy = cov.of(BUY)
    assert buy.holders == ("a", "b")
    assert buy.covered_by == ("b",)
    assert buy.mapped and buy.covered and not buy.opposed
    assert buy.supporters == ("a",)
    use = cov.of(USE)
    assert use.mapped and not use.covered
    assert cov.unmapped_roles == (DM, TECH)
    assert cov.uncovered_roles == (USE,)
    assert 'User (C): no relationship at "good" or better yet.' in en(cov.findings)


def test_a_role_with_an_opponent_is_opposed_even_when_another_holder_supports_us():
    people = (
        person("a", USE, attitude=Attitude.OPPONENT, strength=Strength.GOOD),
        person("b", USE, attitude=Attitude.SUPPORTER),
        person("c", USE, attitude=Attitude.OPPONENT),
    )
    cov = coverage(people, collective_decision=False)
    assert cov.opposed_roles == (USE,)
    assert cov.of(USE).opponents == ("a", "c")
    assert "User: A, C oppose us." in en(cov.findings)
    assert "使用人中有人反对我们：A、C。" in [t.zh for t in cov.findings]


def test_a_single_opponent_is_reported_in_the_singular():
    cov = coverage((person("a", BUY, attitude=Attitude.OPPONENT),), collective_decision=False)
    assert "Purchaser: A opposes us." in en(cov.findings)


def test_an_opposed_technical_person_is_a_veto_risk_even_when_the_relationship_is_strong():
    people = (person("t", TECH, attitude=Attitude.OPPONENT, strength=Strength.STRONG),)
    cov = coverage(people, collective_decision=False)
    assert cov.veto_risk
    assert en(cov.veto_reasons) == ["Technical person T opposes us and can veto our solution."]
    assert cov.findings[0] == cov.veto_reasons[0]


def test_an_uncovered_technical_person_is_a_veto_risk():
    people = (
        person("t1", TECH, strength=Strength.GOOD),
        person("t2", TECH, strength=Strength.ACQUAINTED, name="王总工"),
    )
    cov = coverage(people, collective_decision=False)
    # the role is covered through t1, yet t2 alone can still say no
    assert cov.of(TECH).covered
    assert [t.zh for t in cov.veto_reasons] == [
        "与技术选型人王总工的关系不到“关系良好”：他能说“不”。"
    ]


def test_a_covered_neutral_technical_person_is_no_veto_risk():
    cov = coverage((person("t", TECH, strength=Strength.GOOD),), collective_decision=False)
    assert not cov.veto_risk


def test_an_unmapped_technical_role_is_no_veto_risk_when_the_company_does_not_require_it():
    settings = BuyingCenterSettings(required_roles=frozenset({DM}))
    cov = coverage((person("g", DM),), collective_decision=False, settings=settings)
    assert not cov.veto_risk
    assert cov.unmapped_roles == ()
    assert cov.uncovered_roles == (DM,)


def test_key_people_are_the_decision_makers_and_anyone_of_high_influence():
    people = (
        person("gm", DM, influence=Influence.LOW),
        person("assistant", influence=Influence.HIGH),
        person("user", USE),
        person("board", leadership_member=True),
    )
    cov = coverage(people, collective_decision=False)
    assert cov.key_people == ("gm", "assistant")
    assert cov.leadership == ()


def test_a_collective_decision_needs_every_leadership_member_as_a_covered_decision_maker():
    people = (
        person("sec", DM, leadership_member=True, strength=Strength.GOOD),
        person("gm", DM, leadership_member=True, strength=Strength.ACQUAINTED),
        person("vp", leadership_member=True, strength=Strength.STRONG, influence=Influence.LOW),
        person("buyer", BUY),
    )
    cov = coverage(people, collective_decision=True)
    assert cov.leadership == ("sec", "gm", "vp")
    assert cov.leadership_unmapped == ("vp",)
    assert cov.leadership_uncovered == ("gm",)
    assert cov.key_people == ("sec", "gm", "vp")
    assert cov.of(DM).covered
    assert "Leadership-team members not marked as decision makers: VP." in en(cov.findings)
    assert 'Relationship below "good" with leadership-team members: GM.' in en(cov.findings)


def test_a_collective_decision_without_any_leadership_member_is_its_own_finding():
    cov = coverage((person("gm", DM, strength=Strength.GOOD),), collective_decision=True)
    assert cov.no_leadership_recorded
    assert "Collective decision: no member of the leadership team recorded yet." in en(cov.findings)
    assert cov.leadership_unmapped == ()


def test_insiders_are_listed():
    cov = coverage(
        (person("a", insider=True), person("b"), person("c", insider=True)),
        collective_decision=False,
    )
    assert cov.insiders == ("a", "c")
    assert cov.has_insider


def test_findings_come_most_serious_first():
    people = (
        person("t", TECH, attitude=Attitude.OPPONENT),
        person("l", leadership_member=True),
        person("u", USE, strength=Strength.NONE),
    )
    cov = coverage(people, collective_decision=True)
    assert en(cov.findings) == [
        "Technical person T opposes us and can veto our solution.",
        "Technical person: T opposes us.",
        "Leadership-team members not marked as decision makers: L.",
        'Relationship below "good" with leadership-team members: L.',
        "Nobody mapped as decision maker yet.",
        "Nobody mapped as purchaser yet.",
        'Technical person (T): no relationship at "good" or better yet.',
        'User (U): no relationship at "good" or better yet.',
    ]


def test_a_person_without_a_name_is_named_by_id():
    cov = coverage((person("t-7", TECH, name=""),), collective_decision=False)
    assert en(cov.veto_reasons) == [
        'Relationship with technical person t-7 is below "good": they can say no.'
    ]


def test_the_same_person_twice_is_refused():
    with pytest.raises(DuplicatePerson, match="'a' appears more than once"):
        coverage((person("a"), person("a", USE)), collective_decision=False)
    assert issubclass(DuplicatePerson, MethodError)


def test_the_coverage_threshold_is_a_setting():
    settings = BuyingCenterSettings(covered_strength=Strength.ACQUAINTED)
    cov = coverage(
        (person("u", USE, strength=Strength.ACQUAINTED),),
        collective_decision=False,
        settings=settings,
    )
    assert cov.of(USE).covered
    cov = coverage((person("u", USE, strength=Strength.NONE),), collective_decision=False)
    assert 'User (U): no relationship at "good" or better yet.' in en(cov.findings)


# --- key-person strategy ------------------------------------------------------


def test_a_complete_team_has_done_all_six_steps():
    progress = key_person_progress(complete_team(), collective_decision=False)
    assert [s.done for s in progress.steps] == [True] * 6
    assert [s.number for s in progress.steps] == [1, 2, 3, 4, 5, 6]
    assert progress.current_step is None
    assert progress.done
    assert progress.steps[0].title == Text("寻找内线", "Find your insider")
    assert all(s.missing == () for s in progress.steps)


def test_a_deal_without_insider_is_stuck_at_step_one():
    team = tuple(p for p in complete_team() if not p.insider)
    progress = key_person_progress(team, collective_decision=False)
    assert progress.current_step == 1
    assert en(progress.steps[0].missing) == ["No insider yet."]
    # the other steps keep their own status
    assert [s.done for s in progress.steps] == [False, True, True, True, True, True]
    assert not progress.done


def test_an_empty_buying_center_has_done_nothing():
    progress = key_person_progress((), collective_decision=False)
    assert [s.done for s in progress.steps] == [False, False, False, False, False, True]
    assert progress.current_step == 1
    assert en(progress.steps[1].missing) == [
        "The organisation chart needs at least 2 people; 0 recorded."
    ]
    assert en(progress.steps[4].missing) == ["Nobody mapped as decision maker yet."]


def test_the_org_chart_needs_the_minimum_number_of_people():
    one = (person("gm", DM, insider=True),)
    assert key_person_progress(one, collective_decision=False).steps[1].missing == (
        Text(
            "组织结构图至少需要2人，目前只有1人。",
            "The organisation chart needs at least 2 people; 1 recorded.",
        ),
    )
    settings = BuyingCenterSettings(org_chart_min_people=1)
    assert key_person_progress(one, collective_decision=False, settings=settings).steps[1].done


def test_the_org_chart_is_not_learned_while_two_people_report_to_nobody():
    team = (person("gm"), person("cte"), person("buyer", reports_to="gm"))
    step = key_person_progress(team, collective_decision=False).steps[1]
    assert not step.done
    assert en(step.missing) == ["GM, CTE report to nobody: record who reports to whom."]


def test_leadership_members_at_the_top_of_a_collective_customer_count_as_one_top():
    team = (
        person("sec", leadership_member=True),
        person("gm", leadership_member=True),
        person("buyer", reports_to="gm"),
    )
    assert key_person_progress(team, collective_decision=True).steps[1].done
    # without collective decision two roots are two tops
    assert not key_person_progress(team, collective_decision=False).steps[1].done
    # one leadership root plus an unattached person is still two tops
    team += (person("stray"),)
    assert not key_person_progress(team, collective_decision=True).steps[1].done


def test_broken_reporting_lines_leave_step_two_undone_without_raising():
    team = (
        person("a", reports_to="b"),
        person("b", reports_to="a"),
        person("c", reports_to="ghost"),
    )
    step = key_person_progress(team, collective_decision=False).steps[1]
    assert en(step.missing) == [
        "C reports to ghost, who is not recorded.",
        "Reporting lines go round in a circle: A, B.",
    ]


def test_step_three_needs_every_required_role_and_a_role_for_everyone_but_the_insider():
    team = complete_team()
    team = (*team[:3], person("x"), team[4])  # the user is replaced by someone without a role
    step = key_person_progress(team, collective_decision=False).steps[2]
    assert en(step.missing) == [
        "Nobody mapped as user yet.",
        "Role in this deal not clarified for X.",
    ]
    assert [t.zh for t in step.missing][1] == "X在本项目中的角色未明确。"


def test_step_four_needs_someone_rated_at_high_influence():
    team = tuple(Person(**{**vars(p), "influence": Influence.MEDIUM}) for p in complete_team())
    progress = key_person_progress(team, collective_decision=False)
    assert progress.current_step == 4
    assert en(progress.steps[3].missing) == [
        "Nobody rated at high influence: judge who most influences the decision."
    ]


def test_step_four_needs_a_decision_maker():
    team = (person("cte", TECH, influence=Influence.HIGH, strength=Strength.GOOD),)
    progress = key_person_progress(team, collective_decision=False)
    assert en(progress.steps[3].missing) == ["Nobody mapped as decision maker yet."]
    assert not progress.steps[4].done


def test_a_collective_customer_needs_its_leadership_recorded_as_decision_makers():
    team = complete_team()
    progress = key_person_progress(team, collective_decision=True)
    no_leaders = "Collective decision: no member of the leadership team recorded yet."
    assert en(progress.steps[3].missing) == [no_leaders]
    assert en(progress.steps[4].missing) == [no_leaders]
    assert progress.current_step == 4

    team += (person("sec", leadership_member=True, strength=Strength.ACQUAINTED),)
    progress = key_person_progress(team, collective_decision=True)
    assert en(progress.steps[3].missing) == [
        "Leadership-team members not marked as decision makers: SEC."
    ]
    assert en(progress.steps[4].missing) == ['Relationship below "good" with decision makers: SEC.']
    assert en(progress.steps[5].missing) == ['Relationship below "good" with key people: SEC.']


def test_step_five_needs_every_decision_maker_covered():
    team = (*complete_team(), person("dep", DM, reports_to="gm", strength=Strength.ACQUAINTED))
    progress = key_person_progress(team, collective_decision=False)
    assert progress.current_step == 5
    assert en(progress.steps[4].missing) == ['Relationship below "good" with decision makers: DEP.']
    assert [t.zh for t in progress.steps[4].missing] == ["与决策人DEP的关系不到“关系良好”。"]


def test_step_six_needs_acquaintance_with_everyone_key_people_covered_and_no_opponent():
    team = (
        *complete_team(),
        person("op", USE, reports_to="gm", strength=Strength.NONE, attitude=Attitude.OPPONENT),
        person("vip", USE, reports_to="gm", influence=Influence.HIGH, strength=Strength.ACQUAINTED),
    )
    progress = key_person_progress(team, collective_decision=False)
    assert progress.current_step == 6
    assert en(progress.steps[5].missing) == [
        'Relationship below "acquainted" with OP.',
        'Relationship below "good" with key people: VIP.',
        "Still opposed to us: OP.",
    ]


def test_the_broad_front_strength_is_a_setting():
    settings = BuyingCenterSettings(broad_front_min_strength=Strength.GOOD)
    progress = key_person_progress(complete_team(), collective_decision=False, settings=settings)
    # buyer and shop floor are only acquainted
    assert en(progress.steps[5].missing) == ['Relationship below "good" with BUYER, SHOP.']


def test_progress_refuses_the_same_person_twice():
    with pytest.raises(DuplicatePerson):
        key_person_progress((person("a"), person("a")), collective_decision=False)


# --- organisation chart ---------------------------------------------------------


def test_the_org_chart_lists_roots_and_children_in_recorded_order():
    chart = org_chart(complete_team())
    assert chart == OrgChart(
        roots=("gm",),
        children={
            "gm": ("cte", "buyer", "clerk"),
            "cte": ("shop",),
            "buyer": (),
            "shop": (),
            "clerk": (),
        },
    )
    assert chart.walk() == (("gm", 0), ("cte", 1), ("shop", 2), ("buyer", 1), ("clerk", 1))


def test_an_org_chart_can_have_several_roots():
    chart = org_chart((person("a"), person("b"), person("c", reports_to="b")))
    assert chart.roots == ("a", "b")
    assert chart.walk() == (("a", 0), ("b", 0), ("c", 1))


def test_a_reporting_cycle_is_refused_naming_the_people_in_it():
    people = (
        person("top"),
        person("a", reports_to="c"),
        person("b", reports_to="a"),
        person("c", reports_to="b"),
        person("d", reports_to="a"),
    )
    with pytest.raises(ReportingCycle, match="a -> c -> b -> a") as caught:
        org_chart(people)
    assert caught.value.people == ("a", "c", "b")
    assert issubclass(ReportingCycle, MethodError)


def test_reporting_to_oneself_is_a_cycle():
    with pytest.raises(ReportingCycle, match="me -> me"):
        check_reports_to((person("me", reports_to="me"),))


def test_reporting_to_someone_absent_is_refused():
    with pytest.raises(UnknownManager, match="'a' has reports_to='ghost'") as caught:
        check_reports_to((person("a", reports_to="ghost"),))
    assert (caught.value.person_id, caught.value.manager_id) == ("a", "ghost")


def test_sound_reporting_lines_pass_the_check():
    assert check_reports_to(complete_team()) is None


def test_an_edit_that_would_make_someone_their_own_boss_is_detected():
    team = complete_team()  # shop -> cte -> gm
    assert would_create_cycle(team, "gm", "shop")
    assert would_create_cycle(team, "cte", "shop")
    assert would_create_cycle(team, "gm", "gm")
    assert not would_create_cycle(team, "shop", "buyer")
    assert not would_create_cycle(team, "gm", None)
    assert not would_create_cycle(team, "newcomer", "shop")


def test_an_edit_is_checked_against_a_newcomer_someone_already_reports_to():
    team = (person("a", reports_to="new"),)
    assert would_create_cycle(team, "new", "a")


def test_an_edit_climbing_into_an_existing_cycle_stops():
    team = (person("a", reports_to="b"), person("b", reports_to="a"), person("c"))
    assert not would_create_cycle(team, "c", "a")


def test_an_edit_climbing_to_a_manager_not_recorded_stops():
    team = (person("a", reports_to="ghost"), person("c"))
    assert not would_create_cycle(team, "c", "a")


def test_an_edit_to_an_unknown_manager_is_refused():
    with pytest.raises(UnknownManager, match="'gm' has reports_to='ghost'"):
        would_create_cycle(complete_team(), "gm", "ghost")


# --- title is not role ------------------------------------------------------------


def test_a_general_manager_rated_low_influence_is_flagged():
    people = (
        person("gm", title="总经理", influence=Influence.LOW, name="李总"),
        person("ok", title="厂长", influence=Influence.MEDIUM),
    )
    (finding,) = title_role_mismatches(people)
    assert finding.person_id == "gm"
    assert finding.senior_title
    assert finding.message.zh == "李总职位是“总经理”，影响力却评为低：他是否受下属左右？"


def test_a_junior_title_with_high_influence_is_flagged():
    (finding,) = title_role_mismatches(
        (person("a", title="Office Assistant", influence=Influence.HIGH),)
    )
    assert not finding.senior_title
    assert finding.message.en == (
        'A is "Office Assistant" but rated high influence: a modest title, possibly a key person.'
    )


def test_english_title_words_match_whole_words_in_any_case():
    people = (
        person("a", title="Chief Engineer", influence=Influence.LOW),
        person("b", title="Directory editor", influence=Influence.LOW),
        person("c", title="Head of Purchasing", influence=Influence.LOW),
        person("d", title="", influence=Influence.LOW),
    )
    assert [f.person_id for f in title_role_mismatches(people)] == ["a", "c"]


def test_a_title_with_both_senior_and_junior_words_is_not_flagged():
    people = (
        person("a", title="总经理助理", influence=Influence.HIGH),
        person("b", title="Assistant Director", influence=Influence.LOW),
    )
    assert title_role_mismatches(people) == ()


def test_the_title_word_lists_are_settings():
    settings = BuyingCenterSettings(senior_title_words=("老板",), junior_title_words=())
    people = (
        person("a", title="老板", influence=Influence.LOW),
        person("b", title="总经理", influence=Influence.LOW),
    )
    assert [f.person_id for f in title_role_mismatches(people, settings=settings)] == ["a"]


# --- properties ----------------------------------------------------------------------

IDS = ["p0", "p1", "p2", "p3", "p4", "p5"]


@st.composite
def people_lists(draw, min_size=0):
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, min_size=min_size))
    return tuple(
        Person(
            id=pid,
            name=pid,
            roles=draw(st.frozensets(st.sampled_from(list(Role)))),
            influence=draw(st.sampled_from(list(Influence))),
            attitude=draw(st.sampled_from(list(Attitude))),
            strength=draw(st.sampled_from(list(Strength))),
            insider=draw(st.booleans()),
            reports_to=draw(st.none() | st.sampled_from(IDS)),
            leadership_member=draw(st.booleans()),
        )
        for pid in ids
    )


settings_st = st.builds(
    BuyingCenterSettings,
    covered_strength=st.sampled_from(list(Strength)),
    key_influence=st.sampled_from(list(Influence)),
    broad_front_min_strength=st.sampled_from(list(Strength)),
)


@given(people_lists(), st.booleans(), settings_st)
def test_a_role_is_covered_only_through_a_holder_at_the_threshold(people, collective, settings):
    cov = coverage(people, collective_decision=collective, settings=settings)
    by_id = {p.id: p for p in people}
    for rc in cov.roles:
        assert set(rc.covered_by) <= set(rc.holders)
        assert rc.covered == any(by_id[i].strength >= settings.covered_strength for i in rc.holders)
        if not rc.mapped:
            assert not rc.covered
    assert not set(cov.unmapped_roles) & set(cov.uncovered_roles)


@given(people_lists(), st.booleans(), st.frozensets(st.sampled_from(list(Role)), min_size=1))
def test_adding_a_covered_supporter_never_uncovers_a_role(people, collective, roles):
    before = coverage(people, collective_decision=collective)
    newcomer = Person(
        id="new",
        name="new",
        roles=roles,
        strength=DEFAULT_SETTINGS.covered_strength,
        attitude=Attitude.SUPPORTER,
    )
    after = coverage((*people, newcomer), collective_decision=collective)
    covered_before = {rc.role for rc in before.roles if rc.covered}
    covered_after = {rc.role for rc in after.roles if rc.covered}
    assert covered_before | roles == covered_after


@given(
    people_lists(min_size=1),
    st.booleans(),
    st.data(),
    settings_st,
)
def test_raising_a_relationship_never_moves_the_current_step_back(
    people, collective, data, settings
):
    i = data.draw(st.integers(0, len(people) - 1))
    stronger = data.draw(st.sampled_from([s for s in Strength if s >= people[i].strength]))
    raised = (*people[:i], Person(**{**vars(people[i]), "strength": stronger}), *people[i + 1 :])
    before = key_person_progress(people, collective_decision=collective, settings=settings)
    after = key_person_progress(raised, collective_decision=collective, settings=settings)
    assert (after.current_step or 7) >= (before.current_step or 7)
    for b, a in zip(before.steps, after.steps, strict=True):
        assert a.done or not b.done


def test_a_leadership_member_is_a_key_person_only_when_the_customer_decides_collectively():
    member = Person("m", "孙委员", influence=Influence.LOW, leadership_member=True)
    assert is_key_person(member, collective_decision=True)
    assert not is_key_person(member, collective_decision=False)
