"""Pages of the activities section (METHOD.md §5: "relationships are walked out"):
log a visit, call, meeting, site visit, entertainment or gift with its cost, people,
notes, next step and the pretext and date of the next visit; the agenda of the
coming visits, overdue ones first (``kam.method.agenda``); the list with filters.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.history.record import Source
from kam.method import agenda
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


def coming_visits(user, *, on):
    """The plan of the coming visits the user sees, overdue first, with their records."""
    activities = list(
        _activities(user).filter(account__deleted_at__isnull=True).order_by("on", "pk")
    )
    by_id = {str(a.pk): a for a in activities}
    plan = agenda.planned_visits([activity_to_method(a) for a in activities], today=on)
    return [{"visit": p, "activity": by_id[p.activity.id]} for p in plan]


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
