"""The method's endpoints: gate and advance, buying center, coach, funnel,
forecast, 10-5-3-1, and the OpenAPI document."""

import datetime as dt
from decimal import Decimal

import pytest

from kam.history.record import Source
from kam.sales import actions
from kam.sales.insights import current_quarter
from kam.sales.models import Opportunity, StageOverride
from tests.sales import factories

DEAL_ENDPOINTS = ["gate", "buying-center", "coach"]
GLOBAL_ENDPOINTS = ["funnel", "forecast?period=2026-Q4", "ratios"]


@pytest.mark.parametrize("endpoint", DEAL_ENDPOINTS)
def test_deal_endpoints_answer_the_rep_and_admin_and_hide_the_deal_from_others(
    call, rep, admin, outsider, north, endpoint
):
    path = f"opportunities/{north['opportunities'].pk}/{endpoint}"

    assert call(rep).get(path).status_code == 200
    assert call(admin).get(path).status_code == 200
    assert call(outsider).get(path).status_code == 404
    assert call().get(path).status_code == 401
    assert call(rep).get(path).has_header("ETag")


def test_account_coach_answers_in_scope_only(call, rep, admin, outsider, north):
    path = f"accounts/{north['accounts'].pk}/coach"

    response = call(rep, **{"Accept-Language": "zh-hans"}).get(path)

    assert response.status_code == 200
    assert call(admin).get(path).status_code == 200
    assert call(outsider).get(path).status_code == 404
    assert call().get(path).status_code == 401
    for item in response.data["items"]:
        assert set(item) >= {"rule_id", "severity", "message", "evidence", "section"}


@pytest.mark.parametrize("endpoint", GLOBAL_ENDPOINTS)
def test_team_endpoints_answer_everyone_signed_in_about_what_they_see(
    call, rep, admin, outsider, north, endpoint
):
    for user in (rep, admin, outsider):
        assert call(user).get(endpoint).status_code == 200
    assert call().get(endpoint).status_code == 401


# --- gate and advance --------------------------------------------------------------


def test_the_gate_names_the_missing_key_nodes_in_the_users_language(call, rep, north):
    path = f"opportunities/{north['opportunities'].pk}/gate"
    factories.evidence(rep, north["opportunities"], "need_confirmed")

    english = call(rep, **{"Accept-Language": "en"}).get(path)
    chinese = call(rep).get(path, **{"Accept-Language": "zh-hans"})

    assert english.data["allowed"] is False
    assert english.data["from_stage"] == 1 and english.data["to_stage"] == 2
    ids = [n["id"] for n in english.data["missing"]]
    assert ids == ["budget_confirmed", "schedule_confirmed", "grade_given"]
    assert english.data["missing"][0]["label"] != chinese.data["missing"][0]["label"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.data["reason"])


def test_advance_without_the_key_nodes_is_refused_with_409_and_the_missing_nodes(call, rep, north):
    deal = north["opportunities"]

    response = call(rep)("POST", f"opportunities/{deal.pk}/advance", {})

    assert response.status_code == 409
    assert response.data["code"] == "gate_not_met"
    assert response.data["field"] == "to_stage"
    assert [n["id"] for n in response.data["missing"]] == list(factories.STAGE_1_NODES)
    assert Opportunity.objects.get(pk=deal.pk).stage == 1


def test_a_forced_advance_moves_on_and_keeps_the_reason(call, rep, north):
    deal = north["opportunities"]

    response = call(rep)(
        "POST", f"opportunities/{deal.pk}/advance", {"force_reason": "客户催促投标"}
    )

    assert response.status_code == 200
    assert response.data["stage"] == 2
    override = StageOverride.objects.get(opportunity=deal)
    assert override.reason == "客户催促投标"
    assert set(override.missing) == set(factories.STAGE_1_NODES)
    assert response["ETag"].endswith('-v2"')


def test_advance_with_every_key_node_needs_no_reason(call, rep, north):
    deal = north["opportunities"]
    factories.evidence(rep, deal, *factories.STAGE_1_NODES)

    gate = call(rep).get(f"opportunities/{deal.pk}/gate")
    response = call(rep)("POST", f"opportunities/{deal.pk}/advance", {"to_stage": 2})

    assert gate.data["allowed"] is True and gate.data["missing"] == []
    assert response.status_code == 200
    assert response.data["stage"] == 2


