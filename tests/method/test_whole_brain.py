import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.method.types import BrainScores, Influence, MethodError, Person, Quadrant, Role, Text
from kam.method.whole_brain import (
    EVALUATIONS,
    NO_EVIDENCE,
    PHRASES,
    InvalidWholeBrainSettings,
    Profile,
    ScoreOutOfRange,
    UnknownPhrase,
    UnknownQuadrant,
    WholeBrainSettings,
    advice,
    advice_for,
    combined_profile,
    emphasis_matches,
    evaluations_of,
    from_brain,
    phrases_of,
    profile,
)

A, B, C, D = Quadrant.A, Quadrant.B, Quadrant.C, Quadrant.D

# --- catalogue ----------------------------------------------------------------


def test_the_seed_phrases_are_catalogued_in_chinese_for_a_b_and_c():
    assert [p.text.zh for p in phrases_of(A)] == [
        "一样样拆开来",
        "批判式分析",
        "要点",
        "知道底线在哪里",
    ]
    assert [p.text.zh for p in phrases_of(B)] == [
        "依照惯例", "养成习惯", "法律和秩序", "安全第一", "自律精神", "顺序",
        "我们一直都是这么做的",
    ]  # fmt: skip
    assert [p.text.zh for p in phrases_of(C)] == [
        "人力资源", "人的价值", "互动", "参与", "个人成长", "团队合作", "团队发展", "家庭",
    ]  # fmt: skip
    assert all(p.from_seed for q in (A, B, C) for p in phrases_of(q))


def test_the_seed_typo_for_self_discipline_is_corrected():
    assert not any("自率" in p.text.zh for p in PHRASES)
    assert any(p.id == "b_self_discipline" and p.text.en == "Self-discipline" for p in PHRASES)


def test_the_d_phrases_come_from_herrmann_and_are_marked_so():
    d = phrases_of(D)
    assert {"大局", "新点子", "未来", "概念", "想象", "创新"} <= {p.text.zh for p in d}
    assert not any(p.from_seed for p in d)


def test_phrase_and_evaluation_ids_are_unique_and_bilingual():
    for catalogue in (PHRASES, EVALUATIONS):
        ids = [item.id for item in catalogue]
        assert len(ids) == len(set(ids))
        assert all(item.id.startswith(item.quadrant.value.lower() + "_") for item in catalogue)
        assert all(item.text.zh and item.text.en for item in catalogue)


def test_how_others_describe_each_quadrant_is_catalogued():
    assert [e.text.zh for e in evaluations_of(A)] == [
        "工于心计",
        "冷若冰霜",
        "不懂得关心别人",
        "数字机器",
    ]
    assert "一根筋" in {e.text.zh for e in evaluations_of(B)}
    assert "墨守成规" in {e.text.zh for e in evaluations_of(B)}
    assert evaluations_of(C) and not any(e.from_seed for e in evaluations_of(C))
    assert evaluations_of(D) and not any(e.from_seed for e in evaluations_of(D))


# --- labels -------------------------------------------------------------------------


def test_the_default_labels_name_the_four_quadrants():
    settings = WholeBrainSettings()
    assert [settings.label(q).zh for q in Quadrant] == ["分析型", "程序型", "人际型", "想象型"]
    assert settings.label(D).en == "Imaginative"


def test_the_animals_follow_herrmanns_layout_eagle_donkey_over_fox_sheep():
    settings = WholeBrainSettings()
    # Top row A, D; bottom row B, C.
    assert [settings.animal(q).zh for q in (A, D, B, C)] == ["鹰", "驴", "狐", "羊"]
    assert settings.animal(A).en == "Eagle"


def test_a_company_can_rename_the_labels_and_animals():
    settings = WholeBrainSettings(label_a=Text("数据型", "Data"), animal_d=Text("狐", "Fox"))
    assert settings.label(A).zh == "数据型"
    assert settings.animal(D).en == "Fox"
    assert advice(A, settings=settings).label.en == "Data"


