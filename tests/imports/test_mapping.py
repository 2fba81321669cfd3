import pytest

from kam.imports import mapping as m
from kam.imports.values import BadValue, key
from kam.sales.models import Account


def _fields(kind, columns, explicit=()):
    mapped = m.map_columns(m.KINDS[kind], columns, list(explicit))
    return {name: cols for name, cols in mapped.fields.items()}, mapped


@pytest.mark.parametrize(
    ("kind", "header", "field"),
    [
        # KAM's own field names
        ("opportunities", "expected_close", "expected_close"),
        ("opportunities", "Expected Close", "expected_close"),
        # Chinese headers
        ("opportunities", "客户名称", "account"),
        ("opportunities", "客户", "account"),
        ("opportunities", "公司名称", "account"),
        ("opportunities", "金额", "amount"),
        ("opportunities", "预计成交日期", "expected_close"),
        ("opportunities", "预计签约日期", "expected_close"),
        ("opportunities", "阶段", "stage"),
        ("opportunities", "负责人", "owner"),
        ("opportunities", "销售", "owner"),
        ("accounts", "客户名称", "name"),
        ("accounts", "行业", "industry"),
        ("accounts", "地区", "region"),
        ("accounts", "区域", "region"),
        ("accounts", "企业性质", "ownership"),
        ("contacts", "姓名", "name"),
        ("contacts", "职务", "title"),
        ("contacts", "手机", "phone"),
        ("activities", "拜访日期", "on"),
        ("activities", "拜访方式", "kind"),
        ("activities", "拜访内容", "notes"),
        ("activities", "费用", "cost"),
        ("off-funnel-orders", "订单金额", "amount"),
        ("off-funnel-orders", "下单日期", "on"),
        # Salesforce
        ("opportunities", "Name", "name"),
        ("opportunities", "AccountId", "account_external_id"),
        ("opportunities", "Amount", "amount"),
        ("opportunities", "CloseDate", "expected_close"),
        ("opportunities", "StageName", "stage"),
        ("opportunities", "Id", "external_id"),
        ("opportunities", "LeadSource", "source"),
        ("opportunities", "IsWon", "is_won"),
        ("opportunities", "IsClosed", "is_closed"),
        ("opportunities", "OwnerId", "owner"),
        ("accounts", "Industry", "industry"),
        ("accounts", "BillingState", "region"),
        ("accounts", "BillingCity", "region"),
        ("contacts", "AccountId", "account_external_id"),
        ("contacts", "MobilePhone", "phone"),
        # Odoo
        ("opportunities", "partner_id", "account"),
        ("opportunities", "partner_name", "account"),
        ("opportunities", "date_deadline", "expected_close"),
        ("opportunities", "stage_id", "stage"),
        ("opportunities", "user_id", "owner"),
        ("opportunities", "date_closed", "closed_on"),
        ("opportunities", "lost_reason_id", "close_reason"),
    ],
)
def test_headers_from_kam_chinese_sheets_salesforce_and_odoo_find_their_field(kind, header, field):
    fields, mapped = _fields(kind, [header])
    assert fields == {field: [header]}
    assert mapped.unknown == []


def test_the_weighted_expected_revenue_is_not_taken_for_the_amount():
    # Salesforce's ExpectedRevenue is amount x probability; Odoo's expected_revenue
    # is the amount. The same name cannot mean both: it takes a --map.
    fields, mapped = _fields("opportunities", ["ExpectedRevenue", "Probability"])
    assert fields == {}
    assert mapped.unknown == ["ExpectedRevenue", "Probability"]


def test_unknown_columns_are_listed_once_in_file_order():
    _unused, mapped = _fields("accounts", ["Name", "Rating", "Type", "Rating2"])
    assert mapped.unknown == ["Rating", "Type", "Rating2"]


def test_several_columns_for_one_field_are_tried_in_alias_order():
    fields, _mapped = _fields("accounts", ["BillingCity", "Name", "BillingState"])
    assert fields["region"] == ["BillingState", "BillingCity"]


def test_map_overrides_the_aliases_and_comes_first_in_the_order_given():
    fields, mapped = _fields(
        "opportunities",
        ["partner_name", "partner_xml_ref", "contact_name", "expected_revenue", "Amount"],
        [("contact_name", "account"), ("expected_revenue", "amount")],
    )
    assert fields["account"] == ["contact_name", "partner_name"]
    assert fields["amount"] == ["expected_revenue", "Amount"]
    assert mapped.unknown == ["partner_xml_ref"]


