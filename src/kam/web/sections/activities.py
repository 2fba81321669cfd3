"""Pages of the activities section (METHOD.md §5: "relationships are walked out"):
log a visit, call, meeting, site visit, entertainment or gift with its cost, people,
notes, next step and the pretext and date of the next visit; the agenda of the
coming visits, overdue ones first (``kam.method.agenda``); the list with filters.
"""

from collections import defaultdict
from dataclasses import replace

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import redirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.history.record import Source
from kam.method import agenda
from kam.method.types import VISIT_KINDS
from kam.org.scoping import visible
from kam.sales import actions
from kam.sales.models import (
    Account,
    Activity,
    ActivityKind,
    Contact,
    Opportunity,
    activity_to_method,
)
from kam.web.i18n import person_name
from kam.web.pagination import paginate
from kam.web.sections.accounts import (
    apply_errors,
    page_or_fragment,
    today,
    visible_users,
)


class ActivityFilter(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), required=False, choices=[("", "—"), *ActivityKind.choices]
    )
    account = forms.ModelChoiceField(
        label=gettext_lazy("Account"), required=False, queryset=Account.objects.none()
    )
    owner = forms.ModelChoiceField(label=gettext_lazy("Owner"), required=False, queryset=None)
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = visible(user, Account.objects.all())
        self.fields["owner"].queryset = visible_users(user)
        self.fields["owner"].label_from_instance = person_name

    def apply(self, activities):
        if not self.is_valid():
            return activities
        data = self.cleaned_data
        for name in ("kind", "account", "owner"):
            if data.get(name):
                activities = activities.filter(**{name: data[name]})
        if data.get("start"):
            activities = activities.filter(on__gte=data["start"])
        if data.get("end"):
            activities = activities.filter(on__lte=data["end"])
        return activities


