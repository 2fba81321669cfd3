import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.history.models import Change
from kam.org.models import CompanySettings, Membership, Team
from kam.sales.models import Target
from kam.web.sections.settings import CompanySettingsForm

pytestmark = pytest.mark.django_db


def _as_posted(company) -> dict:
    """What the settings page posts when nothing is changed."""
    form = CompanySettingsForm(company=company)
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    return data


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def test_an_admin_opens_the_settings(admin_client):
    response = admin_client.get("/settings/")
    assert response.status_code == 200
    page = response.content.decode()
    for words in (
        "off_funnel_threshold",
        "probability_5",
        "node_2_0_id",
        "factor_0_weight",
        "rule_0_grade",
        "cadence_key_A",
        "brain_D_animal_zh",
    ):
        assert f'name="{words}"' in page


@pytest.mark.parametrize("address", ["/settings/", "/settings/people/", "/settings/targets/"])
def test_a_manager_is_told_the_settings_do_not_exist(client, manager, address):
    client.force_login(manager)
    assert client.get(address).status_code == 404


def test_saving_unchanged_settings_keeps_them_as_they_were(admin_client):
    company = CompanySettings.load()
    before = {f.name: getattr(company, f.name) for f in company._meta.concrete_fields}
    response = admin_client.post("/settings/", _as_posted(company))
    assert response.status_code == 302
    company.refresh_from_db()
    assert {f.name: getattr(company, f.name) for f in company._meta.concrete_fields} == before


def test_the_settings_saved_reach_the_method_and_history(admin_client, admin):
    company = CompanySettings.load()
    data = _as_posted(company)
    data.update(
        {
            "stuck_days": "60",
            "probability_1": "0.05",
            "node_1_4_id": "site_visit",
            "node_1_4_zh": "现场考察",
            "node_1_4_en": "Site visited",
        }
    )
    response = admin_client.post("/settings/", data)
    assert response.status_code == 302
    method = CompanySettings.load().to_method()
    assert method.funnel.stuck_days == 60
    assert method.process.stages[0].probability == 0.05
    assert "site_visit" in {n.id for n in method.process.stages[0].key_nodes}
    change = Change.objects.get(content_type__model="companysettings")
    assert change.user == admin and "stuck_days" in change.changes


def test_falling_probabilities_show_the_methods_message_on_their_group(admin_client):
    company = CompanySettings.load()
    data = _as_posted(company)
    data.update({"probability_1": "0.5", "probability_2": "0.2"})
    response = admin_client.post("/settings/", data, headers={"accept-language": "en"})
    assert response.status_code == 200
    page = response.content.decode()
    errors = page[page.index('id="stage_probabilities-errors"') :]
    errors = errors[: errors.index("</ul>")]
    assert "below the previous stage" in errors  # the method's own words
    assert 'value="0.5"' in page  # what was typed stays
    assert CompanySettings.load().stage_probabilities[0] == 0.1  # nothing saved


def test_a_half_filled_key_node_is_refused_on_its_list(admin_client):
    data = _as_posted(CompanySettings.load())
    blank_row = len(CompanySettings.load().key_nodes["3"])
    data[f"node_3_{blank_row}_id"] = "orphan"
    page = admin_client.post("/settings/", data, headers={"accept-language": "en"}).content.decode()
    assert 'id="key_nodes-errors"' in page
    assert "Fill in every column of a row" in page


def test_an_admin_creates_a_user_in_a_team_with_a_role(admin_client, teams):
    response = admin_client.post(
        "/settings/people/",
        {
            "form": "user",
            "user-username": "newrep",
            "user-first_name": "明",
            "user-last_name": "陈",
            "user-password": "a long enough passphrase 42",
            "user-team": teams["east"].pk,
            "user-role": "manager",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newrep")
    assert Membership.objects.get(user=user).role == "manager"
    assert Change.objects.filter(content_type__model="user", object_id=str(user.pk)).exists()


def test_a_weak_password_is_refused_next_to_the_password_keeping_the_rest(admin_client, teams):
    page = admin_client.post(
        "/settings/people/",
        {"form": "user", "user-username": "weak", "user-password": "123", "user-role": "rep"},
        headers={"accept-language": "en"},
    ).content.decode()
    assert "This password is too short" in page
    assert 'value="weak"' in page
    assert not get_user_model().objects.filter(username="weak").exists()


def test_an_admin_creates_a_team_and_puts_a_user_in_it(admin_client, rep):
    admin_client.post("/settings/people/", {"form": "team", "team-name": "west"})
    west = Team.objects.get(name="west")
    admin_client.post(
        "/settings/people/",
        {
            "form": "membership",
            "membership-user": rep.pk,
            "membership-team": west.pk,
            "membership-role": "rep",
        },
    )
    assert Membership.objects.filter(user=rep, team=west).exists()


def test_an_admin_sets_a_target_for_a_period(admin_client, rep):
    response = admin_client.post(
        "/settings/targets/", {"user": rep.pk, "period": "2026-Q4", "amount": "1200000"}
    )
    assert response.status_code == 302
    target = Target.objects.get(user=rep)
    assert (target.start, target.end, target.amount) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
        Decimal("1200000"),
    )


def test_a_target_period_written_badly_is_shown_on_the_period_field(admin_client, rep):
    page = admin_client.post(
        "/settings/targets/",
        {"user": rep.pk, "period": "Q4/2026", "amount": "1"},
        headers={"accept-language": "en"},
    ).content.decode()
    assert "Write the period as 2026, 2026-Q4" in page
    assert 'value="Q4/2026"' in page


def test_the_people_and_targets_pages_cost_the_same_queries_for_two_users_or_twenty(
    admin_client, teams
):
    def add(n):
        for i in range(n):
            user = get_user_model().objects.create_user(f"u{n}-{i}")
            Membership.objects.create(user=user, team=teams["north"])
            Target.objects.create(
                user=user, start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31), amount=Decimal(1)
            )

    add(2)
    admin_client.get("/settings/targets/")  # the company settings are created on first use
    counts = []
    for more in (0, 18):
        add(more)
        with CaptureQueriesContext(connection) as queries:
            admin_client.get("/settings/people/")
            admin_client.get("/settings/targets/")
        counts.append(len(queries))
    assert counts[0] == counts[1]