def test_advance_checks_if_match_when_sent(call, rep, north):
    deal = north["opportunities"]

    response = call(rep)(
        "POST",
        f"opportunities/{deal.pk}/advance",
        {"force_reason": "客户催促"},
        **{"If-Match": 'W/"opportunity-0-v0"'},
    )

    assert response.status_code == 412
    assert Opportunity.objects.get(pk=deal.pk).stage == 1


def test_advancing_to_a_stage_that_does_not_exist_is_a_validation_error(call, rep, north):
    deal = north["opportunities"]

    response = call(rep)("POST", f"opportunities/{deal.pk}/advance", {"to_stage": 9})

    assert response.status_code == 422
    assert response.data["field"] == "to_stage"


# --- the buying center and the insider ----------------------------------------------


@pytest.fixture
def mapped(rep, north):
    deal, account = north["opportunities"], north["accounts"]
    boss = factories.contact(rep, account, name="王总", title="总经理")
    secretary = factories.contact(rep, account, name="小林", title="秘书")
    engineer = north["contacts"]
    for contact, kwargs in (
        (boss, {"roles": ["decision_maker"], "influence": 3}),
        (engineer, {"roles": ["technical"], "attitude": "supporter"}),
        (secretary, {"insider": True}),
    ):
        actions.set_buying_center_entry(
            deal, contact, acting_user=rep, source=Source.PAGE, **kwargs
        )
    return {"deal": deal, "boss": boss, "secretary": secretary, "engineer": engineer}


def test_the_owner_sees_who_the_insider_is(call, rep, mapped):
    data = call(rep).get(f"opportunities/{mapped['deal'].pk}/buying-center").data

    insiders = [p["contact"] for p in data["people"] if p["insider"]]
    assert insiders == [mapped["secretary"].pk]
    assert data["insider"] == [mapped["secretary"].pk]
    assert data["insider_exists"] is True
    assert data["key_person"]["steps"][0]["done"] is True


def test_a_teammate_learns_that_an_insider_exists_but_not_who(call, teammate, mapped):
    response = call(teammate).get(f"opportunities/{mapped['deal'].pk}/buying-center")
    data = response.data

    assert data["insider_exists"] is True
    assert "insider" not in data
    assert all("insider" not in p for p in data["people"])
    assert data["key_person"]["steps"][0]["done"] is True
    assert {p["name"] for p in data["people"]} == {"王总", "小林", "北总工"}
    assert b'"insider": true' not in response.content


def test_the_manager_of_the_team_sees_the_insider(call, manager, mapped):
    data = call(manager).get(f"opportunities/{mapped['deal'].pk}/buying-center").data

    assert data["insider"] == [mapped["secretary"].pk]


def test_the_buying_center_gives_roles_coverage_steps_and_profile(call, rep, mapped):
    data = call(rep).get(f"opportunities/{mapped['deal'].pk}/buying-center").data

    roles = {r["role"]: r for r in data["coverage"]["roles"]}
    assert roles["decision_maker"]["holders"] == [mapped["boss"].pk]
    assert "purchaser" in data["coverage"]["unmapped_roles"]
    assert len(data["key_person"]["steps"]) == 6
    assert set(data["profile"]) == {"group", "decision_makers", "profiled", "unprofiled"}


def test_the_deal_coach_names_the_insider_to_the_owner_only(call, rep, teammate, north):
    # given a deal in the proposal stage whose insider has told us nothing yet
    deal = actions.create_record(
        Opportunity,
        acting_user=rep,
        source=Source.IMPORT,
        account=north["accounts"],
        name="三期扩建",
        amount=Decimal("3000000"),
        stage=3,
    )
    secretary = factories.contact(rep, north["accounts"], name="林秘书", title="秘书")
    actions.set_buying_center_entry(
        deal, secretary, insider=True, acting_user=rep, source=Source.PAGE
    )

    # when the owner and a teammate ask the coach
    mine = call(rep).get(f"opportunities/{deal.pk}/coach").data["items"]
    theirs = call(teammate).get(f"opportunities/{deal.pk}/coach").data["items"]

    # then only the owner hears about the insider by name
    assert "BC-INSIDER-NO-FACTS" in {i["rule_id"] for i in mine}
    assert any("林秘书" in i["message"] for i in mine if i["rule_id"] == "BC-INSIDER-NO-FACTS")
    assert {"BC-INSIDER-NO-FACTS", "BC-INSIDER-DOUBTFUL"}.isdisjoint({i["rule_id"] for i in theirs})
    assert "BC-NO-INSIDER" not in {i["rule_id"] for i in mine + theirs}


