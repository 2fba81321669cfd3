"""The administrators' settings (系统设置): the company's method settings, users,
teams and targets. Every other user gets 404, as for a page that is not there.

The method settings are one form over ``CompanySettings``: plain values as
fields, and each list the method reads (stage probabilities, key nodes, risk
factors, grade rules, visit cadence, whole-brain labels) as a group of rows.
``CompanySettings.full_clean`` judges the whole through the method's own
validation; a message it gives is shown on the group it concerns.
"""

from __future__ import annotations

import copy
import functools

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.history.record import Action, Source, diff, record, snapshot
from kam.method.process import DEFAULT_SETTINGS as PROCESS_DEFAULTS
from kam.method.types import Grade, Quadrant
from kam.org import actions as org_actions
from kam.org.models import CompanySettings, Membership, Team
from kam.sales import actions, insights
from kam.sales.models import Target
from kam.sales.tasks import recompute_all_task
from kam.web.i18n import in_language, person_name
from kam.web.pagination import paginate

# Blank rows offered under each list, to add to it without JavaScript.
EXTRA_ROWS = 2
SCALAR_FIELDS = (
    "currency",
    "fiscal_year_start_month",
    "off_funnel_threshold",
    "stuck_days",
    "forced_advance_penalty",
    "relationship_cost_warning_ratio",
)
# The lists, in the order the page shows them; each is one JSON field of CompanySettings.
GROUPS = (
    "stage_probabilities",
    "key_nodes",
    "risk_factors",
    "grade_rules",
    "visit_cadence",
    "brain_labels",
)


def admin_only(view):
    """Administrators only; anyone else is told the page does not exist."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------
# The action
# ---------------------------------------------------------------------------


def save_company_settings(values: dict, *, acting_user, source: str) -> CompanySettings:
    """Change the company's settings; ``ValidationError`` (from ``full_clean``, which
    runs the method's validation) leaves them as they were. History keeps the change."""
    with transaction.atomic():
        CompanySettings.load()
        company = CompanySettings.objects.select_for_update().get(pk=1)
        before = snapshot(company)
        for name, value in values.items():
            setattr(company, name, value)
        company.full_clean()
        changes = diff(before, snapshot(company))
        if changes:
            company.save()
            record(company, action=Action.UPDATE, user=acting_user, source=source, changes=changes)
            # Every stored figure was made by the old settings. Enqueued in this
            # transaction: the task exists exactly when the change does.
            recompute_all_task.enqueue()
        return company


def group_of_error(company: CompanySettings) -> str | None:
    """The setting that makes ``company`` unfit for the method: each list and value
    is tried alone on the defaults, so the message lands on the one at fault."""
    for name in (*GROUPS, *SCALAR_FIELDS):
        probe = CompanySettings()
        setattr(probe, name, getattr(company, name))
        try:
            probe.clean()
        except ValidationError:
            return name
    return None


# ---------------------------------------------------------------------------
# The method settings form
# ---------------------------------------------------------------------------


class _Row:
    """One row of a list: its bound fields, in column order."""

    def __init__(self, fields):
        self.fields = fields


