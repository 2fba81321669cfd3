"""The manager's funnel review (销售漏斗) and forecast (销售预计), METHOD.md §4.

One page: choose a rep, a team and a period; see count, value, weighted value and
age per stage, the stuck, overdue and forced deals, the off-funnel sales, the
forecast part by part against the target, 10-5-3-1, and (for a team) one
forecast per rep. The same figures download as an XLSX workbook.

Managers and admins choose whose figures to see among what they may see; a rep
sees their own only. Every figure comes from ``kam.sales.insights`` and
``kam.method``; this module gathers, checks access and renders.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.exports.files import XLSX_CONTENT_TYPE, xlsx_cell
from kam.method import funnel as method_funnel
from kam.method.types import Period
from kam.org.models import CompanySettings, Membership, Team
from kam.org.scoping import managed_team_ids, visible
from kam.sales import figures as stored_figures
from kam.sales import insights
from kam.sales.models import OffFunnelOrder
from kam.web.i18n import in_language, person_name

# Off-funnel orders listed on the page; the forecast counts them all.
OFF_FUNNEL_ROWS = 50
# Deals listed under each heading of "deals to look at"; the heading counts them all.
ATTENTION_ROWS = 20


def quarter_label(today: dt.date, *, fiscal_start_month: int) -> str:
    """The name ``insights.parse_period`` reads as the fiscal quarter holding ``today``
    (a fiscal year is named after the calendar year it starts in)."""
    year = today.year if today.month >= fiscal_start_month else today.year - 1
    quarter = (today.month - fiscal_start_month) % 12 // 3 + 1
    return f"{year}-Q{quarter}"


def is_manager(user) -> bool:
    """Admins and the managers of at least one team choose whose funnel to see."""
    return user.is_superuser or bool(managed_team_ids(user))


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_name(obj)


class FunnelFilterForm(forms.Form):
    """Whose funnel and which period; read from the query string (GET)."""

    owner = _PersonChoice(
        label=gettext_lazy("Sales rep"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=gettext_lazy("Everyone I see"),
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=gettext_lazy("All my teams"),
    )
    period = forms.CharField(
        label=gettext_lazy("Period"),
        required=False,
        max_length=10,
        help_text=gettext_lazy("2026, 2026-Q4, 2026-H1 or 2026-03; empty for this quarter."),
    )

    def __init__(self, data, *, user, fiscal_start_month: int, today: dt.date):
        super().__init__(data)
        self.user, self.fiscal_start_month, self.today = user, fiscal_start_month, today
        self.chooses = is_manager(user)
        if self.chooses:
            people = get_user_model().objects.filter(is_active=True, memberships__isnull=False)
            self.fields["owner"].queryset = (
                visible(user, people).distinct().order_by("last_name", "first_name", "username")
            )
            self.fields["team"].queryset = visible(user, Team.objects.all())
        else:
            # A rep reviews their own funnel: nothing to choose but the period.
            del self.fields["owner"]
            del self.fields["team"]
        self.fields["period"].widget.attrs["placeholder"] = self.current_label()

    def current_label(self) -> str:
        return quarter_label(self.today, fiscal_start_month=self.fiscal_start_month)

    def clean_period(self) -> Period:
        label = self.cleaned_data["period"].strip() or self.current_label()
        try:
            return insights.parse_period(label, fiscal_start_month=self.fiscal_start_month)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["period"]) from None

    def choice(self) -> tuple:
        """``(owner, team, period)`` to show: the valid choices, the defaults for the rest."""
        data = getattr(self, "cleaned_data", {})
        if not self.chooses:
            owner, team = self.user, None
        else:
            owner, team = data.get("owner"), data.get("team")
        period = data.get("period")
        if not isinstance(period, Period):
            period = insights.current_quarter(
                self.today, fiscal_start_month=self.fiscal_start_month
            )
        return owner, team, period


@dataclass(frozen=True)
class RepRow:
    """One rep's forecast in a team's table."""

    user: object
    forecast: method_funnel.Forecast


def review(user, *, owner, team, period: Period, today: dt.date) -> dict:
    """Every figure of the funnel review, for the page and the workbook alike: sums
    and counts by the database over the stored figures, and the first
    ``ATTENTION_ROWS`` deals of each list to look at."""
    method = CompanySettings.load().to_method()
    orders = insights.narrowed(
        visible(user, OffFunnelOrder.objects.filter(on__range=(period.start, period.end))),
        owner=owner,
        team=team,
    ).select_related("account", "owner")
    people = []
    if owner is None and is_manager(user):
        members = visible(user, Membership.objects.filter(role=Membership.Role.REP)).select_related(
            "user"
        )
        if team is not None:
            members = members.filter(team=team)
        people = {m.user_id: m.user for m in members if m.user.is_active}
        people = sorted(people.values(), key=lambda u: (person_name(u), u.pk))
    forecast, forecasts = insights.forecast_with_reps(
        user, period=period, today=today, owner=owner, team=team, reps=people
    )
    reps = [RepRow(p, forecasts[p.pk]) for p in people]
    stages, conversion = insights.funnel_and_conversion(user, today=today, owner=owner, team=team)
    attention = {
        kind: insights.flagged(user, kind, owner=owner, team=team, limit=ATTENTION_ROWS)
        for kind in ("stuck", "overdue", "forced")
    }
    return {
        "period": period,
        "owner": owner,
        "team": team,
        "stages": stages,
        **{kind: rows for kind, (rows, _total) in attention.items()},
        "attention_totals": {kind: total for kind, (_rows, total) in attention.items()},
        "forecast": forecast,
        "off_funnel_orders": list(orders[:OFF_FUNNEL_ROWS]),
        "off_funnel_more": orders.count() > OFF_FUNNEL_ROWS,
        "ratios": insights.ratios(user, owner=owner, team=team),
        "conversion": conversion,
        "reps": reps,
        "process": method.process,
        "currency": CompanySettings.load().currency,
    }


def _chart_data(figures: dict) -> dict:
    """What ``funnel.js`` draws: the funnel by stage and the forecast's stacked parts."""
    forecast = figures["forecast"]
    bars = [(person_name(r.user), r.forecast) for r in figures["reps"]] or [
        (_("Forecast"), forecast)
    ]
    return {
        "funnel": [
            {
                "name": in_language(row.name),
                "value": row.count,
                "amount": float(row.value),
            }
            for row in figures["stages"]
        ],
        "forecast": {
            "categories": [name for name, _f in bars],
            "parts": [
                {
                    "name": in_language(part.label),
                    "values": [float(f.parts[i].amount) for _n, f in bars],
                }
                for i, part in enumerate(forecast.parts)
            ],
            "target": {
                "name": _("Target"),
                "values": [float(f.target) if f.target is not None else None for _n, f in bars],
            },
        },
        "labels": {"count": _("Deals"), "amount": _("Value")},
    }