# --- funnel, forecast, ratios ------------------------------------------------------


def test_the_funnel_counts_open_deals_by_stage(call, rep, north):
    data = call(rep).get("funnel").data

    assert [s["stage"] for s in data["stages"]] == [1, 2, 3, 4, 5]
    assert data["stages"][0]["count"] == 1
    assert "deal_ids" not in data["stages"][0]  # a count, not a list that grows with the data
    assert Decimal(data["value"]) == Decimal("800000")


def test_the_forecast_gives_every_part_and_they_add_up(call, rep, north):
    quarter = current_quarter(dt.date.today())
    label = f"{quarter.start.year}-Q{(quarter.start.month - 1) // 3 + 1}"

    data = call(rep).get(f"forecast?period={label}").data

    parts = ("won", "off_funnel", "weighted_open", "off_funnel_run_rate")
    assert all(key in data for key in (*parts, "forecast", "target", "progress"))
    assert sum(Decimal(data[p]) for p in parts) == Decimal(data["forecast"])
    assert Decimal(data["off_funnel"]) == Decimal("20000")
    assert data["period"]["start"] == quarter.start.isoformat()


def test_the_forecast_shows_progress_against_the_target(call, rep, north):
    year = dt.date.today().year
    data = call(rep).get(f"forecast?period={year}").data

    assert Decimal(data["target"]) == Decimal("5000000")
    expected = (Decimal(data["won"]) + Decimal(data["off_funnel"])) / Decimal(data["target"])
    assert data["progress"] == pytest.approx(float(expected))


def test_a_rep_does_not_learn_a_teammates_target_through_the_forecast(call, teammate, rep, north):
    year = dt.date.today().year

    data = call(teammate).get(f"forecast?period={year}&owner={rep.pk}").data

    assert data["target"] is None


def test_the_forecast_refuses_a_bad_period_and_an_unseen_owner(call, rep, outsider, north):
    bad = call(rep).get("forecast?period=next-year")
    foreign = call(rep).get(f"forecast?owner={outsider.pk}")

    assert bad.status_code == 422 and bad.data["field"] == "period"
    assert foreign.status_code == 422 and foreign.data["field"] == "owner"


def test_ratios_compare_the_funnel_with_10_5_3_1(call, rep, north):
    data = call(rep).get("ratios").data

    assert [s["key"] for s in data["steps"]] == [
        "lead_to_potential",
        "potential_to_proposal",
        "proposal_to_order",
    ]
    assert data["steps"][0]["expected"] == pytest.approx(0.5)
    assert data["overall"]["from_count"] == 2  # one lead, one deal entered without a lead


# --- the schema --------------------------------------------------------------------


def test_the_openapi_document_lists_every_path(client, db):
    response = client.get("/api/v1/openapi.json")

    paths = response.json()["paths"]
    for resource in (
        "leads",
        "accounts",
        "contacts",
        "opportunities",
        "activities",
        "off-funnel-orders",
        "targets",
    ):
        assert f"/api/v1/{resource}" in paths
        assert f"/api/v1/{resource}/{{pk}}" in paths
    for method in ("gate", "advance", "buying-center", "coach"):
        assert f"/api/v1/opportunities/{{pk}}/{method}" in paths
    for path in ("/api/v1/accounts/{pk}/coach", "/api/v1/funnel", "/api/v1/forecast"):
        assert path in paths
    assert "/api/v1/ratios" in paths


def test_the_interactive_docs_load(client, db):
    assert client.get("/api/v1/docs").status_code == 200