# --- profile --------------------------------------------------------------------------


def test_phrases_give_each_quadrant_its_share_of_the_most_heard_one():
    p = profile(phrase_ids=["a_key_points", "a_bottom_line", "a_key_points", "c_teamwork"])
    # A heard 3 times -> 100; C once -> 100 * 1/3.
    assert (p.a, p.b, p.c, p.d) == pytest.approx((100, 0, 100 / 3, 0))
    assert p.dominant == (A,)
    assert p.confidence == pytest.approx(4 / 12)  # 4 / (4 + 8)


def test_quadrants_heard_equally_often_share_dominance():
    p = profile(phrase_ids=["d_future", "a_key_points", "d_big_picture", "a_bottom_line"])
    assert p.dominant == (A, D)


def test_no_evidence_gives_no_dominant_quadrant_and_no_confidence():
    assert profile() == Profile(0.0, 0.0, 0.0, 0.0, (), 0.0)
    assert profile(direct={}) == Profile(0.0, 0.0, 0.0, 0.0, (), 0.0)


def test_direct_scores_alone_are_taken_as_given_with_a_third_of_confidence():
    p = profile(direct={A: 30, B: 80, D: 55.5})
    assert (p.a, p.b, p.c, p.d) == (30.0, 80.0, 0.0, 55.5)
    assert p.dominant == (B,)
    assert p.confidence == pytest.approx(1 / 3)  # 4 / (4 + 8)


def test_direct_scores_of_zero_everywhere_show_no_dominant_quadrant():
    assert profile(direct={A: 0, B: 0}).dominant == ()


def test_phrases_and_direct_scores_blend_by_their_observations():
    p = profile(
        phrase_ids=["a_key_points", "a_key_points", "b_safety_first"], direct={"A": 50, "C": 70}
    )
    # Phrases (3 observations): A 100, B 50. Direct (4 observations): A 50, C 70.
    # A = (3*100 + 4*50) / 7 = 500/7; B = 3*50/7 = 150/7; C = 4*70/7 = 40.
    assert (p.a, p.b, p.c, p.d) == pytest.approx((500 / 7, 150 / 7, 40, 0))
    assert p.dominant == (A,)
    assert p.confidence == pytest.approx(7 / 15)  # 7 / (7 + 8)


def test_confidence_and_the_weight_of_direct_scores_are_settings():
    settings = WholeBrainSettings(confidence_k=2, direct_observations=1)
    p = profile(phrase_ids=["c_family"], direct={C: 0}, settings=settings)
    assert p.c == pytest.approx(50)  # (1*100 + 1*0) / 2
    assert p.confidence == pytest.approx(0.5)  # 2 / (2 + 2)


def test_an_unknown_phrase_is_refused_by_name():
    with pytest.raises(UnknownPhrase, match="unknown phrase id 'a_bottom'") as caught:
        profile(phrase_ids=["a_key_points", "a_bottom"])
    assert isinstance(caught.value, MethodError)


@pytest.mark.parametrize("value", [-1, 100.5, float("nan"), "80"])
def test_a_direct_score_outside_0_to_100_is_refused_by_quadrant(value):
    with pytest.raises(ScoreOutOfRange, match="direct score of quadrant B"):
        profile(direct={A: 50, B: value})


def test_a_direct_score_for_no_quadrant_is_refused():
    with pytest.raises(UnknownQuadrant, match="unknown quadrant 'E'"):
        profile(direct={"E": 50})


def test_a_profile_round_trips_through_stored_brain_scores():
    p = profile(phrase_ids=["b_in_order"], direct={D: 40})
    assert from_brain(p.as_brain()) == p
    assert p.of(B) == p.b and p.of(D) == p.d and p.of(A) == p.a and p.of(C) == p.c