def _filter_form(request):
    company = CompanySettings.load()
    return FunnelFilterForm(
        request.GET or None,
        user=request.user,
        fiscal_start_month=company.fiscal_year_start_month,
        today=timezone.localdate(),
    )


@login_required
def index(request):
    """The funnel and forecast page; invalid choices are shown on their field and the
    page falls back to the defaults for them."""
    form = _filter_form(request)
    if form.is_bound:
        form.is_valid()
    owner, team, period = form.choice()
    figures = review(request.user, owner=owner, team=team, period=period, today=form.today)
    query = request.GET.urlencode()
    return render(
        request,
        "kam/funnel/index.html",
        {
            "form": form,
            **figures,
            "chart": _chart_data(figures),
            "export_query": query,
            "period_label": request.GET.get("period", ""),
            "attention": [
                (key, title, figures[key], figures["attention_totals"][key])
                for key, title in (
                    ("stuck", _("Stuck in their stage")),
                    ("overdue", _("Past their expected close")),
                    ("forced", _("Advanced without their key nodes")),
                )
            ],
            "ratio_steps": (*figures["ratios"].steps, figures["ratios"].overall),
            "off_funnel_limit": OFF_FUNNEL_ROWS,
            "figures_updating": stored_figures.updating(),
        },
    )


