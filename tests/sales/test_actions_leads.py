"""Leads: screen_lead through kam.method.screening, and convert_lead into an account and
an opportunity, all or nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kam.history.models import Change
from kam.history.record import history_of
from kam.sales import actions
from kam.sales.models import Account, Lead, Opportunity

from . import factories as f
from .factories import GOOD_SCORES, PAGE

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 3, 15)


def _screen(user, lead, **overrides):
    arguments = {
        "scores": GOOD_SCORES,
        "expected_close": dt.date(2025, 5, 30),
        "win_likelihood": 0.7,
        "today": TODAY,
        "acting_user": user,
        "source": PAGE,
    }
    return actions.screen_lead(lead, **{**arguments, **overrides})


def test_screening_stores_score_grade_decision_and_reasons_in_both_languages(rep):
    lead = f.lead(rep)

    screened = _screen(rep, lead, reason="老客户介绍,关系好")

    assert screened.grade == "A"
    assert screened.decision == "pursue"
    assert 50 < screened.score <= 100
    assert screened.scores == GOOD_SCORES
    assert screened.decision_reason == "老客户介绍,关系好"
    (reason,) = screened.screening_reasons
    assert "优先投入" in reason["zh"] and "first" in reason["en"]
    change = history_of(lead).first()
    assert change.changes["decision"] == ["", "pursue"]
    assert change.changes["grade"] == ["", "A"]
    assert (change.version, change.note) == (2, "老客户介绍,关系好")


def test_scores_typed_as_text_are_read_as_whole_numbers(rep):
    screened = _screen(rep, f.lead(rep), scores={k: str(v) for k, v in GOOD_SCORES.items()})

    assert screened.scores == GOOD_SCORES


def test_a_knock_out_factor_drops_the_lead_whatever_the_total(rep):
    screened = _screen(rep, f.lead(rep), scores={**GOOD_SCORES, "funding_credit": 1})

    assert screened.decision == "drop"
    assert any("资金" in r["zh"] for r in screened.screening_reasons)


def test_a_missing_factor_is_refused_naming_the_factors_in_the_users_language(rep):
    scores = {k: v for k, v in GOOD_SCORES.items() if k != "competition"}

    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        _screen(rep, f.lead(rep), scores=scores)

    assert "竞争态势" in refused.value.message_dict["scores"][0]
    assert Lead.objects.get().decision == ""


def test_a_likelihood_outside_zero_to_one_and_a_missing_date_are_refused(rep):
    with pytest.raises(ValidationError) as refused:
        _screen(rep, f.lead(rep), win_likelihood=70)
    assert "win_likelihood" in refused.value.message_dict

    with pytest.raises(ValidationError) as refused:
        _screen(rep, f.lead(rep), expected_close=None)
    assert "expected_close" in refused.value.message_dict


def test_converting_creates_the_account_and_the_deal_with_the_leads_source(rep, teams):
    lead = f.lead(rep, expected_close=dt.date(2025, 9, 30))

    conversion = actions.convert_lead(lead, acting_user=rep, source=PAGE)

    account, deal = conversion.account, conversion.opportunity
    assert account.name == "华东化工园区管委会"
    assert (deal.account, deal.source, deal.amount) == (account, "trade_show", Decimal("600000"))
    assert (deal.owner, deal.team) == (rep, teams["north"])
    stored = Lead.objects.get()
    assert (stored.account, stored.opportunity, stored.version) == (account, deal, 2)
    assert history_of(account).get().action == Change.Action.CREATE
    assert history_of(deal).get().action == Change.Action.CREATE
    assert history_of(lead).first().changes == {
        "account": [None, account.pk],
        "opportunity": [None, deal.pk],
    }


def test_converting_into_an_existing_account_reuses_it(rep):
    existing = f.account(rep, name="华东化工")
    lead = f.lead(rep)

    conversion = actions.convert_lead(
        lead,
        account=existing,
        opportunity_fields={"name": "储罐防腐改造"},
        acting_user=rep,
        source=PAGE,
    )

    assert Account.objects.count() == 1
    assert conversion.opportunity.account == existing
    assert conversion.opportunity.name == "储罐防腐改造"


def test_a_failing_opportunity_leaves_no_account_and_no_history(rep):
    lead = f.lead(rep, amount=None)
    written = Change.objects.count()

    with pytest.raises(ValidationError) as refused:
        actions.convert_lead(lead, account_fields={"region": "南京"}, acting_user=rep, source=PAGE)

    assert "amount" in refused.value.message_dict
    assert not Account.all_objects.exists()
    assert not Opportunity.all_objects.exists()
    assert Lead.objects.get().account is None
    assert Change.objects.count() == written


def test_errors_in_the_new_accounts_fields_are_keyed_by_account(rep):
    with pytest.raises(ValidationError) as refused:
        actions.convert_lead(
            f.lead(rep), account_fields={"name": "", "scale": "huge"}, acting_user=rep, source=PAGE
        )

    assert set(refused.value.message_dict) == {"account.name", "account.scale"}


def test_a_lead_is_converted_once(rep):
    lead = f.lead(rep)
    actions.convert_lead(lead, acting_user=rep, source=PAGE)

    with pytest.raises(ValidationError) as refused:
        actions.convert_lead(lead, acting_user=rep, source=PAGE)

    assert "opportunity" in refused.value.message_dict
    assert Opportunity.objects.count() == 1


def test_a_dropped_lead_is_not_converted(rep):
    lead = _screen(rep, f.lead(rep), scores={**GOOD_SCORES, "technical_fit": 1})

    with pytest.raises(ValidationError) as refused:
        actions.convert_lead(lead, acting_user=rep, source=PAGE)

    assert "decision" in refused.value.message_dict
    assert not Account.objects.exists()


def test_a_deleted_account_cannot_receive_a_converted_lead(rep):
    account = actions.delete_record(f.account(rep), acting_user=rep, source=PAGE)

    with pytest.raises(ValidationError) as refused:
        actions.convert_lead(f.lead(rep), account=account, acting_user=rep, source=PAGE)

    assert "account" in refused.value.message_dict
