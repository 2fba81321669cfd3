import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.method.insider import (
    VERDICT_LABELS,
    InsiderClaim,
    InsiderSettings,
    InvalidInsiderClaim,
    InvalidInsiderSettings,
    Verdict,
    insider_reliability,
)
from kam.method.types import InsiderFact, MethodError

DAY = dt.date(2025, 3, 1)


def claim(fact, confirmed, on=DAY, note=""):
    return InsiderClaim(fact, on, confirmed, note)


def test_an_insider_who_has_said_nothing_is_unproven_and_covers_nothing():
    report = insider_reliability([])
    assert report.reliability == 0.5  # (0 + 1) / (0 + 2)
    assert report.coverage == 0.0
    assert report.verdict is Verdict.UNPROVEN
    assert report.supplied == ()
    assert report.missing == tuple(InsiderFact)


def test_one_confirmed_claim_is_two_thirds_reliable_but_still_unproven():
    report = insider_reliability([claim(InsiderFact.BUDGET, True)])
    assert report.reliability == pytest.approx(2 / 3)  # (1 + 1) / (1 + 2)
    assert report.verdict is Verdict.UNPROVEN
    assert report.confirmed == (InsiderFact.BUDGET,)
    assert report.coverage == pytest.approx(1 / 6)


def test_two_confirmed_claims_make_a_reliable_insider():
    report = insider_reliability(
        [claim(InsiderFact.BUDGET, True), claim(InsiderFact.SCHEDULE, True)]
    )
    assert report.reliability == pytest.approx(0.75)  # (2 + 1) / (2 + 2)
    assert report.verdict is Verdict.RELIABLE


def test_three_confirmed_against_one_contradicted_is_just_reliable():
    claims = [
        claim(InsiderFact.BUDGET, True),
        claim(InsiderFact.SCHEDULE, True),
        claim(InsiderFact.ROLES, True),
        claim(InsiderFact.COMPETITORS, False),
    ]
    report = insider_reliability(claims)
    assert report.reliability == 2 / 3  # (3 + 1) / (4 + 2), exactly the threshold
    assert report.verdict is Verdict.RELIABLE


def test_two_confirmed_against_one_contradicted_is_doubtful():
    claims = [
        claim(InsiderFact.BUDGET, True),
        claim(InsiderFact.SCHEDULE, True),
        claim(InsiderFact.COMPETITORS, False),
    ]
    report = insider_reliability(claims)
    assert report.reliability == pytest.approx(0.6)  # (2 + 1) / (3 + 2)
    assert report.verdict is Verdict.DOUBTFUL
    assert report.contradicted == (InsiderFact.COMPETITORS,)


def test_the_report_sorts_the_supplied_facts_by_their_latest_claim():
    claims = [
        claim(InsiderFact.BUDGET, False, dt.date(2025, 3, 1), "said 2m, it was 3m"),
        claim(InsiderFact.KEY_PEOPLE, None, dt.date(2025, 3, 2)),
        claim(InsiderFact.BUDGET, True, dt.date(2025, 4, 1), "revised budget 3m"),
        claim(InsiderFact.SCHEDULE, True, dt.date(2025, 2, 1)),
    ]
    report = insider_reliability(claims)
    assert report.supplied == (InsiderFact.SCHEDULE, InsiderFact.BUDGET, InsiderFact.KEY_PEOPLE)
    assert report.confirmed == (InsiderFact.SCHEDULE, InsiderFact.BUDGET)
    assert report.contradicted == ()
    assert report.pending == (InsiderFact.KEY_PEOPLE,)
    assert report.missing == (InsiderFact.ORGANISATION, InsiderFact.ROLES, InsiderFact.COMPETITORS)
    assert (report.claims_confirmed, report.claims_contradicted, report.claims_pending) == (2, 1, 1)
    assert report.claims_settled == 3
    assert report.coverage == 0.5  # 3 of 6