def test_stored_scores_out_of_range_are_refused():
    with pytest.raises(ScoreOutOfRange, match="brain scores, quadrant C"):
        from_brain(BrainScores(a=10, c=120, confidence=0.5))
    with pytest.raises(ScoreOutOfRange, match=r"confidence must be within 0-1, got 1\.5"):
        from_brain(BrainScores(a=10, confidence=1.5))


# --- advice -------------------------------------------------------------------------


def test_each_quadrant_gets_what_to_bring_and_what_to_avoid():
    assert "底线" in advice(A).bring.zh and "bottom line" in advice(A).bring.en
    assert "step-by-step" in advice(B).bring.en and "低风险" in advice(B).bring.zh
    assert "员工" in advice(C).bring.zh and "team" in advice(C).bring.en
    assert "愿景" in advice(D).bring.zh and "vision" in advice(D).bring.en
    for q in Quadrant:
        tip = advice(q)
        assert tip.quadrant is q
        assert tip.label == WholeBrainSettings().label(q)
        assert tip.how.zh and tip.avoid.zh and tip.avoid.en


def test_advice_for_a_well_observed_profile_has_no_caution():
    p = profile(phrase_ids=["c_family"] * 8)  # confidence 8 / 16 = 0.5
    result = advice_for(p)
    assert [tip.quadrant for tip in result.advice] == [C]
    assert result.caution is None


def test_advice_for_a_thin_profile_says_it_is_a_hypothesis():
    p = profile(phrase_ids=["a_key_points", "d_future"])  # confidence 2 / 10 = 0.2
    result = advice_for(p)
    assert [tip.quadrant for tip in result.advice] == [A, D]
    assert result.caution is not None
    assert result.caution.zh == "把握不大(置信度 20%):这只是假设,下次拜访时验证。"
    assert "20%" in result.caution.en and "hypothesis" in result.caution.en


def test_advice_for_a_profile_without_evidence_asks_to_listen_first():
    assert advice_for(profile()) == type(advice_for(profile()))((), NO_EVIDENCE)


# --- the buying center ------------------------------------------------------------

GM = Person(
    "gm",
    "Zhang",
    roles=frozenset({Role.DECISION_MAKER}),
    influence=Influence.HIGH,
    brain=BrainScores(a=80, b=20, c=10, d=40, confidence=0.5),
)
OPERATOR = Person(
    "op",
    "Zhao",
    roles=frozenset({Role.USER}),
    influence=Influence.LOW,
    brain=BrainScores(a=10, b=30, c=90, d=20, confidence=1.0),
)
ENGINEER = Person("eng", "Li", roles=frozenset({Role.TECHNICAL}), influence=Influence.MEDIUM)


def test_the_buying_center_is_weighted_by_influence_and_confidence():
    combined = combined_profile([GM, OPERATOR, ENGINEER])
    # Weights: Zhang 3 * 0.5 = 1.5, Zhao 1 * 1.0 = 1; Li has no scores. Sum 2.5.
    # A = (1.5*80 + 10) / 2.5 = 52; B = (30 + 30) / 2.5 = 24;
    # C = (15 + 90) / 2.5 = 42; D = (60 + 20) / 2.5 = 32.
    group = combined.group
    assert (group.a, group.b, group.c, group.d) == pytest.approx((52, 24, 42, 32))
    assert group.dominant == (A,)
    assert group.confidence == pytest.approx(2.5 / 6)  # influence 3 + 1 + 2
    assert combined.decision_makers.dominant == (A,)
    assert combined.decision_makers.a == pytest.approx(80)
    assert combined.decision_makers.confidence == pytest.approx(0.5)  # 1.5 / 3
    assert combined.profiled == ("Zhang", "Zhao")
    assert combined.unprofiled == ("Li",)


