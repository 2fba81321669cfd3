"""A small world for the API: the north team's records (owned by the rep) and the
south team's (owned by the outsider), with helpers to call the API as anyone."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client

from kam.history.record import Source
from kam.sales import actions
from tests.sales import factories

TODAY = dt.date.today()


class Api:
    """Calls /api/v1/ as one user (session) or anonymously; JSON in and out."""

    def __init__(self, client: Client, headers: dict | None = None):
        self.client = client
        self.headers = headers or {}

    def __call__(self, method, path, body=None, **headers):
        kwargs = {"content_type": "application/json"} if body is not None else {}
        if body is not None:
            kwargs["data"] = json.dumps(body, default=str)
        response = getattr(self.client, method.lower())(
            f"/api/v1/{path}", headers={**self.headers, **headers}, **kwargs
        )
        response.data = json.loads(response.content) if response.content else None
        return response

    def get(self, path, **headers):
        return self("GET", path, **headers)


@pytest.fixture
def call():
    """``call(user)`` -> an Api signed in as ``user`` (None: anonymous)."""

    def make(user=None, **headers):
        client = Client()
        if user is not None:
            client.force_login(user)
        return Api(client, headers)

    return make


def build(owner, tag: str) -> dict:
    """One record of each API resource, owned by ``owner``, made through the actions."""
    account = factories.account(owner, name=f"{tag}化工集团", industry="化工", region="华东")
    contact = factories.contact(owner, account, name=f"{tag}总工", title="总工程师")
    deal = factories.opportunity(owner, account, name=f"{tag}防腐涂料项目")
    lead = factories.lead(owner, name=f"{tag}扩建线索")
    activity = actions.log_activity(
        account=account,
        kind="visit",
        on=TODAY,
        contacts=[contact],
        acting_user=owner,
        source=Source.PAGE,
    )
    order = actions.add_off_funnel_order(
        account, amount=Decimal("20000"), on=TODAY, acting_user=owner, source=Source.PAGE
    )
    target = actions.set_target(
        user=owner,
        start=dt.date(TODAY.year, 1, 1),
        end=dt.date(TODAY.year, 12, 31),
        amount=Decimal("5000000"),
        acting_user=None,  # set by the system: a rep may not set their own target
        source=Source.SYSTEM,
    )
    return {
        "leads": lead,
        "accounts": account,
        "contacts": contact,
        "opportunities": deal,
        "activities": activity,
        "off-funnel-orders": order,
        "targets": target,
    }


@pytest.fixture
def north(rep):
    return build(rep, "北")


@pytest.fixture
def south(outsider):
    return build(outsider, "南")
