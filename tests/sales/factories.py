"""Small builders for tests: each record is made through the actions, as the application
makes it, so every test starts from data with its history."""

import datetime as dt
from decimal import Decimal

from kam.history.record import Source
from kam.sales import actions
from kam.sales.models import Account, Contact, Lead, Opportunity

TODAY = dt.date.today()
PAGE = Source.PAGE

STAGE_1_NODES = ("need_confirmed", "budget_confirmed", "schedule_confirmed", "grade_given")
GOOD_SCORES = {
    "scale_budget": 5,
    "funding_credit": 5,
    "relationship": 4,
    "need_clarity": 4,
    "technical_fit": 5,
    "competition": 3,
    "decision_process": 4,
}


def account(user, **fields) -> Account:
    return actions.create_record(
        Account, acting_user=user, source=PAGE, **{"name": "中建三局第二建设工程", **fields}
    )


def contact(user, account, **fields) -> Contact:
    return actions.create_record(
        Contact, acting_user=user, source=PAGE, account=account, **{"name": "张工", **fields}
    )


def opportunity(user, account, **fields) -> Opportunity:
    defaults = {"name": "搅拌站扩建供货", "amount": Decimal("800000")}
    return actions.create_record(
        Opportunity, acting_user=user, source=PAGE, account=account, **{**defaults, **fields}
    )


def lead(user, **fields) -> Lead:
    defaults = {
        "name": "防腐涂料年度采购",
        "company": "华东化工园区管委会",
        "source": "trade_show",
        "amount": Decimal("600000"),
    }
    # The lead's own ``source`` field goes in ``fields``: ``source=`` is where the write comes from.
    return actions.create_record(Lead, acting_user=user, source=PAGE, fields={**defaults, **fields})


def evidence(user, opportunity, *nodes, on=TODAY):
    for node in nodes:
        actions.record_evidence(opportunity, node=node, on=on, acting_user=user, source=PAGE)
