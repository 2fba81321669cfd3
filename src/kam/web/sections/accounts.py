"""Pages of the accounts section (/customers/, METHOD.md §5-§7): the list with its
filters and search, the 20/80 view, the account page with its customer file,
relationship, trust-building actions, cost against revenue, contacts, deals,
off-funnel orders and timeline; and the contact page (/customers/contacts/<pk>/)
with roles across deals, the whole-brain questionnaire, visits and friendship.

Views are adapters: scope through ``kam.org.scoping``, compute through
``kam.method`` (via ``kam.sales.insights`` where it has the function), write
through ``kam.sales.actions`` with ``Source.PAGE``.
"""

import datetime as dt
import functools
import operator
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.history.record import Source, history_of_all
from kam.method import agenda, relationship, segmentation, whole_brain
from kam.method.types import Quadrant
from kam.org.models import CompanySettings, Team
from kam.org.scoping import get_visible_or_404, may_see_insider, visible
from kam.sales import actions, insights
from kam.sales.models import (
    Account,
    BuyingCenterEntry,
    Contact,
    Grade,
    Lifecycle,
    OffFunnelOrder,
    Opportunity,
    Outcome,
    RelationshipLevel,
    RelationshipType,
    Strength,
    activity_to_method,
    opportunity_to_deal,
)
from kam.web.i18n import in_language, person_name
from kam.web.pagination import paginate

# ---------------------------------------------------------------------------
# Shared by the sections of issue 5 that this package's modules import
# ---------------------------------------------------------------------------


def today() -> dt.date:
    return timezone.localdate()


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def page_or_fragment(request, page, fragment, context, *, status=200):
    """One view, two answers: the fragment for htmx, the whole page otherwise."""
    template = fragment if fragment and (is_htmx(request) or page is None) else page
    return render(request, template, context, status=status)