def test_a_collective_leadership_member_counts_among_the_decision_makers():
    member = Person(
        "m",
        "Sun",
        influence=Influence.MEDIUM,
        leadership_member=True,
        brain=BrainScores(d=90, confidence=0.8),
    )
    combined = combined_profile([member, OPERATOR])
    assert combined.decision_makers.dominant == (D,)
    assert combined.decision_makers.d == pytest.approx(90)


def test_a_buying_center_without_scores_has_no_picture():
    combined = combined_profile([ENGINEER])
    assert combined.group == Profile(0.0, 0.0, 0.0, 0.0, (), 0.0)
    assert combined.decision_makers.dominant == ()
    assert combined_profile([]).group.dominant == ()


def test_influence_weights_are_settings():
    settings = WholeBrainSettings(influence_weights=(1.0, 1.0, 1.0))
    combined = combined_profile([GM, OPERATOR], settings=settings)
    # Weights 0.5 and 1: C = (0.5*10 + 90) / 1.5 = 63.3 beats A = (40 + 10) / 1.5 = 33.3.
    assert combined.group.dominant == (C,)
    assert combined.group.c == pytest.approx(95 / 1.5)


def test_bad_stored_scores_are_refused_naming_the_person():
    bad = Person("x", "Qian", brain=BrainScores(b=-5, confidence=0.5))
    with pytest.raises(ScoreOutOfRange, match=r"person Qian \(x\), quadrant B"):
        combined_profile([GM, bad])


# --- emphasis ----------------------------------------------------------------------


def test_a_proposal_matches_when_it_speaks_to_a_dominant_quadrant():
    p = profile(phrase_ids=["a_key_points", "b_safety_first"])
    assert emphasis_matches(A, p) is True
    assert emphasis_matches(B, p) is True
    assert emphasis_matches(D, p) is False


def test_a_proposal_cannot_mismatch_a_profile_without_evidence():
    assert emphasis_matches(C, profile()) is True


# --- settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("confidence_k", 0.0),
        ("direct_observations", float("nan")),
        ("low_confidence_below", 1.1),
        ("influence_weights", (1.0, 2.0)),
        ("influence_weights", (1.0, -2.0, 3.0)),
    ],
)
def test_out_of_range_settings_are_refused_by_name(field, value):
    with pytest.raises(InvalidWholeBrainSettings, match=field):
        WholeBrainSettings(**{field: value})


# --- properties -------------------------------------------------------------------

phrase_ids = st.lists(st.sampled_from([p.id for p in PHRASES]), max_size=40)
direct_scores = st.none() | st.dictionaries(
    st.sampled_from(list(Quadrant)), st.floats(min_value=0, max_value=100)
)


@given(phrase_ids, st.sampled_from([p.id for p in PHRASES]), direct_scores)
def test_confidence_grows_with_every_observation_and_never_reaches_one(ids, extra, direct):
    before = profile(phrase_ids=ids, direct=direct).confidence
    after = profile(phrase_ids=[*ids, extra], direct=direct).confidence
    assert 0 <= before < after < 1


@given(phrase_ids, direct_scores)
def test_scores_stay_within_0_and_100(ids, direct):
    p = profile(phrase_ids=ids, direct=direct)
    assert all(0 <= p.of(q) <= 100 for q in Quadrant)
    top = max(p.of(q) for q in Quadrant)
    assert all(p.of(q) == pytest.approx(top, rel=1e-9) for q in p.dominant)
    if p.dominant:
        assert all(p.of(q) < top for q in Quadrant if q not in p.dominant)
    else:
        assert top == 0


@given(phrase_ids, st.sampled_from([p.id for p in PHRASES]), direct_scores)
def test_hearing_a_phrase_of_a_quadrant_never_lowers_its_score(ids, extra, direct):
    quadrant = next(p.quadrant for p in PHRASES if p.id == extra)
    before = profile(phrase_ids=ids, direct=direct).of(quadrant)
    after = profile(phrase_ids=[*ids, extra], direct=direct).of(quadrant)
    assert after >= before - 1e-9
