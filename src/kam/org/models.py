"""Teams, memberships and the company's method settings."""

import json
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kam.method import coach, funnel, process, screening, whole_brain
from kam.method.coach import CoachSettings
from kam.method.process import KeyNode, ProcessSettings
from kam.method.screening import GradeRule, RiskFactor
from kam.method.settings import MethodSettings
from kam.method.types import Grade, MethodError, Quadrant, Text


class Team(models.Model):
    """A sales team (销售团队): its records are seen by its members and managers."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's place in a team: a rep works in it, a manager manages it.

    A manager may manage several teams; a user may belong to several teams.
    """

    class Role(models.TextChoices):
        REP = "rep", _("sales rep")
        MANAGER = "manager", _("manager")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.REP)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")
        ]

    def __str__(self):
        return f"{self.user} · {self.team} · {self.get_role_display()}"


def _text(value: Text) -> dict:
    return {"zh": value.zh, "en": value.en}


def _default_key_nodes() -> dict:
    return {
        str(int(d.stage)): [{"id": n.id, **_text(n.label)} for n in d.key_nodes]
        for d in process.DEFAULT_SETTINGS.stages
    }


def _default_stage_probabilities() -> list:
    return [d.probability for d in process.DEFAULT_SETTINGS.stages[:5]]


def _default_risk_factors() -> list:
    return [
        {"key": f.key, **_text(f.label), "weight": f.weight}
        for f in screening.DEFAULT_SETTINGS.factors
    ]


def _default_grade_rules() -> list:
    return [
        {
            "grade": str(r.grade),
            "months": r.months,
            "min_likelihood": r.min_likelihood,
            "both": r.both,
        }
        for r in screening.DEFAULT_SETTINGS.grade_rules
    ]


def _default_visit_cadence() -> dict:
    return {
        "key": {str(g): d for g, d in coach.KEY_VISIT_DAYS.items()},
        "other": {str(g): d for g, d in coach.OTHER_VISIT_DAYS.items()},
    }


def _default_brain_labels() -> dict:
    wb = whole_brain.DEFAULT_SETTINGS
    return {str(q): {"label": _text(wb.label(q)), "animal": _text(wb.animal(q))} for q in Quadrant}


_METHOD_SETTINGS: dict[str, MethodSettings] = {}


class CompanySettings(models.Model):
    """The company's choices for the method; one row per installation.

    Every value defaults to METHOD.md's default as ``kam.method`` defines it;
    ``to_method()`` turns the row into the ``MethodSettings`` every rule reads.
    """

    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year starts in month"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    off_funnel_threshold = models.DecimalField(
        _("off-funnel threshold"),
        max_digits=14,
        decimal_places=2,
        default=funnel.DEFAULT_SETTINGS.off_funnel_threshold,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Orders below this amount stay outside the funnel (漏斗外销售额)."),
    )
    stuck_days = models.PositiveIntegerField(
        _("days in a stage before a deal is stuck"), default=funnel.DEFAULT_SETTINGS.stuck_days
    )
    forced_advance_penalty = models.FloatField(
        _("forced-advance penalty"),
        default=process.DEFAULT_SETTINGS.forced_advance_penalty,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("The win probability is multiplied by this for each gate forced."),
    )
    stage_probabilities = models.JSONField(
        _("win probability of stages 1-5"), default=_default_stage_probabilities
    )
    key_nodes = models.JSONField(_("key nodes per stage"), default=_default_key_nodes)
    risk_factors = models.JSONField(_("risk factors and weights"), default=_default_risk_factors)
    grade_rules = models.JSONField(_("grade thresholds"), default=_default_grade_rules)
    visit_cadence = models.JSONField(
        _("visit cadence in days"),
        default=_default_visit_cadence,
        help_text=_("Longest gap between visits, for key people and for others, per grade."),
    )
    relationship_cost_warning_ratio = models.FloatField(
        _("relationship-cost warning ratio"),
        default=0.05,
        validators=[MinValueValidator(0.0)],
    )
    brain_labels = models.JSONField(_("whole-brain labels"), default=_default_brain_labels)

    class Meta:
        verbose_name = _("company settings")
        verbose_name_plural = _("company settings")

    def __str__(self):
        return str(_("Company settings"))

    @classmethod
    def load(cls) -> "CompanySettings":
        """The installation's settings, created with the method's defaults on first use."""
        return cls.objects.get_or_create(pk=1)[0]

    def clean(self):
        try:
            self.coach_settings()
        except ValidationError:
            raise
        except (MethodError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValidationError(
                _("The settings do not fit the method: %(error)s") % {"error": exc}
            ) from exc

    def to_method(self) -> MethodSettings:
        """The method's settings with this company's choices; raises ``MethodError``
        (or ``KeyError``/``TypeError`` for malformed JSON) when they do not fit.

        Built once per distinct set of values in a process: every page asks for it,
        and building it costs more than the query that loads the row."""
        key = json.dumps(
            [getattr(self, f.attname) for f in self._meta.concrete_fields if not f.primary_key],
            default=str,
        )
        cached = _METHOD_SETTINGS.get(key)
        if cached is None:
            cached = self._build_method()
            if len(_METHOD_SETTINGS) > 32:  # settings change rarely; never grow without bound
                _METHOD_SETTINGS.clear()
            _METHOD_SETTINGS[key] = cached
        return cached

    def _build_method(self) -> MethodSettings:
        defaults = MethodSettings()
        if len(self.stage_probabilities) != 5:
            raise ValidationError(
                {"stage_probabilities": _("Give exactly five probabilities, for stages 1 to 5.")}
            )
        stages = tuple(
            replace(
                definition,
                probability=(
                    float(self.stage_probabilities[i]) if i < 5 else definition.probability
                ),
                key_nodes=tuple(
                    KeyNode(n["id"], Text(n["zh"], n["en"]))
                    for n in self.key_nodes.get(str(int(definition.stage)), [])
                ),
            )
            for i, definition in enumerate(defaults.process.stages)
        )
        labels = {
            f"{kind}_{q.lower()}": Text(v[kind]["zh"], v[kind]["en"])
            for q, v in self.brain_labels.items()
            for kind in ("label", "animal")
        }
        factors = tuple(
            RiskFactor(f["key"], Text(f["zh"], f["en"]), float(f["weight"]))
            for f in self.risk_factors
        )
        keys = {f.key for f in factors}
        return replace(
            defaults,
            screening=replace(
                defaults.screening,
                factors=factors,
                # A knock-out on a factor the company removed goes with it.
                knockouts=tuple(k for k in defaults.screening.knockouts if k.factor in keys),
                grade_rules=tuple(
                    GradeRule(
                        Grade(r["grade"]), int(r["months"]), float(r["min_likelihood"]), r["both"]
                    )
                    for r in self.grade_rules
                ),
            ),
            process=ProcessSettings(
                stages=stages, forced_advance_penalty=self.forced_advance_penalty
            ),
            funnel=replace(
                defaults.funnel,
                off_funnel_threshold=self.off_funnel_threshold,
                stuck_days=self.stuck_days,
            ),
            relationship=replace(
                defaults.relationship, cost_warning_ratio=self.relationship_cost_warning_ratio
            ),
            whole_brain=replace(defaults.whole_brain, **labels),
        )

    def coach_settings(self) -> CoachSettings:
        """The coach's settings: the method's, plus the visit cadence."""
        return CoachSettings(
            method=self.to_method(),
            key_visit_days={Grade(g): int(d) for g, d in self.visit_cadence["key"].items()},
            other_visit_days={Grade(g): int(d) for g, d in self.visit_cadence["other"].items()},
        )
