import datetime as dt

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _

from kam.org.scoping import visible
from kam.sales import figures, insights
from kam.sales.models import Activity, Opportunity
from kam.web.i18n import in_language

# How far ahead My day looks for visits due, and how much advice it shows.
VISITS_AHEAD_DAYS = 7
TOP_RECOMMENDATIONS = 10
VISITS_ROWS = 50


@login_required
def home(request):
    """My day: visits due and overdue with their pretext, the coach's top advice over my
    open deals, my funnel, my forecast for the quarter against my target, and my
    10-5-3-1 ratios. Every number comes from ``kam.method`` through ``insights``."""
    user = request.user
    today = dt.date.today()
    recommendations = [
        {
            "severity": rec.severity,
            "message": rec.message,
            "evidence": rec.evidence,
            "rule_id": rec.rule_id,
            "section": rec.section,
            "deal_name": opp.name,
            "deal_url": reverse("opportunities:detail", args=[opp.pk]),
        }
        for rec, opp in insights.top_advice(user, today=today, limit=TOP_RECOMMENDATIONS)
    ]
    period = insights.current_quarter(today)
    funnel = insights.funnel_rows(user, today=today, owner=user)
    forecast = insights.forecast(user, period=period, today=today, owner=user)
    ratios = insights.ratios(user, owner=user)
    chart = {
        "funnel": [
            {"name": in_language(row.name), "count": row.count, "value": float(row.value)}
            for row in funnel
        ],
        "forecast": {
            "parts": [
                {"name": in_language(part.label), "value": float(part.amount)}
                for part in forecast.parts
            ],
            "target": float(forecast.target) if forecast.target is not None else None,
            "labels": {
                "forecast": _("Forecast"),
                "target": _("Target"),
                "count": _("Deals"),
                "value": _("Value"),
            },
        },
    }
    return render(
        request,
        "kam/home.html",
        {
            "today": today,
            "visits": _visits_due(user, today),
            "figures_updating": figures.updating(),
            "recommendations": recommendations,
            "funnel": funnel,
            "forecast": forecast,
            "period": period,
            "ratio_steps": [*ratios.steps, ratios.overall],
            "chart": chart,
        },
    )


def _visits_due(user, today: dt.date):
    """The next visits planned on my deals (or by me) up to a week ahead, overdue first.

    A planned visit counts as done once a later activity with the same account is logged.
    The query starts from my deals and my own activities (an owner-selective plan, see
    docs/performance.md), not from everything my teams may see.
    """
    later = Activity.objects.filter(account=OuterRef("account"), on__gt=OuterRef("on"))
    mine = Q(opportunity__in=Opportunity.objects.filter(owner=user).values("pk")) | Q(
        owner=user, opportunity__isnull=True
    )
    return (
        visible(user, Activity.objects.filter(mine))
        .filter(next_on__isnull=False, next_on__lte=today + dt.timedelta(days=VISITS_AHEAD_DAYS))
        .filter(~Exists(later))
        .select_related("account", "opportunity")
        .prefetch_related("contacts")
        .order_by("next_on", "pk")[:VISITS_ROWS]
    )


class SignInView(auth_views.LoginView):
    """Sign in with user name and password; a signed-in user is sent on to ``next``."""

    template_name = "kam/auth/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires) and say so on the sign-in page."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The session is gone; the message travels in the cookie storage.
        messages.info(request, _("You have signed out."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password; the session stays signed in and returns home."""

    template_name = "kam/auth/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response