# ---------------------------------------------------------------------------
# The workbook
# ---------------------------------------------------------------------------


def _rows_of(figures: dict) -> dict[str, list[list]]:
    """The workbook's sheets as rows, headers first."""
    forecast = figures["forecast"]
    sheets = {
        _("Funnel"): [
            [
                _("Stage"),
                _("Deals"),
                _("Value"),
                _("Weighted value"),
                _("Average days in stage"),
                _("Most days in stage"),
            ]
        ]
        + [
            [
                in_language(r.name),
                r.count,
                r.value,
                r.weighted_value,
                r.average_age_days,
                r.max_age_days,
            ]
            for r in figures["stages"]
        ],
        _("Forecast"): [[_("Part"), _("Amount")]]
        + [[in_language(p.label), p.amount] for p in forecast.parts]
        + [
            [in_language(forecast.total.label), forecast.total.amount],
            [_("Target"), forecast.target],
            [_("Progress"), forecast.progress],
            [_("Expected progress"), forecast.expected_progress],
        ],
        _("Deals to look at"): [[_("Opportunity"), _("Account"), _("Owner"), _("Why")]]
        + [
            [
                v.opportunity.name,
                v.opportunity.account.name,
                person_name(v.opportunity.owner),
                in_language(item.reason),
            ]
            for key in ("stuck", "overdue", "forced")
            for item in figures[key]
            for v in (item.view,)
        ],
        _("Off-funnel sales"): [[_("Date"), _("Account"), _("Owner"), _("Amount"), _("Note")]]
        + [
            [o.on, o.account.name, person_name(o.owner), o.amount, o.note]
            for o in figures["off_funnel_orders"]
        ],
        _("10-5-3-1"): [[_("Step"), _("From"), _("To"), _("Actual"), _("Rule")]]
        + [
            [in_language(s.label), s.from_count, s.to_count, s.actual, s.expected]
            for s in (*figures["ratios"].steps, figures["ratios"].overall)
        ],
    }
    if figures["reps"]:
        sheets[_("Reps")] = [
            [_("Sales rep")]
            + [in_language(p.label) for p in forecast.parts]
            + [in_language(forecast.total.label), _("Target"), _("Progress")]
        ] + [
            [person_name(r.user)]
            + [p.amount for p in r.forecast.parts]
            + [r.forecast.total.amount, r.forecast.target, r.forecast.progress]
            for r in figures["reps"]
        ]
    return sheets


@login_required
def export(request):
    """The page's figures as an XLSX workbook, one sheet per table."""
    form = _filter_form(request)
    if form.is_bound:
        form.is_valid()
    owner, team, period = form.choice()
    figures = review(request.user, owner=owner, team=team, period=period, today=form.today)
    content = write_workbook(_rows_of(figures))
    response = HttpResponse(
        content,
        content_type=XLSX_CONTENT_TYPE,
    )
    name = f"kam-funnel-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def write_workbook(sheets: dict[str, list[list]]) -> bytes:
    """An XLSX workbook of ``{sheet title: rows}``, written row by row (openpyxl's
    write-only mode), each cell through ``kam.exports.files.xlsx_cell``: text a
    spreadsheet would run as a formula gets a leading quote.

    ``kam.exports.files.write_xlsx`` writes one sheet of records; the review
    needs several sheets of figures, hence this small writer beside it.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title=title[:31])
        for row in rows:
            sheet.append([xlsx_cell(v) for v in row])
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


app_name = "funnel"
urlpatterns = [
    path("", index, name="index"),
    path("export.xlsx", export, name="export"),
]