def apply_errors(form, exc: ValidationError, *, aliases=None) -> None:
    """Show an action's errors next to the form's fields (``aliases`` maps an action's
    field name to the form's, ``None`` for the top of the form)."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        target = aliases.get(name, name)
        if target == NON_FIELD_ERRORS or target not in form.fields:
            target = None
        form.add_error(target, errors)


def stale_changes(exc: actions.StaleRecord) -> list[dict]:
    """What others changed since the version the form started from, to show beside it."""
    model = type(exc.record)
    rows = []
    for change in exc.changes_since:
        try:
            label = model._meta.get_field(change.field).verbose_name
        except Exception:
            label = change.field
        rows.append(
            {
                "field": label,
                "old": change.old,
                "new": change.new,
                "user": person_name(change.user) if change.user else _("someone"),
                "at": change.at,
            }
        )
    return rows


def visible_users(user):
    return visible(user, get_user_model().objects.all()).order_by("username")


# ---------------------------------------------------------------------------
# Forms
# ---------------------------------------------------------------------------


class AccountFilter(forms.Form):
    """Filters and search of the account list (a GET form: links keep working)."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False)
    grade = forms.ChoiceField(
        label=gettext_lazy("Grade"), required=False, choices=[("", "—"), *Grade.choices]
    )
    industry = forms.ChoiceField(label=gettext_lazy("Industry"), required=False)
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"), required=False, queryset=get_user_model().objects.none()
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"), required=False, queryset=Team.objects.none()
    )
    relationship_type = forms.ChoiceField(
        label=gettext_lazy("Relationship type"),
        required=False,
        choices=[("", "—"), *RelationshipType.choices],
    )
    relationship_level = forms.TypedChoiceField(
        label=gettext_lazy("Relationship level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *RelationshipLevel.choices],
    )
    lifecycle = forms.ChoiceField(
        label=gettext_lazy("Lifecycle"), required=False, choices=[("", "—"), *Lifecycle.choices]
    )

    def __init__(self, *args, user, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        pairs = list(accounts.values_list("industry", "region").distinct().order_by())
        for name, index in (("industry", 0), ("region", 1)):
            values = sorted({p[index] for p in pairs if p[index]})
            self.fields[name].choices = [("", "—"), *((v, v) for v in values)]
        self.fields["owner"].queryset = visible_users(user)
        self.fields["owner"].label_from_instance = person_name
        self.fields["team"].queryset = visible(user, Team.objects.all())

    def apply(self, accounts):
        if not self.is_valid():
            return accounts
        data = self.cleaned_data
        for name in (
            "grade",
            "industry",
            "region",
            "owner",
            "team",
            "relationship_type",
            "lifecycle",
        ):
            if data.get(name):
                accounts = accounts.filter(**{name: data[name]})
        if data.get("relationship_level") is not None:
            accounts = accounts.filter(relationship_level=data["relationship_level"])
        if data.get("q"):
            words = data["q"].split()
            accounts = accounts.filter(
                functools.reduce(
                    operator.and_,
                    (
                        Q(name__icontains=w)
                        | Q(industry__icontains=w)
                        | Q(region__icontains=w)
                        | Q(traits__icontains=w)
                        for w in words
                    ),
                )
            )
        return accounts


class AccountForm(forms.ModelForm):
    """The account and its customer file (大客户档案, METHOD.md §7)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Account
        fields = (
            "name",
            "industry",
            "region",
            "scale",
            "ownership",
            "collective_decision",
            "traits",
            "grade",
            "lifecycle",
            "relationship_type",
            "relationship_level",
            "business",
            "innovation_goals",
            "products_in_use",
            "decision_process",
            "latent_needs",
            "funding_notes",
            "credit_notes",
            "team",
        )
        widgets = {  # noqa: RUF012 (Django reads Meta attributes)
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "business",
                "innovation_goals",
                "products_in_use",
                "decision_process",
                "latent_needs",
                "funding_notes",
                "credit_notes",
            )
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = visible(user, Team.objects.all())
        self.fields["team"].required = False
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def changes(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        if data.get("team") is None:
            data.pop("team", None)
        return data

    def _post_clean(self):
        # Validation is the action's (``full_clean`` inside ``create_record`` /
        # ``update_record``); the instance the page shows must stay as it is stored.
        pass


class TrustActionForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Trust-building action"))
    on = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            (a.id, in_language(a.label)) for a in relationship.TRUST_ACTIONS
        ]


class ContactForm(forms.ModelForm):
    """A new person at the account."""

    class Meta:
        model = Contact
        fields = ("name", "title", "department", "leadership_member", "phone", "email", "wechat")

    def _post_clean(self):
        pass  # the action validates


class QuestionnaireForm(forms.Form):
    """The habitual phrases heard (惯用语), ticked; grouped by quadrant on the page."""

    phrases = forms.MultipleChoiceField(
        label=gettext_lazy("Habitual phrases heard"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(p.id, p.id) for p in whole_brain.PHRASES],
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class FamiliarityForm(forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("Our person"), queryset=None)
    strength = forms.TypedChoiceField(
        label=gettext_lazy("Friendship level"), coerce=int, choices=Strength.choices
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = visible_users(user)
        self.fields["user"].label_from_instance = person_name
        self.fields["user"].initial = user.pk


class ReportsToForm(forms.Form):
    reports_to = forms.ModelChoiceField(
        label=gettext_lazy("Reports to"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=gettext_lazy("— nobody we know —"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, contact, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reports_to"].queryset = colleagues
        self.fields["reports_to"].label_from_instance = lambda c: (
            f"{c.name} · {c.title}" if c.title else c.name
        )


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------


def _accounts_for(user):
    return visible(user, Account.objects.all()).select_related("owner", "team")


def _accounts(request):
    return _accounts_for(request.user)


@login_required
def account_list(request):
    """Accounts with filters (grade, industry, region, owner, team, relationship type
    and level, lifecycle) and search."""
    accounts = _accounts(request)
    flt = AccountFilter(request.GET or None, user=request.user, accounts=accounts)
    pagination = paginate(request, flt.apply(accounts).order_by("name", "pk"))
    context = {"accounts": pagination.rows, "pagination": pagination, "filter": flt}
    return page_or_fragment(request, "kam/accounts/list.html", "kam/accounts/_table.html", context)


REVENUE = DecimalField(max_digits=20, decimal_places=2)


def _won_revenue_of_accounts(user):
    """The visible accounts, each with its won revenue (won deals plus off-funnel orders
    the user sees) computed in SQL: ``revenue``, ``rank`` and the ``cumulative`` revenue
    down the ranking, highest first (ties by name, as the list orders them)."""

    def total_of(queryset):
        sums = (
            visible(user, queryset.filter(account=OuterRef("pk")))
            .order_by()
            .values("account")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return Coalesce(
            Subquery(sums, output_field=REVENUE), Value(Decimal(0)), output_field=REVENUE
        )

    ranking = [F("revenue").desc(), F("name").asc(), F("pk").asc()]
    return (
        _accounts_for(user)
        .annotate(
            revenue=ExpressionWrapper(
                total_of(Opportunity.objects.filter(outcome=Outcome.WON))
                + total_of(OffFunnelOrder.objects.all()),
                output_field=REVENUE,
            )
        )
        .annotate(
            rank=Window(RowNumber(), order_by=ranking),
            cumulative=Window(Sum("revenue"), order_by=ranking, output_field=REVENUE),
        )
        .order_by(*ranking)
    )


@login_required
def account_pareto(request):
    """The 20/80 view: accounts ranked by won revenue with the cumulative share
    (the rule of ``kam.method.segmentation.pareto``, run in SQL so that a page loads
    only the accounts it shows: the total, the count of the vital few and the page's
    rows are three aggregate queries)."""
    ranked = _won_revenue_of_accounts(request.user)
    total_revenue = ranked.aggregate(total=Sum("revenue"))["total"] or Decimal(0)
    cutoff = segmentation.DEFAULT_CUTOFF
    # Vital: some revenue, and the cumulative share before it is below the cutoff.
    vital = (
        ranked.filter(revenue__gt=0, cumulative__lt=F("revenue") + cutoff * total_revenue).count()
        if total_revenue
        else 0
    )
    pagination = paginate(request, ranked)
    total = pagination.count
    table = []
    for account in pagination.rows:
        revenue = Decimal(account.revenue or 0)
        cumulative = Decimal(account.cumulative or 0)
        share = revenue / total_revenue if total_revenue else Decimal(0)
        row = segmentation.ParetoRow(
            rank=account.rank,
            key=account.pk,
            revenue=revenue,
            share=share,
            cumulative_share=cumulative / total_revenue if total_revenue else Decimal(0),
            vital=revenue > 0 and (cumulative - revenue) < cutoff * total_revenue,
        )
        table.append({"row": row, "account": account})
    shown = [t for t in table if t["row"].revenue > 0]
    chart = {
        "names": [t["account"].name for t in shown],
        "revenue": [float(t["row"].revenue) for t in shown],
        "cumulative": [round(float(t["row"].cumulative_share) * 100, 1) for t in shown],
        "labels": {"revenue": _("Won revenue"), "cumulative": _("Cumulative share (%)")},
    }
    context = {
        "rows": table,
        "pagination": pagination,
        "vital": vital,
        "total": total,
        "vital_share": (vital / total) if total else 0,
        "chart": chart,
    }
    return page_or_fragment(request, "kam/accounts/pareto.html", None, context)


@login_required
def account_new(request):
    """Create an account with its customer file."""
    form = AccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            account = actions.create_record(
                Account, acting_user=request.user, source=Source.PAGE, fields=form.changes()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The account was created."))
            return redirect("accounts:detail", pk=account.pk)
    status = 400 if form.is_bound else 200
    return render(request, "kam/accounts/form.html", {"form": form}, status=status)


@login_required
def account_edit(request, pk):
    """Edit an account; a save over someone else's change shows what changed."""
    account = get_visible_or_404(request.user, _accounts(request), pk=pk)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    stale = ()
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_record(
                visible(request.user, Account.objects.all()),
                pk=account.pk,
                acting_user=request.user,
                source=Source.PAGE,
                expected_version=form.cleaned_data["version"],
                changes=form.changes(),
            )
        except actions.StaleRecord as exc:
            stale = stale_changes(exc)
            apply_errors(form, exc)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The account was saved."))
            return redirect("accounts:detail", pk=account.pk)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "kam/accounts/form.html",
        {"form": form, "account": account, "stale": stale},
        status=status,
    )


# The latest activities and history rows the account page's timeline shows.
TIMELINE_ROWS = 60


def timeline(user, account, opportunities, activities, *, limit=60):
    """Activities and history rows of the account, its deals and its people, newest
    first: the latest ``limit`` of each.

    The buying-center rows of a deal whose insider the user may not know
    (``may_see_insider``) are left out here, not only those that ``reveals_insider``
    flags: telling them apart costs a query per row, and the deal's own buying-center
    page shows that story. ``may_see_insider`` depends on the deal's owner and team
    only, so it is asked once per (owned by the user, team) pair: the page costs the
    same number of queries however many deals the account has.
    """
    changes = list(
        history_of_all(
            Account.objects.filter(pk=account.pk),
            visible(user, Opportunity.objects.filter(account=account)),
            Contact.objects.filter(account=account),
        )
        .select_related("user", "content_type")
        .order_by("-at", "-id")[:limit]
    )
    deals = {str(o.pk): o for o in opportunities}
    allowed: dict[tuple, bool] = {}
    rows = []
    for change in changes:
        if change.content_type.model == "buyingcenterentry":
            deal = deals.get(change.parent_id)
            if deal is None:
                continue
            key = (deal.owner_id == user.pk, deal.team_id)
            if key not in allowed:
                allowed[key] = may_see_insider(user, deal)
            if not allowed[key]:
                continue
        rows.append({"kind": "change", "at": change.at, "date": change.at.date(), "change": change})
    for activity in activities:
        rows.append({"kind": "activity", "date": activity.on, "activity": activity})
    rows.sort(key=lambda r: r["date"], reverse=True)
    return rows


@login_required
def account_detail(request, pk):
    """The account page: customer file, relationship, trust, cost against revenue,
    contacts, opportunities, off-funnel orders, timeline and the coach's advice."""
    user = request.user
    account = get_visible_or_404(user, _accounts(request), pk=pk)
    on = today()
    settings = CompanySettings.load().to_method()
    contacts = list(
        account.contacts.select_related("reports_to").prefetch_related("familiarities__user")
    )
    views = insights.deal_views(user, account.opportunities.all())
    opportunities = [v.opportunity for v in views]
    orders = list(visible(user, account.off_funnel_orders.all()))
    seen_activities = visible(user, account.activities.all())
    activities = list(
        seen_activities.select_related("owner", "opportunity").prefetch_related(
            "contacts", "participants"
        )[:TIMELINE_ROWS]
    )
    trust_done = list(account.trust_actions.select_related("by"))
    won = relationship.won_in_lookback(
        [opportunity_to_deal(o) for o in insights.opportunities(user, account.opportunities.all())],
        today=on,
        settings=settings.relationship,
    )
    since = on - dt.timedelta(days=settings.relationship.business_lookback_days)
    cost = relationship.relationship_cost(
        [seen_activities.filter(on__range=(since, on)).aggregate(total=Sum("cost"))["total"] or 0],
        won.revenue,
        settings=settings.relationship,
    )
    done_ids = {t.action for t in trust_done}
    context = {
        "account": account,
        "contacts": contacts,
        "deals": views,
        "orders": orders,
        "activities": activities,
        "trust_done": [
            {"row": t, "action": relationship.TRUST_ACTIONS_BY_ID.get(t.action)} for t in trust_done
        ],
        "trust_gaps": relationship.trust_gaps(done_ids, settings=settings.relationship),
        "trust_form": TrustActionForm(initial={"on": on}),
        "contact_form": ContactForm(),
        "won": won,
        "since": since,
        "cost": cost,
        "coach": insights.coach_account(user, account, today=on),
        "timeline": timeline(user, account, opportunities, activities, limit=TIMELINE_ROWS),
        "lifecycle_label": relationship.LIFECYCLE_LABELS.get(account.lifecycle),
    }
    return render(request, "kam/accounts/detail.html", context)


@login_required
def account_trust(request, pk):
    """Record a trust-building action done with the account."""
    account = get_visible_or_404(request.user, _accounts(request), pk=pk)
    form = TrustActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_trust_action(
                account, acting_user=request.user, source=Source.PAGE, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The trust-building action was recorded."))
            return redirect("accounts:detail", pk=account.pk)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "kam/accounts/small_form.html",
        {
            "form": form,
            "account": account,
            "title": _("Record a trust-building action"),
            "action": request.path,
        },
        status=status,
    )


@login_required
def contact_new(request, pk):
    """Add a person at the account."""
    account = get_visible_or_404(request.user, _accounts(request), pk=pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = actions.create_record(
                Contact,
                acting_user=request.user,
                source=Source.PAGE,
                fields={**form.cleaned_data, "account": account},
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The contact was added."))
            return redirect("accounts:contact", pk=contact.pk)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "kam/accounts/small_form.html",
        {"form": form, "account": account, "title": _("Add a contact"), "action": request.path},
        status=status,
    )


# ---------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------


def _contacts(request):
    return visible(request.user, Contact.objects.all()).select_related("account", "reports_to")


def _brain(contact, settings):
    direct = {Quadrant(q): float(v) for q, v in (contact.brain_direct or {}).items()} or None
    # An id the catalogue no longer has (an import, an older catalogue) is no evidence.
    heard = [p for p in contact.brain_phrases or [] if p in whole_brain.PHRASES_BY_ID]
    profile = whole_brain.profile(phrase_ids=heard, direct=direct, settings=settings.whole_brain)
    return profile, whole_brain.advice_for(profile, settings=settings.whole_brain)


def _contact_page(
    request, contact, *, questionnaire=None, familiarity=None, reports_to=None, stale=(), status=200
):
    user = request.user
    on = today()
    settings = CompanySettings.load().to_method()
    wb = settings.whole_brain
    profile, advice = _brain(contact, settings)
    entries = list(
        BuyingCenterEntry.objects.filter(
            contact=contact,
            opportunity__in=visible(user, Opportunity.objects.all()),
        ).select_related("opportunity")
    )
    visits = list(
        visible(user, contact.activities.all())
        .select_related("owner", "account")
        .prefetch_related("contacts")
    )
    plan = agenda.planned_visits([activity_to_method(a) for a in visits], today=on)
    by_id = {str(a.pk): a for a in visits}
    heard = set(contact.brain_phrases or [])
    quadrants = [
        {
            "quadrant": q,
            "label": in_language(wb.label(q)),
            "animal": in_language(wb.animal(q)),
            "score": profile.of(q),
            "phrases": [
                {"id": p.id, "text": in_language(p.text), "checked": p.id in heard}
                for p in whole_brain.phrases_of(q)
            ],
        }
        for q in Quadrant
    ]
    colleagues = contact.account.contacts.exclude(pk=contact.pk)
    context = {
        "contact": contact,
        "entries": entries,
        "visits": visits,
        "plan": [{"visit": p, "activity": by_id[p.activity.id]} for p in plan],
        "profile": profile,
        "dominant": [in_language(wb.label(q)) for q in profile.dominant],
        "advice": advice,
        "quadrants": quadrants,
        "radar": {
            "indicators": [{"name": q["label"], "max": 100} for q in quadrants],
            "values": [round(q["score"], 1) for q in quadrants],
            "name": contact.name,
        },
        "questionnaire": questionnaire
        or QuestionnaireForm(initial={"version": contact.version, "phrases": sorted(heard)}),
        "familiarities": list(contact.familiarities.select_related("user")),
        "familiarity_form": familiarity or FamiliarityForm(user=user),
        "reports_to_form": reports_to
        or ReportsToForm(
            initial={"reports_to": contact.reports_to_id, "version": contact.version},
            contact=contact,
            colleagues=colleagues,
        ),
        "stale": stale,
    }
    return render(request, "kam/contacts/detail.html", context, status=status)


@login_required
def contact_detail(request, pk):
    """A contact: roles across deals, whole-brain profile and questionnaire, visits,
    next visit, friendship with our people, reporting line."""
    return _contact_page(request, get_visible_or_404(request.user, _contacts(request), pk=pk))


@login_required
def contact_brain(request, pk):
    """Save the phrases ticked: ``brain_phrases`` through ``actions.update_record``.
    A phrase heard several times keeps its count while it stays ticked."""
    contact = get_visible_or_404(request.user, _contacts(request), pk=pk)
    if request.method != "POST":
        return redirect("accounts:contact", pk=contact.pk)
    form = QuestionnaireForm(request.POST)
    stale = ()
    if form.is_valid():
        ticked = form.cleaned_data["phrases"]
        kept = [p for p in contact.brain_phrases or [] if p in ticked]
        phrases = kept + [p for p in ticked if p not in kept]
        try:
            actions.update_record(
                visible(request.user, Contact.objects.all()),
                pk=contact.pk,
                acting_user=request.user,
                source=Source.PAGE,
                expected_version=form.cleaned_data["version"],
                changes={"brain_phrases": phrases},
            )
        except actions.StaleRecord as exc:
            stale = stale_changes(exc)
            apply_errors(form, exc, aliases={"brain_phrases": "phrases"})
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"brain_phrases": "phrases"})
        else:
            messages.success(request, _("The whole-brain profile was updated."))
            return redirect("accounts:contact", pk=contact.pk)
    return _contact_page(request, contact, questionnaire=form, stale=stale, status=400)


