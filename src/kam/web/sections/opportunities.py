"""Pages of the opportunities section (issue 5): the list, the opportunity with its
six-stage path, and its buying center.

Views are adapters: they scope through ``kam.org.scoping``, read through
``kam.sales.insights`` and ``kam.method``, write through ``kam.sales.actions``.
One URL serves a page or, for an htmx request, its fragment.
"""

import contextlib
import datetime as dt
from dataclasses import dataclass, replace

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kam.history.record import Source
from kam.method import buying_center, probability, process, whole_brain
from kam.method.types import Evidence, MethodError, Quadrant, Role
from kam.org.models import CompanySettings, Team
from kam.org.scoping import get_visible_or_404, may_see_insider, visible
from kam.sales import actions, figures, insights
from kam.sales.models import (
    Activity,
    Attitude,
    BuyingCenterEntry,
    Contact,
    Grade,
    Influence,
    Opportunity,
    Outcome,
    Stage,
    Strength,
    opportunity_to_deal,
)
from kam.web.i18n import in_language
from kam.web.pagination import paginate

app_name = "opportunities"

RECENT_ACTIVITIES = 10


# ---------------------------------------------------------------------------
# Forms
# ---------------------------------------------------------------------------


class OpportunityFilter(forms.Form):
    """The list's filters; every field is optional and an empty form lists everything."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False)
    stage = forms.TypedChoiceField(
        label=gettext_lazy("Stage"),
        choices=[("", "—"), *Stage.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"), choices=[("", "—"), *Outcome.choices], required=False
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"), queryset=Team.objects.none(), required=False
    )
    grade = forms.ChoiceField(
        label=gettext_lazy("Grade"), choices=[("", "—"), *Grade.choices], required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = visible(user, get_user_model().objects.order_by("username"))
        self.fields["team"].queryset = visible(user, Team.objects.order_by("name"))

    def filter(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            words = data["q"].strip()
            queryset = queryset.filter(
                Q(name__icontains=words)
                | Q(account__name__icontains=words)
                | Q(competitors__icontains=words)
            )
        if data["stage"]:
            queryset = queryset.filter(stage=data["stage"])
        if data["outcome"]:
            queryset = queryset.filter(outcome=data["outcome"])
        if data["grade"]:
            queryset = queryset.filter(grade=data["grade"])
        return insights.narrowed(queryset, owner=data["owner"], team=data["team"])


class EvidenceForm(forms.Form):
    """Evidence that the customer reached one key node."""

    node = forms.ChoiceField(label=gettext_lazy("Key node"))
    on = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, nodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = nodes


class AdvanceForm(forms.Form):
    """Move the deal to the next stage; a forced move carries its reason."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    force_reason = forms.CharField(
        label=gettext_lazy("Why move on without the key nodes?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CloseForm(forms.Form):
    """Close the deal as lost or abandoned, with the reason."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=gettext_lazy("Close as"),
        choices=[(Outcome.LOST, Outcome.LOST.label), (Outcome.ABANDONED, Outcome.ABANDONED.label)],
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


ROLE_CHOICES = [
    (role.value, gettext_lazy(label))
    for role, label in (
        (Role.DECISION_MAKER, "decision maker"),
        (Role.TECHNICAL, "technical person"),
        (Role.PURCHASER, "purchaser / finance"),
        (Role.USER, "user"),
    )
]


class EntryForm(forms.Form):
    """One person's place in the buying center. ``contact`` is asked only when adding;
    ``insider`` only from those who may learn who the insider is."""

    contact = forms.ModelChoiceField(label=gettext_lazy("Contact"), queryset=Contact.objects.none())
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles in this deal"),
        choices=ROLE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    influence = forms.TypedChoiceField(
        label=gettext_lazy("Influence"), choices=Influence.choices, coerce=int
    )
    attitude = forms.ChoiceField(label=gettext_lazy("Attitude"), choices=Attitude.choices)
    strength = forms.TypedChoiceField(
        label=gettext_lazy("Relationship strength"), choices=Strength.choices, coerce=int
    )
    insider = forms.BooleanField(label=gettext_lazy("Insider"), required=False)

    def __init__(self, *args, user, opportunity, entry=None, show_insider=True, **kwargs):
        if entry is not None and not args and "data" not in kwargs:
            kwargs.setdefault(
                "initial",
                {
                    "roles": [r.value for r in entry.roles],
                    "influence": entry.influence,
                    "attitude": entry.attitude,
                    "strength": entry.strength,
                    "insider": entry.insider,
                },
            )
        prefix = f"person-{entry.contact_id}" if entry is not None else "add"
        super().__init__(*args, prefix=prefix, **kwargs)
        self.entry = entry
        if entry is not None:
            del self.fields["contact"]
        else:
            # Any contact the user sees is accepted here, so that the action itself
            # refuses one from another account; the list offers the account's own.
            self.fields["contact"].queryset = visible(user, Contact.objects.all())
            mapped = {e.contact_id for e in opportunity.buying_center.all()}
            self.fields["contact"].widget.choices = [("", "—")] + [
                (c.pk, f"{c.name} · {c.title}" if c.title else c.name)
                for c in opportunity.account.contacts.all()
                if c.pk not in mapped
            ]
        if not show_insider:
            del self.fields["insider"]


def _add_errors(form, exc: ValidationError) -> None:
    """An action's errors beside the fields they name; the rest above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# ---------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------


@login_required
def opportunity_list(request):
    """The deals the user may see, filtered and searched, with stage, amount, close
    date and the adjusted probability."""
    form = OpportunityFilter(request.GET or None, user=request.user)
    method = CompanySettings.load().to_method()
    # The page's ids first (a COUNT and one query of ids), then the deals of that page
    # only: what ``deal_views`` loads and prefetches is bounded by the page.
    listed = (
        visible(request.user, form.filter(Opportunity.objects.all()))
        .filter(account__deleted_at__isnull=True)
        .order_by("expected_close", "name", "pk")
        .values_list("pk", flat=True)
    )
    pagination = paginate(request, listed)
    ids = pagination.rows
    order = {pk: i for i, pk in enumerate(ids)}
    views = sorted(
        insights.deal_views(request.user, Opportunity.objects.filter(pk__in=ids)) if ids else [],
        key=lambda v: order[v.opportunity.pk],
    )
    context = {
        "form": form,
        "views": views,
        "pagination": pagination,
        "stages": method.process,
        "figures_updating": figures.updating(),
    }
    if request.headers.get("HX-Request"):
        return render(request, "kam/opportunities/_results.html", context)
    return render(request, "kam/opportunities/list.html", context)


# ---------------------------------------------------------------------------
# The opportunity
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeRow:
    node: object  # process.KeyNode
    evidence: object | None  # KeyNodeEvidence


@dataclass(frozen=True)
class StageRow:
    definition: object  # process.StageDefinition
    nodes: tuple[NodeRow, ...]
    current: bool
    passed: bool
    customer_here: bool


def _load(request, pk):
    return get_visible_or_404(request.user, insights.opportunities(request.user), pk=pk)


def _probability(deal, method) -> probability.Probability:
    return probability.probability(
        deal,
        process_settings=method.process,
        buying_center_settings=method.buying_center,
        settings=method.probability,
    )


def _forced_preview(deal, gate, method, user, today):
    """The probability now, at the next stage reached with its key nodes, and at the
    next stage forced without them: the method run on the deal as it would be.
    ``None`` when the gate allows the move or the deal cannot move."""
    if gate is None or gate.allowed or not deal.is_open:
        return None
    on = max(today, deal.stage_entered_on or today)
    by = user.get_username()
    evidenced = replace(
        deal, evidence=deal.evidence + tuple(Evidence(n.id, by, on) for n in gate.missing)
    )
    try:
        forced = process.advance(
            deal, on=on, by=by, force_reason="preview", settings=method.process
        )
        through = process.advance(evidenced, on=on, by=by, settings=method.process)
    except MethodError:
        return None
    return {
        "before": _probability(deal, method).value,
        "through": _probability(through.deal, method).value,
        "after": _probability(forced.deal, method).value,
    }


def _detail_context(request, opp, *, evidence_form=None, advance_form=None, close_form=None):
    method = CompanySettings.load().to_method()
    today = dt.date.today()
    deal = opportunity_to_deal(opp)
    gate = None
    if deal.is_open and deal.stage < 6:
        gate = process.gate(deal, settings=method.process)
    step = process.customer_step(deal, settings=method.process)
    evidence = {e.node: e for e in opp.evidence.all()}
    stages = [
        StageRow(
            definition=d,
            nodes=tuple(NodeRow(n, evidence.get(n.id)) for n in d.key_nodes),
            current=d.stage == deal.stage,
            passed=d.stage < deal.stage,
            customer_here=d.stage == step,
        )
        for d in method.process.stages
    ]
    open_nodes = [
        (n.id, f"{int(d.stage)} · {in_language(n.label)}")
        for d in method.process.stages
        for n in d.key_nodes
        if n.id not in evidence
    ]
    activities = (
        visible(request.user, Activity.objects.filter(opportunity=opp))
        .select_related("owner")
        .prefetch_related("contacts")
        .order_by("-on", "-pk")[:RECENT_ACTIVITIES]
    )
    recommendations = insights.coach_deals(request.user, [opp], today=today)[opp.pk]
    return {
        "opportunity": opp,
        "deal": deal,
        "stages": stages,
        "gate": gate,
        "customer_step": step,
        "drift": process.stage_drift(deal, settings=method.process),
        "probability": _probability(deal, method),
        "forced": _forced_preview(deal, gate, method, request.user, today),
        "competitors": deal.competitors,
        "recommendations": recommendations,
        "activities": activities,
        "evidence_form": evidence_form
        or EvidenceForm(nodes=open_nodes, initial={"on": today.isoformat()}),
        "advance_form": advance_form or AdvanceForm(initial={"expected_version": opp.version}),
        "close_form": close_form or CloseForm(initial={"expected_version": opp.version}),
        "can_record": bool(open_nodes) and deal.is_open,
    }


def _detail(request, opp, status=200, **forms_):
    context = _detail_context(request, opp, **forms_)
    template = "kam/opportunities/detail.html"
    if request.headers.get("HX-Request"):
        template = "kam/opportunities/_detail.html"
    return render(request, template, context, status=status)


@login_required
def opportunity_detail(request, pk):
    """The six-stage path with key nodes and evidence, the gate, the probability with
    its factors, the coach's advice and the recent activities."""
    return _detail(request, _load(request, pk))


def _stale(form, exc: actions.StaleRecord) -> None:
    for change in exc.changes_since:
        form.add_error(
            None,
            _("Since you opened the page: %(field)s changed from “%(old)s” to “%(new)s”.")
            % {"field": change.field, "old": change.old, "new": change.new},
        )


@login_required
@require_POST
def record_evidence(request, pk):
    """Record the evidence of one key node."""
    opp = _load(request, pk)
    deal = opportunity_to_deal(opp)
    method = CompanySettings.load().to_method()
    nodes = [(n.id, in_language(n.label)) for d in method.process.stages for n in d.key_nodes]
    form = EvidenceForm(request.POST, nodes=nodes)
    if form.is_valid():
        try:
            actions.record_evidence(
                opp,
                node=form.cleaned_data["node"],
                on=form.cleaned_data["on"],
                note=form.cleaned_data["note"],
                acting_user=request.user,
                source=Source.PAGE,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The evidence is recorded."))
            return redirect("opportunities:detail", pk=opp.pk)
    form.fields["node"].choices = [
        (node_id, label) for node_id, label in nodes if node_id not in deal.evidenced_nodes
    ]
    return _detail(request, _load(request, pk), evidence_form=form)


@login_required
@require_POST
def advance(request, pk):
    """Move the deal on: through the gate, or forced past it with a reason."""
    opp = _load(request, pk)
    form = AdvanceForm(request.POST)
    if form.is_valid():
        forcing = "force" in request.POST
        try:
            actions.advance_stage(
                opp,
                force_reason=form.cleaned_data["force_reason"] if forcing else None,
                on=max(dt.date.today(), opp.stage_entered_on),
                acting_user=request.user,
                source=Source.PAGE,
                expected_version=form.cleaned_data["expected_version"],
            )
        except actions.StaleRecord as exc:
            _add_errors(form, exc)
            _stale(form, exc)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The deal moved to the next stage."))
            return redirect("opportunities:detail", pk=opp.pk)
    return _detail(request, _load(request, pk), advance_form=form)


@login_required
@require_POST
def close(request, pk):
    """Close the deal as lost or abandoned, with the reason."""
    opp = _load(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            actions.close_opportunity(
                opp,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
                on=max(dt.date.today(), opp.stage_entered_on),
                acting_user=request.user,
                source=Source.PAGE,
                expected_version=form.cleaned_data["expected_version"],
            )
        except actions.StaleRecord as exc:
            _add_errors(form, exc)
            _stale(form, exc)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The deal is closed."))
            return redirect("opportunities:detail", pk=opp.pk)
    return _detail(request, _load(request, pk), close_form=form)


# ---------------------------------------------------------------------------
# The buying center
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    entry: BuyingCenterEntry
    person: object  # kam.method.types.Person
    roles: tuple
    dominant: tuple
    form: EntryForm
    depth: int = 0


def _person_rows(request, opp, deal, method, show_insider, bound=None):
    people = {p.id: p for p in deal.people}
    depths = {}
    # A broken chart (a reporting cycle) still lists everyone, in the order recorded.
    with contextlib.suppress(MethodError):
        depths = dict(buying_center.org_chart(deal.people).walk())
    order = list(depths) or list(people)
    entries = {str(e.contact_id): e for e in opp.buying_center.all()}
    rows = []
    for person_id in order:
        entry = entries[person_id]
        person = people[person_id]
        form = EntryForm(user=request.user, opportunity=opp, entry=entry, show_insider=show_insider)
        if bound is not None and bound.entry.pk == entry.pk:
            form = bound
        dominant = ()
        if person.brain is not None:
            dominant = whole_brain.from_brain(person.brain).dominant
        rows.append(
            PersonRow(
                entry=entry,
                person=person,
                roles=tuple(buying_center.ROLE_LABELS[r] for r in Role if r in person.roles),
                dominant=tuple(
                    (q.value, method.whole_brain.label(q), method.whole_brain.animal(q))
                    for q in dominant
                ),
                form=form,
                depth=depths.get(person_id, 0),
            )
        )
    return rows


def _chart_data(rows, show_insider):
    """The org chart as ECharts tree data (names, roles; the insider only when allowed)."""
    nodes = {
        row.person.id: {
            "name": row.person.name,
            "value": " / ".join(in_language(r) for r in row.roles),
            "insider": bool(show_insider and row.person.insider),
            "children": [],
        }
        for row in rows
    }
    roots = []
    for row in rows:
        manager = row.person.reports_to
        (nodes[manager]["children"] if manager in nodes else roots).append(nodes[row.person.id])
    return {"name": "", "children": roots} if len(roots) != 1 else roots[0]


def _buying_center_context(request, opp, *, add_form=None, bound=None):
    method = CompanySettings.load().to_method()
    deal = opportunity_to_deal(opp)
    show_insider = may_see_insider(request.user, opp)
    rows = _person_rows(request, opp, deal, method, show_insider, bound)
    cov = buying_center.coverage(
        deal.people, collective_decision=deal.collective_decision, settings=method.buying_center
    )
    combined = whole_brain.combined_profile(deal.people, settings=method.whole_brain)
    today = dt.date.today()
    advice = insights.coach_deals(request.user, [opp], today=today)[opp.pk]
    names = {p.id: p.name for p in deal.people}
    quadrants = [
        {
            "name": f"{q.value} {in_language(method.whole_brain.label(q))}",
            "group": round(combined.group.of(q), 1),
            "decision_makers": round(combined.decision_makers.of(q), 1),
        }
        for q in Quadrant
    ]
    return {
        "opportunity": opp,
        "deal": deal,
        "rows": rows,
        "show_insider": show_insider,
        "has_insider": cov.has_insider,
        "coverage": [
            {
                "role": buying_center.ROLE_LABELS[rc.role],
                "holders": [names[i] for i in rc.holders],
                "covered_by": [names[i] for i in rc.covered_by],
                "opponents": [names[i] for i in rc.opponents],
                "mapped": rc.mapped,
                "covered": rc.covered,
            }
            for rc in cov.roles
        ],
        "findings": cov.findings,
        "progress": buying_center.key_person_progress(
            deal.people,
            collective_decision=deal.collective_decision,
            settings=method.buying_center,
        ),
        "combined": combined,
        "quadrants": quadrants,
        "warnings": [r for r in advice if r.rule_id.startswith(("BC-", "WB-"))],
        "chart": {
            "tree": _chart_data(rows, show_insider),
            "radar": quadrants,
            "labels": {
                "group": _("Buying center"),
                "decision_makers": _("Decision makers"),
                "insider": _("insider"),
            },
        },
        "add_form": add_form
        or EntryForm(user=request.user, opportunity=opp, show_insider=show_insider),
    }


def _buying_center(request, opp, status=200, **kwargs):
    return render(
        request,
        "kam/opportunities/buying_center.html",
        _buying_center_context(request, opp, **kwargs),
        status=status,
    )


@login_required
def buying_center_page(request, pk):
    """The org chart, each person's roles and relationship, the role coverage, the
    six key-person steps, the combined whole-brain picture and the coach's warnings."""
    return _buying_center(request, _load(request, pk))


@login_required
@require_POST
def buying_center_entry(request, pk, contact_pk=None):
    """Add a contact to the buying center (``contact_pk`` empty) or change a person's
    entry; an htmx request gets the person's row back, others the page."""
    opp = _load(request, pk)
    show_insider = may_see_insider(request.user, opp)
    entry = None
    if contact_pk is not None:
        entry = next((e for e in opp.buying_center.all() if e.contact_id == contact_pk), None)
        if entry is None:
            raise Http404("This person is not in the buying center.")
    form = EntryForm(
        request.POST, user=request.user, opportunity=opp, entry=entry, show_insider=show_insider
    )
    if form.is_valid():
        data = form.cleaned_data
        contact = data["contact"] if entry is None else entry.contact
        # Someone who may not learn who the insider is cannot change it either.
        insider = data["insider"] if show_insider else (entry.insider if entry else False)
        try:
            actions.set_buying_center_entry(
                opp,
                contact,
                roles=data["roles"],
                influence=data["influence"],
                attitude=data["attitude"],
                strength=data["strength"],
                insider=insider,
                acting_user=request.user,
                source=Source.PAGE,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if request.headers.get("HX-Request") and entry is not None:
                return _row(request, _load(request, pk), contact_pk, show_insider)
            messages.success(request, _("The buying center is updated."))
            return redirect("opportunities:buying_center", pk=opp.pk)
    if request.headers.get("HX-Request") and entry is not None:
        return _row(request, opp, contact_pk, show_insider, bound=form)
    if entry is None:
        return _buying_center(request, opp, add_form=form)
    return _buying_center(request, opp, bound=form)


def _row(request, opp, contact_pk, show_insider, bound=None):
    method = CompanySettings.load().to_method()
    deal = opportunity_to_deal(opp)
    rows = _person_rows(request, opp, deal, method, show_insider, bound)
    row = next(r for r in rows if r.entry.contact_id == contact_pk)
    return render(
        request,
        "kam/opportunities/_person.html",
        {
            "row": row,
            "opportunity": opp,
            "show_insider": show_insider,
            "open": bound is not None,
            "saved": bound is None,
        },
    )


urlpatterns = [
    path("", opportunity_list, name="list"),
    path("<int:pk>/", opportunity_detail, name="detail"),
    path("<int:pk>/evidence/", record_evidence, name="evidence"),
    path("<int:pk>/advance/", advance, name="advance"),
    path("<int:pk>/close/", close, name="close"),
    path("<int:pk>/buying-center/", buying_center_page, name="buying_center"),
    path("<int:pk>/buying-center/people/", buying_center_entry, name="add_person"),
    path(
        "<int:pk>/buying-center/people/<int:contact_pk>/",
        buying_center_entry,
        name="person",
    ),
]