class ActivityForm(forms.Form):
    """What happened, with whom, at what cost, and the next step and visit."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ActivityKind.choices)
    on = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    account = forms.ModelChoiceField(label=gettext_lazy("Account"), queryset=None)
    opportunity = forms.ModelChoiceField(
        label=gettext_lazy("Opportunity"), queryset=None, required=False
    )
    contacts = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Contacts met"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    participants = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Our participants"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    cost = forms.DecimalField(
        label=gettext_lazy("Cost"), min_value=0, decimal_places=2, required=False
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_step = forms.CharField(
        label=gettext_lazy("Next step"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_pretext = forms.CharField(
        label=gettext_lazy("Pretext for the next visit"), required=False, max_length=200
    )
    next_on = forms.DateField(
        label=gettext_lazy("Next visit on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = visible(user, Account.objects.all())
        self.fields["opportunity"].queryset = visible(
            user, Opportunity.objects.filter(account__deleted_at__isnull=True)
        ).select_related("account")
        self.fields["opportunity"].label_from_instance = lambda o: f"{o.name} · {o.account.name}"
        self.fields["contacts"].queryset = visible(
            user, Contact.objects.filter(account__deleted_at__isnull=True)
        ).select_related("account")
        self.fields["contacts"].label_from_instance = lambda c: f"{c.name} · {c.account.name}"
        self.fields["participants"].queryset = visible_users(user)
        self.fields["participants"].label_from_instance = person_name


def _listed(user):
    return visible(user, Activity.objects.all()).select_related("account", "owner", "opportunity")


def _activities(user):
    return _listed(user).prefetch_related("contacts")


# The agenda shows the most urgent planned visits, at most this many; a few more are
# read as candidates in case ``agenda`` judges one of them kept after all.
COMING_VISITS_ROWS = 50
_SLACK = 10


def _open_plans(user, *, on):
    """The user's activities that promise a next visit not yet kept, in SQL.

    The same rule as ``kam.method.agenda.is_kept`` (which documents it; the two agree,
    tests/web/test_activities.py checks it): a promise is kept by a later visit (a
    visit kind, not after ``on``) of the same account that met one of the same people,
    or any such visit when the promise named nobody. The people met work at the
    account, so "the same account" only narrows the search for promises naming
    people; for those naming nobody it keeps the account's plan to the account, as
    the coach does. Later visits count when the user sees them, as on the page.
    """
    # The people a promise named: live contacts only, as ``activity.contacts`` reads.
    through = Activity.contacts.through.objects.filter(contact__deleted_at__isnull=True)
    later = visible(user, Activity.objects.all()).filter(
        account=OuterRef("account"),
        kind__in=VISIT_KINDS,
        on__gt=OuterRef("on"),
        on__lte=on,
    )
    same_people = later.filter(
        contacts__in=through.filter(activity=OuterRef(OuterRef("pk"))).values("contact")
    )
    names_people = through.filter(activity=OuterRef("pk"))
    return (
        visible(user, Activity.objects.all())
        .filter(account__deleted_at__isnull=True, next_on__isnull=False)
        .filter(~Exists(same_people), Exists(names_people) | ~Exists(later))
    )


def coming_visits(user, *, on, rows=COMING_VISITS_ROWS):
    """The plan of the coming visits the user sees, overdue first, with their records:
    the ``rows`` most urgent.

    The database picks the candidates (``_open_plans``, the most urgent first, a few
    more than ``rows``); ``agenda.planned_visits`` then judges and orders them against
    the later activities of their accounts only (one query, at most ``rows`` + slack
    accounts, from the earliest candidate on), each account on its own. Neither step
    reads every activity the user sees, and the query count does not grow with them.
    """
    candidates = list(
        _open_plans(user, on=on)
        .select_related("account", "owner", "opportunity")
        .prefetch_related("contacts")
        .order_by("next_on", "pk")[: rows + _SLACK]
    )
    if not candidates:
        return []
    by_id = {str(a.pk): a for a in candidates}
    # The evidence ``agenda`` reads: the visits of the candidates' accounts from the
    # earliest candidate on, up to today, that met one of the candidates' people (any
    # visit, on an account where a candidate named nobody).
    people = {c.pk for a in candidates for c in a.contacts.all()}
    nobody = {a.account_id for a in candidates if not a.contacts.all()}
    met = Activity.contacts.through.objects.filter(contact__in=people).values("activity")
    later = (
        visible(user, Activity.objects.all())
        .filter(
            account__in={a.account_id for a in candidates},
            kind__in=VISIT_KINDS,
            on__gte=min(a.on for a in candidates),
            on__lte=on,
        )
        .filter(Q(pk__in=met) | Q(account__in=nobody))
        .exclude(pk__in=[a.pk for a in candidates])
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.only("pk")))
    )
    per_account = defaultdict(list)
    for a in candidates:
        per_account[a.account_id].append(activity_to_method(a))
    for a in later:
        # Only the candidates are promises to judge here; the rest are the evidence.
        per_account[a.account_id].append(replace(activity_to_method(a), next_on=None))
    plan = [
        p
        for activities in per_account.values()
        for p in agenda.planned_visits(activities, today=on)
    ]
    plan.sort(key=lambda p: (not p.overdue, p.on, p.activity.id))
    return [{"visit": p, "activity": by_id[p.activity.id]} for p in plan[:rows]]


@login_required
def activity_list(request):
    """The agenda of coming visits, then the activities with filters."""
    flt = ActivityFilter(request.GET or None, user=request.user)
    pagination = paginate(
        request,
        flt.apply(_listed(request.user)).order_by("-on", "-pk"),
        prefetch=("contacts",),
    )
    context = {
        "filter": flt,
        "activities": pagination.rows,
        "pagination": pagination,
        "plan": coming_visits(request.user, on=today()),
    }
    return page_or_fragment(
        request, "kam/activities/list.html", "kam/activities/_table.html", context
    )


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@login_required
def activity_new(request):
    """Log an activity (``actions.log_activity``); ``?account=`` and ``?contact=``
    fill the form in advance."""
    user = request.user
    initial = {"on": today(), "kind": ActivityKind.VISIT}
    for name in ("account", "opportunity", "contact"):
        value = request.GET.get(name)
        if value and value.isdigit():
            initial["contacts" if name == "contact" else name] = (
                [int(value)] if name == "contact" else int(value)
            )
    if "contacts" in initial and "account" not in initial:
        contact = visible(user, Contact.objects.filter(pk=initial["contacts"][0])).first()
        if contact is not None:
            initial["account"] = contact.account_id
    form = ActivityForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.get("cost") is None:
            data.pop("cost")
        try:
            activity = actions.log_activity(acting_user=user, source=Source.PAGE, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The activity was logged."))
            next_url = _safe_next(request)
            if next_url:
                return redirect(next_url)
            return redirect("accounts:detail", pk=activity.account_id)
    status = 400 if form.is_bound else 200
    return page_or_fragment(
        request,
        "kam/activities/new.html",
        None,
        {"form": form, "next": _safe_next(request) or ""},
        status=status,
    )


app_name = "activities"
urlpatterns = [
    path("", activity_list, name="list"),
    path("new/", activity_new, name="new"),
]