@login_required
def contact_familiarity(request, pk):
    """How well one of our people knows this contact (``actions.set_familiarity``)."""
    contact = get_visible_or_404(request.user, _contacts(request), pk=pk)
    if request.method != "POST":
        return redirect("accounts:contact", pk=contact.pk)
    form = FamiliarityForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            actions.set_familiarity(
                contact,
                form.cleaned_data["user"],
                form.cleaned_data["strength"],
                acting_user=request.user,
                source=Source.PAGE,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The friendship level was saved."))
            return redirect("accounts:contact", pk=contact.pk)
    return _contact_page(request, contact, familiarity=form, status=400)


@login_required
def contact_reports_to(request, pk):
    """Whom the contact reports to; a reporting cycle is refused on the field."""
    contact = get_visible_or_404(request.user, _contacts(request), pk=pk)
    if request.method != "POST":
        return redirect("accounts:contact", pk=contact.pk)
    form = ReportsToForm(
        request.POST, contact=contact, colleagues=contact.account.contacts.exclude(pk=contact.pk)
    )
    stale = ()
    if form.is_valid():
        try:
            actions.set_reports_to(
                contact,
                form.cleaned_data["reports_to"],
                acting_user=request.user,
                source=Source.PAGE,
                expected_version=form.cleaned_data["version"],
            )
        except actions.StaleRecord as exc:
            stale = stale_changes(exc)
            apply_errors(form, exc)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The reporting line was saved."))
            return redirect("accounts:contact", pk=contact.pk)
    return _contact_page(request, contact, reports_to=form, stale=stale, status=400)


app_name = "accounts"
urlpatterns = [
    path("", account_list, name="list"),
    path("pareto/", account_pareto, name="pareto"),
    path("new/", account_new, name="new"),
    path("<int:pk>/", account_detail, name="detail"),
    path("<int:pk>/edit/", account_edit, name="edit"),
    path("<int:pk>/trust/", account_trust, name="trust"),
    path("<int:pk>/contacts/new/", contact_new, name="contact_new"),
    path("contacts/<int:pk>/", contact_detail, name="contact"),
    path("contacts/<int:pk>/brain/", contact_brain, name="contact_brain"),
    path("contacts/<int:pk>/familiarity/", contact_familiarity, name="contact_familiarity"),
    path("contacts/<int:pk>/reports-to/", contact_reports_to, name="contact_reports_to"),
]
