"""log_activity, add_trust_action, add_off_funnel_order and set_target."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kam.history.models import Change
from kam.history.record import history_of
from kam.org.models import CompanySettings
from kam.sales import actions
from kam.sales.models import Activity, OffFunnelOrder, Target, TrustActionDone

from . import factories as f
from .factories import PAGE, TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(rep):
    return f.account(rep)


def test_a_visit_is_logged_with_contacts_participants_cost_and_next_step(
    rep, teammate, account, teams
):
    engineer = f.contact(rep, account)
    deal = f.opportunity(rep, account)

    visit = actions.log_activity(
        account=account,
        opportunity=deal,
        kind="visit",
        on=TODAY,
        contacts=[engineer],
        participants=[rep, teammate],
        cost=Decimal("350"),
        notes="看了搅拌站现场",
        next_step="送检测报告",
        next_pretext="送第三方检测报告",
        next_on=TODAY + dt.timedelta(days=14),
        acting_user=rep,
        source=PAGE,
    )

    assert list(visit.contacts.all()) == [engineer]
    assert set(visit.participants.all()) == {rep, teammate}
    assert (visit.owner, visit.team) == (rep, teams["north"])
    change = history_of(visit).get()
    assert change.changes["contacts"] == [None, [engineer.pk]]
    assert change.changes["participants"] == [None, sorted([rep.pk, teammate.pk])]
    assert change.changes["cost"] == [None, "350.00"]


def test_contacts_met_must_work_at_the_account(rep, account):
    elsewhere = f.contact(rep, f.account(rep, name="国网湖北电力"), name="赵处长")

    with pytest.raises(ValidationError) as refused:
        actions.log_activity(
            account=account,
            kind="meeting",
            on=TODAY,
            contacts=[elsewhere],
            acting_user=rep,
            source=PAGE,
        )

    assert "contacts" in refused.value.message_dict
    assert not Activity.objects.exists()


def test_a_next_visit_before_this_one_and_a_deal_of_another_account_are_refused(rep, account):
    other_deal = f.opportunity(rep, f.account(rep, name="国网湖北电力"))

    with pytest.raises(ValidationError) as refused:
        actions.log_activity(
            account=account,
            opportunity=other_deal,
            kind="visit",
            on=TODAY,
            next_on=TODAY - dt.timedelta(days=1),
            acting_user=rep,
            source=PAGE,
        )

    assert {"next_on", "opportunity"} <= set(refused.value.message_dict)


def test_an_unknown_kind_or_a_negative_cost_is_refused(rep, account):
    with pytest.raises(ValidationError) as refused:
        actions.log_activity(
            account=account, kind="karaoke", on=TODAY, cost=-1, acting_user=rep, source=PAGE
        )

    assert {"kind", "cost"} <= set(refused.value.message_dict)


def test_a_trust_building_action_is_kept_with_its_evidence_in_the_accounts_history(rep, account):
    done = actions.add_trust_action(
        account,
        action="factory_visit",
        on=TODAY,
        evidence="总工带队参观了生产线",
        acting_user=rep,
        source=PAGE,
    )

    assert done.by == rep
    change = history_of(account).first()
    assert change.content_type.model == "trustactiondone"
    assert change.changes["action"] == [None, "factory_visit"]


def test_an_unknown_trust_building_action_is_refused(rep, account):
    with pytest.raises(ValidationError) as refused:
        actions.add_trust_action(account, action="bribe", on=TODAY, acting_user=rep, source=PAGE)

    assert "action" in refused.value.message_dict
    assert not TrustActionDone.objects.exists()


def test_an_order_below_the_threshold_is_recorded_outside_the_funnel(rep, account):
    order = actions.add_off_funnel_order(
        account, amount=Decimal("12000"), on=TODAY, acting_user=rep, source=PAGE
    )

    assert (order.amount, order.currency) == (Decimal("12000"), "CNY")
    assert history_of(order).get().changes["amount"] == [None, "12000.00"]


def test_an_order_at_the_threshold_belongs_in_the_funnel(rep, account):
    threshold = CompanySettings.load().off_funnel_threshold

    with pytest.raises(ValidationError) as refused:
        actions.add_off_funnel_order(
            account, amount=threshold, on=TODAY, acting_user=rep, source=PAGE
        )

    assert "funnel" in refused.value.message_dict["amount"][0]
    assert not OffFunnelOrder.objects.exists()


def test_the_threshold_is_the_companys(rep, account):
    settings = CompanySettings.load()
    settings.off_funnel_threshold = Decimal("10000")
    settings.save()

    with pytest.raises(ValidationError):
        actions.add_off_funnel_order(
            account, amount=Decimal("12000"), on=TODAY, acting_user=rep, source=PAGE
        )


def test_a_target_is_set_and_replaced_for_the_same_period(manager, rep, teams):
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)

    actions.set_target(
        user=rep, start=start, end=end, amount=Decimal("3000000"), acting_user=manager, source=PAGE
    )
    target = actions.set_target(
        user=rep, start=start, end=end, amount=Decimal("3500000"), acting_user=manager, source=PAGE
    )

    assert Target.objects.get().amount == Decimal("3500000")
    change = history_of(target).first()
    assert (change.action, change.changes) == (
        Change.Action.UPDATE,
        {"amount": ["3000000.00", "3500000.00"]},
    )
    team_target = actions.set_target(
        team=teams["north"],
        start=start,
        end=end,
        amount=Decimal("9000000"),
        acting_user=manager,
        source=PAGE,
    )
    assert team_target.team == teams["north"]


def test_a_target_for_nobody_or_a_reversed_period_is_refused(manager, rep):
    with pytest.raises(ValidationError):
        actions.set_target(
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            amount=Decimal(1),
            acting_user=manager,
            source=PAGE,
        )
    with pytest.raises(ValidationError) as refused:
        actions.set_target(
            user=rep,
            start=dt.date(2025, 12, 31),
            end=dt.date(2025, 1, 1),
            amount=Decimal(1),
            acting_user=manager,
            source=PAGE,
        )
    assert "end" in refused.value.message_dict
    assert not Target.objects.exists()


def test_only_an_admin_or_a_manager_of_the_team_sets_targets(rep, teammate, manager, admin, teams):
    period = {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 12, 31)}
    with pytest.raises(PermissionDenied):
        actions.set_target(
            user=teammate, amount=Decimal("1"), acting_user=rep, source=PAGE, **period
        )
    with pytest.raises(PermissionDenied):
        actions.set_target(
            team=teams["north"], amount=Decimal("1"), acting_user=rep, source=PAGE, **period
        )
    actions.set_target(
        user=rep, amount=Decimal("500000"), acting_user=manager, source=PAGE, **period
    )
    actions.set_target(
        team=teams["south"], amount=Decimal("900000"), acting_user=admin, source=PAGE, **period
    )
    assert Target.objects.count() == 2
