"""The leads pages: the list by source and decision, the screening form with its live
score and grade, and conversion to an account and an opportunity."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.method import screening
from kam.org.models import CompanySettings
from kam.sales.models import Account, Lead, Opportunity
from tests.sales import factories as f
from tests.sales.factories import GOOD_SCORES, TODAY

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-CN"}


@pytest.fixture
def lead(rep):
    return f.lead(rep)


def _screening_post(lead, scores=GOOD_SCORES, **extra):
    data = {f"score_{k}": str(v) for k, v in scores.items()}
    data.update(
        {
            "expected_close": (TODAY.replace(day=1)).isoformat(),
            "win_likelihood": "70",
            "amount": "600000",
            "reason": "",
            "version": str(lead.version),
        }
    )
    data.update(extra)
    return data


def _urls(lead):
    return [reverse("leads:list"), reverse("leads:detail", args=[lead.pk])]


def test_the_pages_send_an_anonymous_visitor_to_sign_in(client, lead):
    for url in [*_urls(lead), reverse("leads:new")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_gets_404_for_the_lead_and_does_not_see_it_listed(client, outsider, lead):
    client.force_login(outsider)

    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
    assert client.post(reverse("leads:preview", args=[lead.pk]), {}).status_code == 404
    assert client.post(reverse("leads:convert", args=[lead.pk]), {}).status_code == 404
    assert lead.name not in client.get(reverse("leads:list")).content.decode()


def test_the_rep_sees_the_pages_in_chinese_and_in_english(client, rep, lead):
    client.force_login(rep)
    for url in _urls(lead):
        zh = client.get(url, headers=ZH)
        en = client.get(url, headers=EN)
        assert zh.status_code == en.status_code == 200
        assert lead.name in zh.content.decode()
    detail_zh = client.get(_urls(lead)[1], headers=ZH).content.decode()
    detail_en = client.get(_urls(lead)[1], headers=EN).content.decode()
    assert "规模和预算" in detail_zh
    assert "Customer scale and budget" in detail_en


def test_the_list_filters_by_source_and_decision(client, rep):
    shown = f.lead(rep, name="展会线索", source="trade_show")
    hidden = f.lead(rep, name="搜索线索", source="search_engine")
    client.force_login(rep)

    page = client.get(reverse("leads:list"), {"source": "trade_show"}).content.decode()
    assert shown.name in page and hidden.name not in page
    page = client.get(reverse("leads:list"), {"decision": "pursue"}).content.decode()
    assert "No leads match." in page or shown.name not in page.split("All leads")[1]


def test_the_list_answers_htmx_with_the_table_only(client, rep, lead):
    client.force_login(rep)

    response = client.get(reverse("leads:list"), headers={"HX-Request": "true"})

    assert "<html" not in response.content.decode()
    assert lead.name in response.content.decode()


def test_the_preview_computes_the_methods_score_and_grade(client, rep, lead):
    client.force_login(rep)
    method = CompanySettings.load().to_method().screening
    expected = screening.score_risk(GOOD_SCORES, settings=method).score

    response = client.post(
        reverse("leads:preview", args=[lead.pk]),
        _screening_post(lead),
        headers={"HX-Request": "true", **EN},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert f"data-score>{expected:.1f} / 100<" in body
    grade = screening.grade(TODAY.replace(day=1), today=TODAY, win_likelihood=0.7, settings=method)
    assert f"data-grade>{grade}<" in body


def test_the_preview_of_a_partial_scorecard_names_what_is_still_to_score(client, rep, lead):
    client.force_login(rep)
    partial = dict(GOOD_SCORES)
    del partial["competition"]

    body = client.post(
        reverse("leads:preview", args=[lead.pk]),
        _screening_post(lead, partial),
        headers={"HX-Request": "true", **EN},
    ).content.decode()

    assert "Still to score" in body and "Competitive position" in body
    assert "data-score>—" in body


def test_without_javascript_the_preview_shows_the_whole_page_with_the_input_kept(client, rep, lead):
    client.force_login(rep)

    body = client.post(
        reverse("leads:preview", args=[lead.pk]), _screening_post(lead, reason="看好")
    ).content.decode()

    assert "<html" in body and "看好" in body and "data-score>" in body


def test_saving_the_screening_stores_the_methods_result(client, rep, lead):
    client.force_login(rep)

    response = client.post(reverse("leads:screen", args=[lead.pk]), _screening_post(lead))

    assert response.status_code == 302
    lead.refresh_from_db()
    method = CompanySettings.load().to_method().screening
    assert lead.score == pytest.approx(screening.score_risk(GOOD_SCORES, settings=method).score)
    assert lead.grade and lead.decision == "pursue"
    assert lead.win_likelihood == pytest.approx(0.7)


def test_a_missing_factor_is_shown_next_to_it_in_chinese_with_the_input_kept(client, rep, lead):
    client.force_login(rep)
    partial = dict(GOOD_SCORES)
    del partial["competition"]

    response = client.post(
        reverse("leads:screen", args=[lead.pk]),
        _screening_post(lead, partial, reason="先看看"),
        headers=ZH,
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_score_competition_error"' in body or "id_score_competition" in body
    assert "先看看" in body
    assert re.search(r'<option value="5" selected>5</option>', body)
    lead.refresh_from_db()
    assert lead.score is None


def test_a_stale_screening_is_refused_with_what_changed(client, rep, teammate, lead):
    from kam.sales import actions

    actions.screen_lead(
        lead,
        scores=GOOD_SCORES,
        expected_close=TODAY,
        win_likelihood=0.5,
        today=TODAY,
        acting_user=teammate,
        source=f.PAGE,
    )
    client.force_login(rep)

    response = client.post(
        reverse("leads:screen", args=[lead.pk]), _screening_post(lead), headers=EN
    )

    assert response.status_code == 400
    assert "after you opened it" in response.content.decode()


def test_conversion_creates_the_account_and_the_opportunity(client, rep, lead):
    client.force_login(rep)
    client.post(reverse("leads:screen", args=[lead.pk]), _screening_post(lead))

    response = client.post(
        reverse("leads:convert", args=[lead.pk]),
        {"account": "", "account_name": "华东化工", "opportunity_name": "涂料年度采购"},
    )

    account = Account.objects.get(name="华东化工")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:detail", args=[account.pk])
    opportunity = Opportunity.objects.get(account=account)
    assert opportunity.name == "涂料年度采购"
    lead.refresh_from_db()
    assert lead.opportunity_id == opportunity.pk


def test_conversion_without_an_account_name_says_so_next_to_the_field(client, rep, lead):
    client.force_login(rep)

    response = client.post(
        reverse("leads:convert", args=[lead.pk]),
        {"account": "", "account_name": "", "opportunity_name": "保留我"},
        headers=EN,
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "Name the new account" in body and "保留我" in body
    assert not Opportunity.objects.exists()


def test_a_new_lead_is_recorded_and_errors_keep_the_input(client, rep):
    client.force_login(rep)

    bad = client.post(reverse("leads:new"), {"name": "", "company": "保留的公司"}, headers=EN)
    assert bad.status_code == 400 and "保留的公司" in bad.content.decode()
    good = client.post(
        reverse("leads:new"), {"name": "新线索", "company": "某公司", "source": "referral"}
    )
    assert good.status_code == 302
    assert Lead.objects.get(name="新线索").owner == rep


def test_the_list_and_the_page_cost_the_same_queries_for_2_or_20_leads(client, rep):
    client.force_login(rep)

    def cost(n):
        Lead.objects.all().delete()
        leads = [f.lead(rep, name=f"线索{i}") for i in range(n)]
        counts = []
        for url in (reverse("leads:list"), reverse("leads:detail", args=[leads[0].pk])):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx))
        return counts

    cost(1)  # first use creates the company settings and fills caches
    assert cost(2) == cost(20)
