"""``kam forecast --user USERNAME [--period 2026-Q4]``: the forecast part by part,
as ``kam.sales.insights.forecast`` gives it to the pages and the API."""

import json
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kam.cli import ERROR
from kam.org.models import CompanySettings, Team
from kam.org.scoping import visible
from kam.sales import insights

CENT = Decimal("0.01")
PARTS = ("won", "off_funnel", "weighted_open", "off_funnel_run_rate")


class Command(BaseCommand):
    help = (
        "Print the forecast of a period for what a user may see: won, off_funnel, "
        "weighted_open and off_funnel_run_rate, which add up to forecast, then target and "
        "progress ((won + off_funnel) / target). --json prints one JSON object, amounts as "
        f"strings. Exit status: 0 done, {ERROR} refused (unknown user, owner, team or period)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username whose view is forecast")
        parser.add_argument(
            "--period",
            help="2026, 2026-Q4, 2026-H1 or 2026-03, in fiscal terms "
            "(default: the current fiscal quarter)",
        )
        parser.add_argument("--owner", help="only this owner's deals and orders (username)")
        parser.add_argument("--team", help="only this team's deals and orders (name)")
        parser.add_argument("--json", action="store_true", help="print JSON for machines")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of the labels (default: the site's)",
        )

    def handle(self, *args, **opts):
        with translation.override(opts["language"] or settings.LANGUAGE_CODE):
            self._forecast(opts)

    def _forecast(self, opts):
        users = get_user_model().objects
        user = users.filter(username=opts["user"], is_active=True).first()
        if user is None:
            raise CommandError(
                _("--user %(name)s: no such active user") % {"name": opts["user"]}, returncode=ERROR
            )
        # Owner and team come from the user's scope: another team's target stays theirs.
        owner = team = None
        if opts["owner"]:
            owner = visible(user, users.all()).filter(username=opts["owner"]).first()
            if owner is None:
                raise CommandError(
                    _("--owner %(name)s: no such user among yours.") % {"name": opts["owner"]},
                    returncode=ERROR,
                )
        if opts["team"]:
            team = visible(user, Team.objects.all()).filter(name=opts["team"]).first()
            if team is None:
                raise CommandError(
                    _("--team %(name)s: no such team among yours.") % {"name": opts["team"]},
                    returncode=ERROR,
                )
        fiscal = CompanySettings.load().fiscal_year_start_month
        today = timezone.localdate()
        try:
            period = (
                insights.parse_period(opts["period"], fiscal_start_month=fiscal)
                if opts["period"]
                else insights.current_quarter(today, fiscal_start_month=fiscal)
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages), returncode=ERROR) from None
        result = insights.forecast(user, period=period, today=today, owner=owner, team=team)
        if opts["json"]:
            self.stdout.write(json.dumps(as_json(result, today), ensure_ascii=False, indent=2))
        else:
            for line in as_text(result, translation.get_language()):
                self.stdout.write(line)


def as_json(result, today) -> dict:
    """The forecast as JSON-safe values: amounts as strings, ratios as numbers."""
    return {
        "period": {"start": result.period.start.isoformat(), "end": result.period.end.isoformat()},
        "today": today.isoformat(),
        **{name: str(getattr(result, name).amount) for name in PARTS},
        "forecast": str(result.total.amount),
        "target": None if result.target is None else str(result.target.quantize(CENT)),
        "progress": result.progress,
        "expected_progress": result.expected_progress,
    }


def as_text(result, language: str) -> list[str]:
    """The forecast as aligned lines: name, amount, label in the language."""
    rows = [(name, getattr(result, name)) for name in PARTS]
    rows.append(("forecast", result.total))
    lines = [
        _("Forecast %(start)s – %(end)s")
        % {"start": result.period.start.isoformat(), "end": result.period.end.isoformat()}
    ]
    amounts = [f"{part.amount:,.2f}" for _name, part in rows]
    width = max(len(a) for a in amounts)
    for (name, part), amount in zip(rows, amounts, strict=True):
        if name == "forecast":
            lines.append(f"{'':20}  {'-' * width}")
        lines.append(f"{name:20}  {amount:>{width}}  {part.label.get(language)}")
    target = "—" if result.target is None else f"{result.target:,.2f}"
    progress = "—" if result.progress is None else f"{result.progress:.0%}"
    lines.append(f"{'target':20}  {target:>{width}}")
    lines.append(f"{'progress':20}  {progress:>{width}}")
    return lines
