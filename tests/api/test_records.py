"""The seven record resources: list, get, create, change, delete; scoping, ETags,
pagination, validation and constant query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.history.models import Change
from kam.sales.models import (
    Account,
    Activity,
    Contact,
    Lead,
    OffFunnelOrder,
    Opportunity,
    Target,
)
from tests.api.conftest import TODAY, build
from tests.sales import factories

RESOURCES = [
    "leads",
    "accounts",
    "contacts",
    "opportunities",
    "activities",
    "off-funnel-orders",
    "targets",
]


@pytest.mark.parametrize("path", RESOURCES)
def test_a_rep_lists_and_gets_their_records_with_an_etag(call, rep, north, south, path):
    api = call(rep)

    listed = api.get(path)
    one = api.get(f"{path}/{north[path].pk}")

    assert listed.status_code == 200
    assert [i["id"] for i in listed.data["items"]] == [north[path].pk]
    assert listed.data["count"] == 1
    assert listed.has_header("ETag")
    assert one.status_code == 200
    assert one.data["id"] == north[path].pk
    assert one["ETag"].startswith('W/"')


@pytest.mark.parametrize("path", RESOURCES)
def test_an_outsider_gets_404_for_records_out_of_scope(call, outsider, north, south, path):
    api = call(outsider)
    record = north[path]

    got = api.get(f"{path}/{record.pk}")
    changed = api("PATCH", f"{path}/{record.pk}", {}, **{"If-Match": "*"})
    deleted = api("DELETE", f"{path}/{record.pk}", **{"If-Match": "*"})

    assert got.status_code == 404
    assert got.data == {"code": "not_found", "message": "Not found.", "field": None}
    assert changed.status_code == deleted.status_code == 404
    assert north[path].pk not in [i["id"] for i in api.get(path).data["items"]]


@pytest.mark.parametrize("path", RESOURCES)
def test_anonymous_callers_get_401_everywhere(call, north, path):
    api = call()

    assert api.get(path).status_code == 401
    assert api.get(f"{path}/{north[path].pk}").status_code == 401
    assert api("POST", path, {}).status_code == 401


@pytest.mark.parametrize("path", RESOURCES)
def test_an_admin_sees_every_team(call, admin, north, south, path):
    listed = call(admin).get(path)

    assert listed.data["count"] == 2
    assert call(admin).get(f"{path}/{south[path].pk}").status_code == 200


def test_a_teammate_sees_the_teams_records_but_not_a_personal_target(call, teammate, north):
    api = call(teammate)

    assert api.get(f"opportunities/{north['opportunities'].pk}").status_code == 200
    assert api.get(f"targets/{north['targets'].pk}").status_code == 404


# --- create --------------------------------------------------------------------

NEW = {
    "leads": lambda n: {"name": "新线索", "company": "某钢厂", "source": "referral"},
    "accounts": lambda n: {"name": "新客户", "industry": "钢铁"},
    "contacts": lambda n: {"account": n["accounts"].pk, "name": "李工"},
    "opportunities": lambda n: {"account": n["accounts"].pk, "name": "二期", "amount": "900000"},
    "activities": lambda n: {
        "account": n["accounts"].pk,
        "kind": "call",
        "on": TODAY.isoformat(),
        "contacts": [n["contacts"].pk],
    },
    "off-funnel-orders": lambda n: {
        "account": n["accounts"].pk,
        "amount": "12000",
        "on": TODAY.isoformat(),
    },
    "targets": lambda n: {
        "team": n["accounts"].team_id,
        "start": "2026-10-01",
        "end": "2026-12-31",
        "amount": "9000000",
    },
}


MODELS = {
    "leads": Lead,
    "accounts": Account,
    "contacts": Contact,
    "opportunities": Opportunity,
    "activities": Activity,
    "off-funnel-orders": OffFunnelOrder,
    "targets": Target,
}


@pytest.mark.parametrize("path", RESOURCES)
def test_creating_goes_through_the_actions_with_source_api(call, rep, manager, north, path):
    user = manager if path == "targets" else rep

    response = call(user)("POST", path, NEW[path](north))

    assert response.status_code == 201, response.data
    assert response["ETag"].startswith('W/"')
    assert response["Location"].endswith(f"/{response.data['id']}")
    model = MODELS[path]
    created = Change.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        object_id=str(response.data["id"]),
        action="create",
    )
    assert created.get().source == "api"


def test_creating_with_a_bad_amount_answers_422_naming_the_field(call, rep, north):
    api = call(rep)
    body = NEW["opportunities"](north)

    unreadable = api("POST", "opportunities", {**body, "amount": "lots"})
    negative = api("POST", "opportunities", {**body, "amount": "-5"})

    assert unreadable.status_code == negative.status_code == 422
    assert unreadable.data["code"] == negative.data["code"] == "validation_error"
    assert unreadable.data["field"] == negative.data["field"] == "amount"
    assert negative.data["message"]


def test_creating_without_a_required_field_names_it(call, rep, north):
    response = call(rep)("POST", "opportunities", {"account": north["accounts"].pk, "name": "x"})

    assert response.status_code == 422
    assert response.data["field"] == "amount"


def test_an_off_funnel_order_at_the_threshold_is_refused(call, rep, north):
    body = {**NEW["off-funnel-orders"](north), "amount": "60000"}

    response = call(rep)("POST", "off-funnel-orders", body)

    assert response.status_code == 422
    assert response.data["field"] == "amount"


def test_a_record_cannot_link_to_what_the_caller_cannot_see(call, rep, north, south, outsider):
    api = call(rep)

    foreign_account = api("POST", "contacts", {"account": south["accounts"].pk, "name": "某人"})
    foreign_owner = api("POST", "accounts", {"name": "新客户", "owner": outsider.pk})

    assert foreign_account.status_code == 422
    assert foreign_account.data["field"] == "account"
    assert foreign_owner.status_code == 422
    assert foreign_owner.data["field"] == "owner"


def test_the_stage_is_not_set_by_create_or_patch(call, rep, north):
    api = call(rep)
    deal = north["opportunities"]

    response = api("PATCH", f"opportunities/{deal.pk}", {"stage": 4}, **{"If-Match": etag(deal)})

    assert response.status_code == 422
    assert response.data["field"] == "stage"
    assert Opportunity.objects.get(pk=deal.pk).stage == 1


def test_a_rep_cannot_set_targets_but_their_manager_can(call, rep, manager, north):
    body = NEW["targets"](north)

    assert call(rep)("POST", "targets", body).status_code == 403
    assert call(rep)("POST", "targets", body).data["code"] == "forbidden"
    assert call(manager)("POST", "targets", body).status_code == 201


# --- ETag and If-Match --------------------------------------------------------------


def etag(obj):
    from kam.api import etags

    return etags.of(type(obj)._base_manager.get(pk=obj.pk))


def test_patch_without_if_match_is_428(call, rep, north):
    deal = north["opportunities"]

    response = call(rep)("PATCH", f"opportunities/{deal.pk}", {"name": "改名"})

    assert response.status_code == 428
    assert response.data["code"] == "precondition_required"
    assert Opportunity.objects.get(pk=deal.pk).name == deal.name


def test_patch_with_a_stale_etag_is_412(call, rep, teammate, north):
    deal = north["opportunities"]
    old = call(rep).get(f"opportunities/{deal.pk}")["ETag"]
    call(teammate)("PATCH", f"opportunities/{deal.pk}", {"amount": "1"}, **{"If-Match": old})

    response = call(rep)("PATCH", f"opportunities/{deal.pk}", {"name": "改名"}, **{"If-Match": old})

    assert response.status_code == 412
    assert response.data["code"] == "stale"
    assert response.data["etag"] == etag(deal)
    assert Opportunity.objects.get(pk=deal.pk).name == deal.name


def test_patch_with_the_current_etag_changes_the_record_and_gives_the_next_etag(call, rep, north):
    deal = north["opportunities"]
    api = call(rep)
    current = api.get(f"opportunities/{deal.pk}")["ETag"]

    response = api(
        "PATCH", f"opportunities/{deal.pk}", {"amount": "950000"}, **{"If-Match": current}
    )

    assert response.status_code == 200
    assert response.data["amount"] == "950000.00"
    assert response["ETag"] != current
    assert response["ETag"] == api.get(f"opportunities/{deal.pk}")["ETag"]
    assert Change.objects.filter(object_id=str(deal.pk), action="update").get().source == "api"


@pytest.mark.parametrize("path", RESOURCES)
def test_every_resource_takes_a_patch_with_if_match(call, rep, manager, north, path):
    user = manager if path == "targets" else rep
    record = north[path]
    change = {
        "leads": {"known": "预算已批"},
        "accounts": {"region": "华北"},
        "contacts": {"title": "副总工"},
        "opportunities": {"name": "新名"},
        "activities": {"notes": "谈了价格"},
        "off-funnel-orders": {"note": "补货"},
        "targets": {"amount": "6000000"},
    }[path]

    response = call(user)("PATCH", f"{path}/{record.pk}", change, **{"If-Match": etag(record)})

    assert response.status_code == 200, response.data
    field, value = next(iter(change.items()))
    assert str(response.data[field]).startswith(value)


def test_patch_validates_like_create(call, rep, north):
    deal = north["opportunities"]

    response = call(rep)(
        "PATCH", f"opportunities/{deal.pk}", {"amount": "-1"}, **{"If-Match": etag(deal)}
    )

    assert response.status_code == 422
    assert response.data["field"] == "amount"


def test_delete_needs_if_match(call, rep, north):
    deal = north["opportunities"]
    api = call(rep)

    missing = api("DELETE", f"opportunities/{deal.pk}")
    stale = api("DELETE", f"opportunities/{deal.pk}", **{"If-Match": 'W/"opportunity-1-v99"'})

    assert missing.status_code == 428
    assert stale.status_code == 412
    assert Opportunity.objects.filter(pk=deal.pk).exists()


def test_delete_moves_accounts_contacts_and_deals_to_the_recycle_bin(call, rep, north):
    account = north["accounts"]

    response = call(rep)("DELETE", f"accounts/{account.pk}", **{"If-Match": etag(account)})

    assert response.status_code == 204
    assert Account.all_objects.get(pk=account.pk).deleted_at is not None
    assert Opportunity.all_objects.get(pk=north["opportunities"].pk).deleted_at is not None
    assert call(rep).get(f"accounts/{account.pk}").status_code == 404


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("leads", Lead),
        ("activities", Activity),
        ("off-funnel-orders", OffFunnelOrder),
        ("targets", Target),
    ],
)
def test_delete_removes_records_without_a_recycle_bin(call, rep, manager, north, path, model):
    record = north[path]
    user = manager if path == "targets" else rep

    response = call(user)("DELETE", f"{path}/{record.pk}", **{"If-Match": etag(record)})

    assert response.status_code == 204
    assert not model.objects.filter(pk=record.pk).exists()
    assert Change.objects.filter(object_id=str(record.pk), action="remove").get().source == "api"


# --- lists: pagination, filters, queries ---------------------------------------------


def test_lists_page_with_limit_and_offset_and_count_everything(call, rep, north):
    for n in range(4):
        factories.opportunity(rep, north["accounts"], name=f"项目{n}")
    api = call(rep)

    first = api.get("opportunities?limit=2")
    rest = api.get("opportunities?limit=2&offset=2")
    past = api.get("opportunities?limit=2&offset=10")

    assert first.data["count"] == rest.data["count"] == past.data["count"] == 5
    assert len(first.data["items"]) == len(rest.data["items"]) == 2
    assert past.data["items"] == []
    ids = [i["id"] for i in first.data["items"] + rest.data["items"]]
    assert len(set(ids)) == 4


def test_a_limit_out_of_range_is_a_validation_error(call, rep, north):
    response = call(rep).get("opportunities?limit=100000")

    assert response.status_code == 422
    assert response.data["field"] == "limit"


def test_lists_filter_like_the_pages(call, rep, teammate, north):
    other = factories.account(teammate, name="钢铁公司", grade="A", region="华北")
    factories.opportunity(teammate, other, name="轧机改造", grade="A")
    api = call(rep)

    def names(path):
        return [i["name"] for i in api.get(path).data["items"]]

    assert names("accounts?grade=A") == ["钢铁公司"]
    assert names("accounts?region=华东") == ["北化工集团"]
    assert names(f"accounts?owner={teammate.pk}") == ["钢铁公司"]
    assert names("opportunities?q=轧机") == ["轧机改造"]
    assert names("opportunities?stage=1&outcome=open&grade=A") == ["轧机改造"]
    assert names(f"contacts?account={north['accounts'].pk}") == ["北总工"]
    assert api.get("opportunities?stage=abc").status_code == 422


@pytest.mark.parametrize("path", RESOURCES)
def test_a_list_costs_the_same_queries_for_2_or_20_records(call, rep, path):
    def world(n):
        for i in range(n):
            build(rep, f"{i}号")

    api = call(rep)
    world(2)
    with CaptureQueriesContext(connection) as few:
        assert api.get(path).status_code == 200
    world(18)
    with CaptureQueriesContext(connection) as many:
        response = api.get(f"{path}?limit=100")
    assert response.data["count"] == (1 if path == "targets" else 20)
    assert len(many) == len(few)


def test_money_is_given_as_a_decimal_string(call, rep, north):
    deal = call(rep).get(f"opportunities/{north['opportunities'].pk}").data

    assert Decimal(deal["amount"]) == Decimal("800000")
    assert dt.date.fromisoformat(deal["stage_entered_on"])