class CompanySettingsForm(forms.Form):
    """Every company setting. ``group_errors`` holds the messages of the lists."""

    def __init__(self, data=None, *, company: CompanySettings):
        super().__init__(data)
        self.company = company
        self.fields.update(forms.fields_for_model(CompanySettings, fields=SCALAR_FIELDS))
        for name in SCALAR_FIELDS:
            self.initial[name] = getattr(company, name)
        self.groups: dict[str, list] = {name: [] for name in GROUPS}
        self.group_errors: dict[str, list[str]] = {}
        self._build_probabilities()
        self._build_key_nodes()
        self._build_risk_factors()
        self._build_grade_rules()
        self._build_cadence()
        self._build_labels()

    # Building -------------------------------------------------------------

    def _add(self, group: str, name: str, field: forms.Field, initial) -> str:
        field.required = False
        self.fields[name] = field
        if initial is not None:
            self.initial[name] = initial
        return name

    def _build_probabilities(self):
        names = []
        for i, definition in enumerate(PROCESS_DEFAULTS.stages[:5]):
            value = _at(self.company.stage_probabilities, i)
            names.append(
                self._add(
                    "stage_probabilities",
                    f"probability_{i + 1}",
                    forms.FloatField(
                        label=f"{int(definition.stage)} · {in_language(definition.name)}"
                    ),
                    value,
                )
            )
        self.groups["stage_probabilities"] = [names]

    def _build_key_nodes(self):
        rows = []
        for definition in PROCESS_DEFAULTS.stages:
            stage = int(definition.stage)
            nodes = list(self.company.key_nodes.get(str(stage), []))
            stage_rows = []
            for r in range(len(nodes) + EXTRA_ROWS):
                node = nodes[r] if r < len(nodes) else {}
                stage_rows.append(
                    [
                        self._add(
                            "key_nodes",
                            f"node_{stage}_{r}_{col}",
                            forms.CharField(label=label, max_length=200),
                            node.get(col),
                        )
                        for col, label in (("id", _("Id")), ("zh", "中文"), ("en", "English"))
                    ]
                )
            rows.append((definition, stage_rows))
        self.groups["key_nodes"] = rows

    def _build_risk_factors(self):
        factors = list(self.company.risk_factors)
        rows = []
        for r in range(len(factors) + EXTRA_ROWS):
            factor = factors[r] if r < len(factors) else {}
            rows.append(
                [
                    self._add(
                        "risk_factors",
                        f"factor_{r}_{col}",
                        field,
                        factor.get(col),
                    )
                    for col, field in (
                        ("key", forms.CharField(label=_("Id"), max_length=50)),
                        ("zh", forms.CharField(label="中文", max_length=200)),
                        ("en", forms.CharField(label="English", max_length=200)),
                        ("weight", forms.FloatField(label=_("Weight"))),
                    )
                ]
            )
        self.groups["risk_factors"] = rows

    def _build_grade_rules(self):
        rules = list(self.company.grade_rules)
        grades = [("", "–")] + [(str(g), str(g)) for g in Grade]
        rows = []
        for r in range(len(rules) + 1):
            rule = rules[r] if r < len(rules) else {}
            rows.append(
                [
                    self._add("grade_rules", f"rule_{r}_{col}", field, rule.get(col))
                    for col, field in (
                        ("grade", forms.ChoiceField(label=_("Grade"), choices=grades)),
                        ("months", forms.IntegerField(label=_("Closes within months"))),
                        (
                            "min_likelihood",
                            forms.FloatField(label=_("Win likelihood at least (0-1)")),
                        ),
                        (
                            "both",
                            forms.BooleanField(label=_("Both must hold (else either one)")),
                        ),
                    )
                ]
            )
        self.groups["grade_rules"] = rows

    def _build_cadence(self):
        rows = []
        for kind, label in (("key", _("Key people")), ("other", _("Others"))):
            days = self.company.visit_cadence.get(kind, {})
            rows.append(
                (
                    label,
                    [
                        self._add(
                            "visit_cadence",
                            f"cadence_{kind}_{g}",
                            forms.IntegerField(label=_("Grade %(grade)s") % {"grade": g}),
                            days.get(str(g)),
                        )
                        for g in Grade
                    ],
                )
            )
        self.groups["visit_cadence"] = rows

    def _build_labels(self):
        rows = []
        for q in Quadrant:
            value = self.company.brain_labels.get(str(q), {})
            rows.append(
                (
                    str(q),
                    [
                        self._add(
                            "brain_labels",
                            f"brain_{q}_{kind}_{lang}",
                            forms.CharField(label=f"{caption} · {lang_label}", max_length=50),
                            value.get(kind, {}).get(lang),
                        )
                        for kind, caption in (("label", _("Name")), ("animal", _("Animal")))
                        for lang, lang_label in (("zh", "中文"), ("en", "English"))
                    ],
                )
            )
        self.groups["brain_labels"] = rows

    # Reading --------------------------------------------------------------

    def _value(self, name):
        return self.cleaned_data.get(name)

    def _filled(self, names) -> bool:
        return any(self._value(n) not in (None, "", False) for n in names)

    def _row_error(self, group: str, message: str):
        self.group_errors.setdefault(group, []).append(message)

    def _lists(self) -> dict:
        values = {}
        probabilities = [self._value(n) for n in self.groups["stage_probabilities"][0]]
        if any(p is None for p in probabilities):
            self._row_error("stage_probabilities", _("Give a probability for each stage."))
        values["stage_probabilities"] = probabilities

        incomplete = _("Fill in every column of a row, or clear the whole row to remove it.")
        nodes = {}
        for definition, stage_rows in self.groups["key_nodes"]:
            kept = []
            for row in stage_rows:
                if not self._filled(row):
                    continue
                node = dict(
                    zip(("id", "zh", "en"), (self._value(n) or "" for n in row), strict=True)
                )
                if not all(v.strip() for v in node.values()):
                    self._row_error("key_nodes", incomplete)
                kept.append({k: v.strip() for k, v in node.items()})
            nodes[str(int(definition.stage))] = kept
        values["key_nodes"] = nodes

        factors = []
        for row in self.groups["risk_factors"]:
            if not self._filled(row):
                continue
            key, zh, en, weight = (self._value(n) for n in row)
            if not (key and zh and en) or weight is None:
                self._row_error("risk_factors", incomplete)
            factors.append({"key": (key or "").strip(), "zh": zh, "en": en, "weight": weight})
        values["risk_factors"] = factors

        rules = []
        for row in self.groups["grade_rules"]:
            grade, months, likelihood, both = (self._value(n) for n in row)
            if not (grade or months is not None or likelihood is not None):
                continue
            if not grade or months is None or likelihood is None:
                self._row_error("grade_rules", incomplete)
            rules.append(
                {"grade": grade, "months": months, "min_likelihood": likelihood, "both": both}
            )
        values["grade_rules"] = rules

        cadence = {}
        for kind, (_label, names) in zip(
            ("key", "other"), self.groups["visit_cadence"], strict=True
        ):
            cadence[kind] = {}
            for g, name in zip(Grade, names, strict=True):
                days = self._value(name)
                if days is None:
                    self._row_error("visit_cadence", _("Give the days for every grade."))
                cadence[kind][str(g)] = days
        values["visit_cadence"] = cadence

        labels = {}
        for q, names in self.groups["brain_labels"]:
            got = [self._value(n) or "" for n in names]
            if not all(v.strip() for v in got):
                self._row_error("brain_labels", _("Give every name in both languages."))
            labels[q] = {
                "label": {"zh": got[0], "en": got[1]},
                "animal": {"zh": got[2], "en": got[3]},
            }
        values["brain_labels"] = labels
        return values

    def clean(self):
        data = super().clean()
        values = {name: data.get(name) for name in SCALAR_FIELDS}
        values.update(self._lists())
        if self.errors or self.group_errors:
            return data  # the fields say what is wrong; the method would only repeat it
        probe = copy.copy(self.company)
        for name, value in values.items():
            setattr(probe, name, value)
        try:
            probe.full_clean()
        except ValidationError as exc:
            for name, found in exc.message_dict.items():
                if name == NON_FIELD_ERRORS:
                    name = group_of_error(probe) or NON_FIELD_ERRORS
                if name in self.groups:
                    self.group_errors.setdefault(name, []).extend(found)
                elif name in self.fields:
                    self.add_error(name, found)
                else:
                    self.add_error(None, found)
        self.values = values
        return data

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for group, found in self.group_errors.items():
            # Each input of a list in error points at the list's message.
            for name in _names(self.groups[group]):
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"{group}-errors"}
                )
            self.group_errors[group] = list(dict.fromkeys(found))
        return valid and not self.group_errors

    def rows(self, group: str):
        """The bound fields of a list, shaped as the page shows it."""

        def bound(names):
            return [self[n] for n in names]

        shape = self.groups[group]
        if group in ("key_nodes",):
            return [(d, [bound(r) for r in rows]) for d, rows in shape]
        if group in ("visit_cadence", "brain_labels"):
            return [(label, bound(names)) for label, names in shape]
        return [bound(r) for r in shape]