def test_an_older_claim_listed_later_does_not_replace_a_newer_one():
    claims = [
        claim(InsiderFact.ROLES, None, dt.date(2025, 5, 1)),
        claim(InsiderFact.ROLES, True, dt.date(2025, 4, 1)),
    ]
    assert insider_reliability(claims).pending == (InsiderFact.ROLES,)


def test_on_the_same_day_the_claim_listed_later_wins():
    claims = [claim(InsiderFact.ROLES, True), claim(InsiderFact.ROLES, False)]
    assert insider_reliability(claims).contradicted == (InsiderFact.ROLES,)


def test_the_thresholds_are_settings():
    one_is_enough = InsiderSettings(min_settled=1)
    report = insider_reliability([claim(InsiderFact.BUDGET, True)], settings=one_is_enough)
    assert report.verdict is Verdict.RELIABLE
    strict = InsiderSettings(reliable_at=0.8)
    claims = [claim(InsiderFact.BUDGET, True), claim(InsiderFact.ROLES, True)]
    assert insider_reliability(claims, settings=strict).verdict is Verdict.DOUBTFUL  # 0.75


def test_a_weaker_prior_lets_the_record_speak_sooner():
    settings = InsiderSettings(prior_confirmed=0.5, prior_contradicted=0.5)
    report = insider_reliability([claim(InsiderFact.BUDGET, True)], settings=settings)
    assert report.reliability == pytest.approx(0.75)  # (1 + 0.5) / (1 + 1)


def test_the_message_sums_up_the_record():
    report = insider_reliability(
        [claim(InsiderFact.BUDGET, True), claim(InsiderFact.SCHEDULE, True)]
    )
    assert report.message.zh == (
        "内线可靠:2 条已证实,0 条被否定,0 条待核实;可靠度 75%,已提供 2/6 类信息。"
    )
    assert report.message.en == (
        "Reliable insider: 2 confirmed, 0 contradicted, 0 pending; reliability 75%, "
        "2 of 6 facts supplied."
    )
    assert {VERDICT_LABELS[v].zh for v in Verdict} == {"内线可靠", "内线存疑", "内线尚未验证"}


def test_a_fact_may_be_given_by_its_value():
    assert claim("budget", None).fact is InsiderFact.BUDGET


def test_an_unknown_fact_is_refused_by_name():
    with pytest.raises(InvalidInsiderClaim, match="unknown fact 'price'") as caught:
        claim("price", True)
    assert isinstance(caught.value, MethodError)


def test_a_confirmation_that_is_not_yes_no_or_unknown_is_refused():
    with pytest.raises(InvalidInsiderClaim, match="on budget: confirmed must be True, False"):
        claim(InsiderFact.BUDGET, "yes")
    with pytest.raises(InvalidInsiderClaim):
        claim(InsiderFact.BUDGET, 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prior_confirmed", 0.0),
        ("prior_contradicted", float("inf")),
        ("min_settled", -1),
        ("reliable_at", 0.0),
        ("reliable_at", 1.5),
    ],
)
def test_out_of_range_settings_are_refused_by_name(field, value):
    with pytest.raises(InvalidInsiderSettings, match=field):
        InsiderSettings(**{field: value})


statuses = st.lists(
    st.tuples(st.sampled_from(list(InsiderFact)), st.sampled_from([True, False, None])),
    max_size=30,
)


@given(statuses, st.data())
def test_confirming_a_pending_claim_never_lowers_reliability(rows, data):
    claims = [claim(fact, confirmed) for fact, confirmed in rows]
    pending = [i for i, c in enumerate(claims) if c.confirmed is None]
    claims.append(claim(InsiderFact.BUDGET, None))
    pending.append(len(claims) - 1)
    index = data.draw(st.sampled_from(pending))
    before = insider_reliability(claims).reliability
    claims[index] = claim(claims[index].fact, True)
    assert insider_reliability(claims).reliability >= before


@given(statuses)
def test_reliability_is_never_certain_either_way(rows):
    report = insider_reliability(claim(fact, confirmed) for fact, confirmed in rows)
    assert 0 < report.reliability < 1
    assert 0 <= report.coverage <= 1
    assert len(report.supplied) + len(report.missing) == len(InsiderFact)
