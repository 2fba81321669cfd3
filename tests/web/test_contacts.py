"""The contact page: roles across deals, the whole-brain questionnaire with its profile
and advice, visits and the next one, friendship with our people, reporting line."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kam.method import whole_brain
from kam.sales import actions
from kam.sales.models import Contact, Familiarity
from tests.sales import factories as f
from tests.sales.factories import PAGE, TODAY

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-CN"}


@pytest.fixture
def account(rep):
    return f.account(rep)


@pytest.fixture
def person(rep, account):
    return f.contact(rep, account, name="张总工", title="总工程师")


def _url(person, name="contact"):
    return reverse(f"accounts:{name}", args=[person.pk])


def _dominant(body):
    return re.search(r"data-dominant>([^<]*)<", body).group(1)


def test_the_page_sends_an_anonymous_visitor_to_sign_in(client, person):
    response = client.get(_url(person))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_gets_404_for_the_contact_and_its_forms(client, outsider, person):
    client.force_login(outsider)

    for name in ("contact", "contact_brain", "contact_familiarity", "contact_reports_to"):
        assert client.post(_url(person, name), {}).status_code == 404
    assert client.get(_url(person)).status_code == 404


def test_the_rep_sees_the_page_in_chinese_and_in_english(client, rep, person):
    client.force_login(rep)

    zh = client.get(_url(person), headers=ZH)
    en = client.get(_url(person), headers=EN)

    assert zh.status_code == en.status_code == 200
    assert "一样样拆开来" in zh.content.decode() and "分析型" in zh.content.decode()
    assert "Take it apart piece by piece" in en.content.decode()
    assert whole_brain.NO_EVIDENCE.en in en.content.decode()


def test_the_questionnaire_changes_the_dominant_quadrant_and_the_advice(client, rep, person):
    client.force_login(rep)

    client.post(
        _url(person, "contact_brain"),
        {"phrases": ["a_key_points", "a_bottom_line"], "version": person.version},
    )
    body = client.get(_url(person), headers=EN).content.decode()
    assert _dominant(body) == "Analytical"
    assert whole_brain.advice(whole_brain.Quadrant.A).bring.en in body

    person.refresh_from_db()
    client.post(
        _url(person, "contact_brain"),
        {
            "phrases": ["a_key_points", "b_safety_first", "b_in_order", "b_law_and_order"],
            "version": person.version,
        },
    )
    body = client.get(_url(person), headers=EN).content.decode()
    assert _dominant(body) == "Sequential"
    person.refresh_from_db()
    assert sorted(person.brain_phrases) == sorted(
        ["a_key_points", "b_safety_first", "b_in_order", "b_law_and_order"]
    )


def test_a_phrase_heard_twice_keeps_its_count_while_ticked(client, rep, person):
    actions.update_record(
        person,
        acting_user=rep,
        source=PAGE,
        expected_version=person.version,
        changes={"brain_phrases": ["c_teamwork", "c_teamwork"]},
    )
    person.refresh_from_db()
    client.force_login(rep)

    client.post(
        _url(person, "contact_brain"),
        {"phrases": ["c_teamwork", "a_key_points"], "version": person.version},
    )

    person.refresh_from_db()
    assert sorted(person.brain_phrases) == ["a_key_points", "c_teamwork", "c_teamwork"]


def test_a_stale_questionnaire_is_refused_with_the_ticks_kept(client, rep, teammate, person):
    old_version = person.version
    actions.update_record(
        person,
        acting_user=teammate,
        source=PAGE,
        expected_version=old_version,
        changes={"brain_phrases": ["d_big_picture"]},
    )
    client.force_login(rep)

    response = client.post(
        _url(person, "contact_brain"),
        {"phrases": ["a_key_points"], "version": old_version},
        headers=EN,
    )

    assert response.status_code == 400
    assert "after you opened it" in response.content.decode()


def test_friendship_level_is_set_per_our_user(client, rep, teammate, person):
    client.force_login(rep)

    response = client.post(
        _url(person, "contact_familiarity"), {"user": teammate.pk, "strength": 3}
    )

    assert response.status_code == 302
    assert Familiarity.objects.get(contact=person, user=teammate).strength == 3


def test_a_reporting_cycle_is_refused_on_the_field(client, rep, account, person):
    boss = f.contact(rep, account, name="王总")
    actions.set_reports_to(person, boss, acting_user=rep, source=PAGE)
    boss.refresh_from_db()
    client.force_login(rep)

    response = client.post(
        _url(boss, "contact_reports_to"),
        {"reports_to": person.pk, "version": boss.version},
        headers=ZH,
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_reports_to_error"' in body
    assert "这会在组织结构图中形成汇报循环" in body or "reporting cycle" in body
    assert f'<option value="{person.pk}" selected>' in body
    boss.refresh_from_db()
    assert boss.reports_to_id is None


def test_the_reporting_line_is_saved(client, rep, account, person):
    boss = f.contact(rep, account, name="王总")
    client.force_login(rep)

    client.post(
        _url(person, "contact_reports_to"), {"reports_to": boss.pk, "version": person.version}
    )

    person.refresh_from_db()
    assert person.reports_to == boss


def test_the_page_shows_roles_visits_and_the_next_visit_with_its_pretext(
    client, rep, account, person
):
    deal = f.opportunity(rep, account, name="搅拌站扩建供货")
    actions.set_buying_center_entry(deal, person, roles=["technical"], acting_user=rep, source=PAGE)
    actions.log_activity(
        account=account,
        kind="visit",
        on=TODAY - dt.timedelta(days=20),
        contacts=[person],
        next_on=TODAY - dt.timedelta(days=3),
        next_pretext="送检测报告",
        acting_user=rep,
        source=PAGE,
    )
    client.force_login(rep)

    body = client.get(_url(person), headers=EN).content.decode()

    assert "搅拌站扩建供货" in body and "technical person" in body
    assert "送检测报告" in body and "3 days overdue" in body


def test_a_contact_is_added_from_the_account(client, rep, account):
    client.force_login(rep)

    bad = client.post(reverse("accounts:contact_new", args=[account.pk]), {"title": "保留"})
    assert bad.status_code == 400 and "保留" in bad.content.decode()
    good = client.post(reverse("accounts:contact_new", args=[account.pk]), {"name": "刘工"})
    assert good.status_code == 302
    assert Contact.objects.get(name="刘工").account == account


def test_the_page_costs_the_same_queries_for_2_or_20_records(client, rep, account):
    client.force_login(rep)

    def cost(n):
        Contact.all_objects.all().delete()
        person = f.contact(rep, account, name="主角")
        for i in range(n):
            deal = f.opportunity(rep, account, name=f"项目{i}")
            actions.set_buying_center_entry(
                deal, person, roles=["user"], acting_user=rep, source=PAGE
            )
            f.contact(rep, account, name=f"同事{i}")
            actions.log_activity(
                account=account,
                kind="visit",
                on=TODAY,
                contacts=[person],
                next_on=TODAY + dt.timedelta(days=i + 1),
                acting_user=rep,
                source=PAGE,
            )
        actions.set_familiarity(person, rep, 2, acting_user=rep, source=PAGE)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_url(person)).status_code == 200
        return len(ctx)

    cost(1)
    assert cost(2) == cost(20)