def _at(values, i):
    try:
        return values[i]
    except (IndexError, KeyError, TypeError):
        return None


def _names(shape) -> list[str]:
    found = []
    for item in shape:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            found.extend(_names(item))
    return found


@admin_only
def index(request):
    """The company's method settings."""
    company = CompanySettings.load()
    form = CompanySettingsForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        try:
            save_company_settings(form.values, acting_user=request.user, source=Source.PAGE)
        except ValidationError as exc:  # changed by someone else meanwhile, say
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The settings were saved."))
            return redirect("settings:index")
    setting_lists = [
        (
            "stage_probabilities",
            _("Win probability of stages 1-5"),
            form.rows("stage_probabilities"),
        ),
        ("key_nodes", _("Key nodes per stage"), form.rows("key_nodes")),
        ("risk_factors", _("Risk factors and weights"), form.rows("risk_factors")),
        ("grade_rules", _("Grade rules (ABCD)"), form.rows("grade_rules")),
        ("visit_cadence", _("Longest gap between visits, in days"), form.rows("visit_cadence")),
        ("brain_labels", _("Whole-brain labels"), form.rows("brain_labels")),
    ]
    return render(
        request,
        "kam/settings/index.html",
        {
            "form": form,
            "scalars": [form[n] for n in SCALAR_FIELDS],
            "setting_lists": setting_lists,
            "tab": "method",
        },
    )


# ---------------------------------------------------------------------------
# Users and teams
# ---------------------------------------------------------------------------


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{person_name(obj)} ({obj.get_username()})"


class NewUserForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    first_name = forms.CharField(label=gettext_lazy("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Family name"), max_length=150, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"), queryset=Team.objects.all(), required=False
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role in the team"),
        choices=Membership.Role.choices,
        initial=Membership.Role.REP,
    )
    admin = forms.BooleanField(label=gettext_lazy("Administrator"), required=False)


class NewTeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Team name"), max_length=100)


class MembershipForm(forms.Form):
    user = _PersonChoice(
        label=gettext_lazy("User"), queryset=get_user_model().objects.order_by("username")
    )
    team = forms.ModelChoiceField(label=gettext_lazy("Team"), queryset=Team.objects.all())
    role = forms.ChoiceField(
        label=gettext_lazy("Role in the team"), choices=Membership.Role.choices
    )


def _apply(form: forms.Form, exc: ValidationError) -> None:
    """Put an action's errors on the form's fields (or above them)."""
    for name, found in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, found)


@admin_only
def people(request):
    """Users with their teams and roles; create a user, a team, or put a user in a team."""
    forms_by_name = {
        "user": NewUserForm(prefix="user"),
        "team": NewTeamForm(prefix="team"),
        "membership": MembershipForm(prefix="membership"),
    }
    which = request.POST.get("form") if request.method == "POST" else None
    if which in forms_by_name:
        form = type(forms_by_name[which])(request.POST, prefix=which)
        forms_by_name[which] = form
        if form.is_valid():
            try:
                done = _save_people(which, form.cleaned_data, acting_user=request.user)
            except ValidationError as exc:
                _apply(form, exc)
            else:
                messages.success(request, done)
                return redirect("settings:people")
    pagination = paginate(
        request,
        get_user_model().objects.order_by("username", "pk"),
        prefetch=("memberships__team",),
    )
    teams = Team.objects.prefetch_related("memberships__user")
    return render(
        request,
        "kam/settings/people.html",
        {
            "users": pagination.rows,
            "pagination": pagination,
            "teams": teams,
            "forms": forms_by_name,
            "tab": "people",
        },
    )


def _save_people(which: str, data: dict, *, acting_user) -> str:
    source = Source.PAGE
    if which == "team":
        team = org_actions.create_team(data["name"], acting_user=acting_user, source=source)
        return _("Team %(name)s was created.") % {"name": team.name}
    if which == "membership":
        org_actions.join_team(
            data["user"], data["team"], role=data["role"], acting_user=acting_user, source=source
        )
        return _("%(user)s is now in %(team)s.") % {
            "user": person_name(data["user"]),
            "team": data["team"].name,
        }
    with transaction.atomic():
        user = org_actions.create_user(
            data["username"],
            password=data["password"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            admin=data["admin"],
            acting_user=acting_user,
            source=source,
        )
        if data["team"] is not None:
            org_actions.join_team(
                user, data["team"], role=data["role"], acting_user=acting_user, source=source
            )
    return _("User %(name)s was created.") % {"name": user.get_username()}


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------


class TargetForm(forms.Form):
    """A target for one rep or one team over a period such as 2026-Q4."""

    user = _PersonChoice(
        label=gettext_lazy("Sales rep"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("or team"), queryset=Team.objects.all(), required=False
    )
    period = forms.CharField(
        label=gettext_lazy("Period"),
        max_length=10,
        help_text=gettext_lazy("2026, 2026-Q4, 2026-H1 or 2026-03."),
    )
    amount = forms.DecimalField(label=gettext_lazy("Amount"), max_digits=16, decimal_places=2)

    def __init__(self, *args, fiscal_start_month: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fiscal_start_month = fiscal_start_month

    def clean_period(self):
        try:
            return insights.parse_period(
                self.cleaned_data["period"], fiscal_start_month=self.fiscal_start_month
            )
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["period"]) from None

    def clean(self):
        data = super().clean()
        if (data.get("user") is None) == (data.get("team") is None):
            raise ValidationError(_("Choose a sales rep or a team, not both."))
        return data


@admin_only
def targets(request):
    """The sales targets; setting one for the same holder and period replaces it."""
    company = CompanySettings.load()
    form = TargetForm(request.POST or None, fiscal_start_month=company.fiscal_year_start_month)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.set_target(
                user=data["user"],
                team=data["team"],
                start=data["period"].start,
                end=data["period"].end,
                amount=data["amount"],
                acting_user=request.user,
                source=Source.PAGE,
            )
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("The target was saved."))
            return redirect("settings:targets")
    pagination = paginate(
        request,
        Target.objects.select_related("user", "team").order_by("-start", "team__name", "pk"),
    )
    return render(
        request,
        "kam/settings/targets.html",
        {
            "form": form,
            "targets": pagination.rows,
            "pagination": pagination,
            "tab": "targets",
            "currency": company.currency,
        },
    )


app_name = "settings"
urlpatterns = [
    path("", index, name="index"),
    path("people/", people, name="people"),
    path("targets/", targets, name="targets"),
]