def test_map_to_nothing_ignores_a_column():
    fields, mapped = _fields("opportunities", ["Name", "Amount"], [("Amount", "")])
    assert "amount" not in fields
    assert mapped.ignored == ["Amount"]
    assert mapped.unknown == []


def test_map_matches_columns_and_fields_loosely():
    fields, _mapped = _fields("opportunities", ["Deal Value"], [("deal value", "Amount")])
    assert fields == {"amount": ["Deal Value"]}


def test_map_naming_a_missing_column_or_field_is_refused_with_what_exists():
    with pytest.raises(BadValue, match="Name, Amount"):
        _fields("opportunities", ["Name", "Amount"], [("Betrag", "amount")])
    with pytest.raises(BadValue, match="expected_close"):
        _fields("opportunities", ["Name"], [("Name", "headline")])


def test_the_required_fields_missing_are_named():
    kind = m.KINDS["opportunities"]
    mapped = m.map_columns(kind, ["Amount"], [])
    assert m.missing_required(kind, mapped, {}) == ["account or account_external_id", "name"]
    assert m.missing_required(kind, mapped, {"account": "x", "name": "y"}) == []


def test_no_alias_points_at_two_fields_of_a_kind():
    for kind in m.KINDS.values():
        owners = {}
        for field in kind.fields:
            for alias in {key(a) for a in field.aliases}:
                assert owners.setdefault(alias, field.name) == field.name, (kind.name, alias)


def test_external_ids_of_accounts_are_read_only_when_the_data_model_keeps_them():
    has = m.model_has(Account, "external_id")
    fields, mapped = _fields("accounts", ["Name", "Id"])
    assert ("external_id" in fields) is has
    assert ("Id" in mapped.unknown) is not has


@pytest.mark.parametrize(
    ("name", "meaning"),
    [
        ("Prospecting", (1, None)),
        ("Qualification", (1, None)),
        ("Needs Analysis", (2, None)),
        ("Value Proposition", (3, None)),
        ("Id. Decision Makers", (3, None)),
        ("Perception Analysis", (3, None)),
        ("Proposal/Price Quote", (4, None)),
        ("Negotiation/Review", (5, None)),
        ("Closed Won", (6, "won")),
        ("Closed Lost", (None, "lost")),
        ("New", (1, None)),
        ("Qualified", (2, None)),
        ("Proposition", (3, None)),
        ("Won", (6, "won")),
        ("赢单", (6, "won")),
        ("成交", (6, "won")),
        ("输单", (None, "lost")),
        ("丢单", (None, "lost")),
        ("放弃", (None, "abandoned")),
        ("3", (3, None)),
        ("6", (6, "won")),
        ("投标阶段", (4, None)),
        ("商务谈判", (5, None)),
    ],
)
def test_stage_names_of_other_systems_become_kam_stages_and_outcomes(name, meaning):
    assert m.stage_table()[key(name)] == meaning


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("Web", "search_engine"),
        ("Trade Show", "trade_show"),
        ("Partner", "sales_peer"),
        ("Word of mouth", "referral"),
        ("External Referral", "referral"),
        ("Employee Referral", "referral"),
        ("Public Relations", "industry_media"),
        ("Purchased List", "other"),
        ("Phone Inquiry", "other"),
        ("老客户", "existing_customer"),
        ("熟人介绍", "referral"),
        ("行业展会", "trade_show"),
        ("referral", "referral"),
    ],
)
def test_lead_sources_of_other_systems_become_kam_sources(name, source):
    from kam.sales.models import Opportunity

    assert m.choice_table(Opportunity, "source")[key(name)] == source


def test_choices_accept_kam_values_and_labels_in_both_languages():
    from kam.sales.models import Activity

    table = m.choice_table(Activity, "kind")
    assert table[key("site_visit")] == "site_visit"
    assert table[key("site visit")] == "site_visit"
    assert table[key("拜访")] == "visit"
    assert table[key("Call")] == "call"


def test_outcomes_read_in_both_languages():
    table = m.outcome_table()
    assert table[key("open")] == "open"
    assert table[key("赢单")] == "won"
    assert table[key("Closed Lost")] == "lost"


def test_an_unknown_kind_is_refused_listing_the_kinds():
    with pytest.raises(BadValue, match="off-funnel-orders"):
        m.get_kind("leads")
    assert m.get_kind("off_funnel_orders").name == "off-funnel-orders"
