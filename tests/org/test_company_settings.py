import pytest
from django.core.exceptions import ValidationError

from kam.method import coach, screening
from kam.method.settings import MethodSettings
from kam.method.types import Grade, Quadrant
from kam.org.models import CompanySettings

pytestmark = pytest.mark.django_db


def test_fresh_settings_are_exactly_the_methods_defaults():
    company = CompanySettings.load()
    assert company.to_method() == MethodSettings()
    assert company.coach_settings().key_visit_days == dict(coach.KEY_VISIT_DAYS)
    assert company.coach_settings().other_visit_days == dict(coach.OTHER_VISIT_DAYS)


def test_load_returns_the_one_row():
    assert CompanySettings.load().pk == CompanySettings.load().pk
    assert CompanySettings.objects.count() == 1


def test_an_admins_choices_reach_the_method():
    company = CompanySettings.load()
    company.stage_probabilities = [0.05, 0.15, 0.35, 0.55, 0.75]
    company.forced_advance_penalty = 0.7
    company.off_funnel_threshold = 20000
    company.risk_factors = [
        {"key": "budget", "zh": "预算", "en": "budget", "weight": 3},
        {"key": "payment", "zh": "回款", "en": "payment record", "weight": 1},
    ]
    company.grade_rules = [{"grade": "A", "months": 2, "min_likelihood": 0.7, "both": True}]
    company.visit_cadence = {
        "key": {"A": 7, "B": 14, "C": 30, "D": 60},
        "other": {"A": 30, "B": 60, "C": 90, "D": 120},
    }
    company.brain_labels["A"]["animal"] = {"zh": "猫头鹰", "en": "owl"}
    company.full_clean()
    company.save()

    settings = CompanySettings.load().coach_settings()
    method = settings.method
    assert [d.probability for d in method.process.stages] == [0.05, 0.15, 0.35, 0.55, 0.75, 1.0]
    assert method.process.forced_advance_penalty == 0.7
    assert method.funnel.off_funnel_threshold == 20000
    card = screening.score_risk({"budget": 5, "payment": 1}, settings=method.screening)
    assert card.score == 75.0  # (3 x 1 + 1 x 0) / 4 x 100
    assert method.screening.grade_rules[0].months == 2
    assert settings.key_visit_days[Grade.A] == 7
    assert method.whole_brain.animal(Quadrant.A).zh == "猫头鹰"


def test_probabilities_that_fall_from_stage_to_stage_are_refused_with_the_reason():
    company = CompanySettings.load()
    company.stage_probabilities = [0.5, 0.2, 0.4, 0.6, 0.8]
    with pytest.raises(ValidationError, match="below the previous stage"):
        company.full_clean()


def test_the_wrong_number_of_probabilities_is_refused_on_the_field():
    company = CompanySettings.load()
    company.stage_probabilities = [0.1, 0.2]
    with pytest.raises(ValidationError) as error:
        company.full_clean()
    assert "stage_probabilities" in error.value.message_dict


def test_a_risk_factor_without_a_weight_is_refused():
    company = CompanySettings.load()
    company.risk_factors = [{"key": "budget", "zh": "预算", "en": "budget"}]
    with pytest.raises(ValidationError, match="weight"):
        company.full_clean()


def test_a_visit_cadence_missing_a_grade_is_refused_naming_it():
    company = CompanySettings.load()
    company.visit_cadence = {"key": {"A": 7, "B": 14, "C": 30, "D": 60}, "other": {"A": 30}}
    with pytest.raises(ValidationError, match=r"other_visit_days\[B\]"):
        company.full_clean()


def test_removing_a_risk_factor_removes_its_knock_out():
    company = CompanySettings.load()
    company.risk_factors = [f for f in company.risk_factors if f["key"] != "funding_credit"]
    company.full_clean()
    knockouts = company.to_method().screening.knockouts
    assert [k.factor for k in knockouts] == ["technical_fit"]
