"""Pages of the leads section (METHOD.md §1): the list by source and decision, the
screening form with its live risk score and grade, and conversion in one step.

The live preview posts the form to ``preview``, which hands the scores to
``kam.method.screening`` and returns the result fragment: the browser never
computes the formula. Saving goes through ``actions.screen_lead`` and
``actions.convert_lead``.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kam.history.record import Source
from kam.method import screening
from kam.org.models import CompanySettings, Team
from kam.org.scoping import get_visible_or_404, visible
from kam.sales import actions
from kam.sales.models import Account, Decision, Lead, LeadSource
from kam.web.i18n import in_language
from kam.web.pagination import paginate
from kam.web.sections.accounts import (
    apply_errors,
    page_or_fragment,
    stale_changes,
    today,
)

UNSCREENED = "unscreened"


class LeadFilter(forms.Form):
    """The list's filters; every choice also works as a plain link or GET form."""

    source = forms.ChoiceField(
        label=gettext_lazy("Source"),
        required=False,
        choices=[("", gettext_lazy("All sources")), *LeadSource.choices],
    )
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        required=False,
        choices=[
            ("", gettext_lazy("All decisions")),
            *Decision.choices,
            (UNSCREENED, gettext_lazy("not screened yet")),
        ],
    )


class LeadForm(forms.ModelForm):
    """A new lead: what is known before screening."""

    class Meta:
        model = Lead
        fields = ("name", "company", "source", "known", "amount", "expected_close", "team")
        widgets = {  # noqa: RUF012 (Django reads Meta attributes)
            "expected_close": forms.DateInput(attrs={"type": "date"}),
            "known": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = visible(user, Team.objects.all())
        self.fields["team"].required = False
        self.fields["team"].help_text = _("Leave empty to use your own team.")


class ScreeningForm(forms.Form):
    """The risk assessment table (客户风险评估表) of the company, plus expected close
    and win likelihood (typed in percent, stored as a share)."""

    expected_close = forms.DateField(
        label=gettext_lazy("Expected close"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    win_likelihood = forms.IntegerField(
        label=gettext_lazy("Win likelihood (%)"),
        required=False,
        min_value=0,
        max_value=100,
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Estimated amount"), required=False, min_value=0, decimal_places=2
    )
    reason = forms.CharField(
        label=gettext_lazy("Your comment on the decision"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, method: screening.ScreeningSettings, **kwargs):
        super().__init__(*args, **kwargs)
        self.method = method
        total = sum(f.weight for f in method.factors)
        choices = [("", "—")] + [
            (str(s), str(s)) for s in range(method.min_score, method.max_score + 1)
        ]
        factor_fields = {}
        for factor in method.factors:
            factor_fields[self.factor_field(factor.key)] = forms.TypedChoiceField(
                label=in_language(factor.label),
                choices=choices,
                coerce=int,
                required=False,
                help_text=_("weight %(share)s%%") % {"share": f"{factor.weight / total * 100:.0f}"},
            )
        # The scorecard comes first, in the company's order.
        self.fields = {**factor_fields, **self.fields}

    @staticmethod
    def factor_field(key: str) -> str:
        return f"score_{key}"

    def factor_bound_fields(self):
        return [self[self.factor_field(f.key)] for f in self.method.factors]

    def other_bound_fields(self):
        return [self[name] for name in ("expected_close", "win_likelihood", "amount", "reason")]

    def scores(self) -> dict[str, int]:
        data = getattr(self, "cleaned_data", {})
        return {
            f.key: data[self.factor_field(f.key)]
            for f in self.method.factors
            if data.get(self.factor_field(f.key)) not in (None, "")
        }


@dataclass(frozen=True)
class Preview:
    """What the method makes of the scorecard as typed so far."""

    scorecard: screening.Scorecard | None
    missing: tuple
    grade: object
    decision: screening.ScreeningDecision | None

    @property
    def score(self) -> str:
        """The score as the method's own reasons write it (one decimal)."""
        return f"{self.scorecard.score:.1f}" if self.scorecard else ""


def preview_of(form: ScreeningForm, lead: Lead, *, method, on) -> Preview:
    """The method's score, grade and decision for what the form holds (parts left
    empty give no number, never a guess)."""
    form.is_valid()  # fills cleaned_data with the fields that are valid
    data = form.cleaned_data
    scores = form.scores()
    missing = tuple(f for f in method.factors if f.key not in scores)
    card = screening.score_risk(scores, settings=method) if not missing else None
    grade = None
    if data.get("expected_close") and data.get("win_likelihood") is not None:
        grade = screening.grade(
            data["expected_close"],
            today=on,
            win_likelihood=data["win_likelihood"] / 100,
            settings=method,
        )
    decision = None
    if card is not None and grade is not None:
        amount = data.get("amount")
        decision = screening.decide(
            card, grade, amount=lead.amount if amount is None else amount, settings=method
        )
    return Preview(card, missing, grade, decision)


class ConvertForm(forms.Form):
    """Convert to an opportunity at a new account (named here) or an existing one."""

    account = forms.ModelChoiceField(
        label=gettext_lazy("Existing account"),
        queryset=Account.objects.none(),
        required=False,
        empty_label=gettext_lazy("— a new account —"),
    )
    account_name = forms.CharField(
        label=gettext_lazy("New account's name"), required=False, max_length=200
    )
    opportunity_name = forms.CharField(label=gettext_lazy("Opportunity's name"), max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = visible(user, Account.objects.all())

    def clean(self):
        data = super().clean()
        if not data.get("account") and not (data.get("account_name") or "").strip():
            self.add_error(
                "account_name", _("Name the new account, or choose an existing account.")
            )
        return data


def _leads(request):
    return visible(request.user, Lead.objects.all()).select_related(
        "owner", "account", "opportunity"
    )


@login_required
def lead_list(request):
    """Leads by source and decision, with a count of each pair."""
    leads = _leads(request)
    flt = LeadFilter(request.GET or None)
    if flt.is_valid():
        if flt.cleaned_data["source"]:
            leads = leads.filter(source=flt.cleaned_data["source"])
        decision = flt.cleaned_data["decision"]
        if decision == UNSCREENED:
            leads = leads.filter(decision="")
        elif decision:
            leads = leads.filter(decision=decision)
    counts = {
        (row["source"], row["decision"]): row["n"]
        for row in visible(request.user, Lead.objects.all())
        .values("source", "decision")
        .annotate(n=Count("pk"))
        .order_by()
    }
    decisions = [*Decision.choices, ("", _("not screened yet"))]
    matrix = [
        {
            "source": value,
            "label": label,
            "cells": [
                {"decision": d or UNSCREENED, "n": counts.get((value, d), 0)} for d, _l in decisions
            ],
            "total": sum(counts.get((value, d), 0) for d, _l in decisions),
        }
        for value, label in LeadSource.choices
    ]
    pagination = paginate(request, leads.order_by("-created_at", "-pk"))
    context = {
        "leads": pagination.rows,
        "pagination": pagination,
        "filter": flt if flt.is_bound else LeadFilter(),
        "matrix": [row for row in matrix if row["total"]],
        "decisions": decisions,
    }
    return page_or_fragment(request, "kam/leads/list.html", "kam/leads/_table.html", context)


@login_required
def lead_new(request):
    """Record a lead; screening follows on its page."""
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if not (k == "team" and v is None)}
        try:
            lead = actions.create_record(
                Lead, acting_user=request.user, source=Source.PAGE, fields=fields
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The lead was recorded: screen it now."))
            return redirect("leads:detail", pk=lead.pk)
    status = 400 if form.is_bound and form.errors else 200
    return page_or_fragment(request, "kam/leads/new.html", None, {"form": form}, status=status)


def _screening_initial(lead: Lead) -> dict:
    initial = {
        "expected_close": lead.expected_close,
        "win_likelihood": round(lead.win_likelihood * 100)
        if lead.win_likelihood is not None
        else None,
        "amount": lead.amount,
        "reason": lead.decision_reason,
        "version": lead.version,
    }
    for key, value in (lead.scores or {}).items():
        initial[ScreeningForm.factor_field(key)] = value
    return initial


def _detail(request, lead, *, form=None, convert=None, preview=None, stale=(), status=200):
    method = CompanySettings.load().to_method().screening
    form = form or ScreeningForm(initial=_screening_initial(lead), method=method)
    if preview is None and form.is_bound:
        preview = preview_of(form, lead, method=method, on=today())
    if convert is None:
        convert = ConvertForm(
            initial={"account_name": lead.company, "opportunity_name": lead.name},
            user=request.user,
        )
    context = {
        "lead": lead,
        "form": form,
        "preview": preview,
        "convert": convert,
        "stale": stale,
        "convertible": lead.opportunity_id is None and lead.decision != Decision.DROP,
        "reasons": [r.get("zh") if _zh() else r.get("en") for r in lead.screening_reasons],
    }
    return page_or_fragment(request, "kam/leads/detail.html", None, context, status=status)


def _zh() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "en").lower().startswith("zh")


@login_required
def lead_detail(request, pk):
    """A lead with its screening form and, once screened, its conversion."""
    return _detail(request, get_visible_or_404(request.user, _leads(request), pk=pk))


@login_required
@require_POST
def lead_preview(request, pk):
    """The live score, grade and decision of the scorecard as typed (a fragment for
    htmx; the whole page for a browser without JavaScript)."""
    lead = get_visible_or_404(request.user, _leads(request), pk=pk)
    method = CompanySettings.load().to_method().screening
    form = ScreeningForm(request.POST, method=method)
    preview = preview_of(form, lead, method=method, on=today())
    if request.headers.get("HX-Request") == "true":
        return page_or_fragment(
            request, None, "kam/leads/_preview.html", {"preview": preview, "lead": lead}
        )
    # Without JavaScript: the page again, with what was typed and its result.
    form = ScreeningForm(request.POST, method=method)
    form.is_valid()
    form.errors.clear()  # a preview is no save: it shows the result, not errors
    return _detail(request, lead, form=form, preview=preview)


@login_required
@require_POST
def lead_screen(request, pk):
    """Save the screening through ``actions.screen_lead``."""
    lead = get_visible_or_404(request.user, _leads(request), pk=pk)
    method = CompanySettings.load().to_method().screening
    form = ScreeningForm(request.POST, method=method)
    stale = ()
    if form.is_valid():
        data = form.cleaned_data
        scores = form.scores()
        try:
            actions.screen_lead(
                lead,
                scores=scores,
                expected_close=data["expected_close"],
                win_likelihood=None
                if data["win_likelihood"] is None
                else data["win_likelihood"] / 100,
                amount=data["amount"],
                reason=data["reason"],
                today=today(),
                acting_user=request.user,
                source=Source.PAGE,
                expected_version=data["version"],
            )
        except actions.StaleRecord as exc:
            stale = stale_changes(exc)
            apply_errors(form, exc, aliases={"scores": None})
        except ValidationError as exc:
            missing = [f for f in method.factors if f.key not in scores]
            apply_errors(form, exc, aliases={"scores": None})
            for factor in missing:
                form.add_error(ScreeningForm.factor_field(factor.key), _("Score this factor."))
        else:
            messages.success(request, _("The lead was screened."))
            return redirect("leads:detail", pk=lead.pk)
    return _detail(request, lead, form=form, stale=stale, status=400)


@login_required
@require_POST
def lead_convert(request, pk):
    """Convert the lead to an account and an opportunity in one step."""
    lead = get_visible_or_404(request.user, _leads(request), pk=pk)
    form = ConvertForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        account = data["account"]
        try:
            conversion = actions.convert_lead(
                lead,
                account=account,
                account_fields=None if account else {"name": data["account_name"].strip()},
                opportunity_fields={"name": data["opportunity_name"]},
                acting_user=request.user,
                source=Source.PAGE,
            )
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"account.name": "account_name"})
        else:
            messages.success(
                request,
                _("Converted: the account %(account)s and the opportunity %(opportunity)s.")
                % {
                    "account": conversion.account.name,
                    "opportunity": conversion.opportunity.name,
                },
            )
            return redirect("accounts:detail", pk=conversion.account.pk)
    return _detail(request, lead, convert=form, status=400)


app_name = "leads"
urlpatterns = [
    path("", lead_list, name="list"),
    path("new/", lead_new, name="new"),
    path("<int:pk>/", lead_detail, name="detail"),
    path("<int:pk>/preview/", lead_preview, name="preview"),
    path("<int:pk>/screen/", lead_screen, name="screen"),
    path("<int:pk>/convert/", lead_convert, name="convert"),
]
