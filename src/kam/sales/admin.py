"""The sales records in Django's admin: an adapter like any page.

- Only staff reach the admin (Django's rule). Reps are not staff. An admin may
  make a manager staff and grant model permissions: that manager then sees only
  the records of their teams, as everywhere else.
- Lists, form choices and autocomplete go through ``kam.org.scoping.visible``;
  an object out of scope is not found. Rows of a record in the recycle bin (a
  binned deal's evidence, a binned account's activities) are not listed either.
- Every save and delete calls an action of ``kam.sales.actions`` with
  ``source=Change.Source.PAGE``, so it is validated, versioned and written to the
  history like a save from a page. An action's refusal (a stale version, a field
  only a verb may set, ...) is shown on the form with the user's input kept.
- Fields only a verb changes (a deal's stage and outcome, a lead's screening and
  conversion) are read-only here; stage overrides are written by
  ``advance_stage`` only.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError

from kam.history.models import Change
from kam.org.scoping import may_see_insider, visible
from kam.sales import actions
from kam.sales.models import (
    Account,
    Activity,
    BuyingCenterEntry,
    Contact,
    Deletable,
    Familiarity,
    InsiderClaim,
    KeyNodeEvidence,
    Lead,
    OffFunnelOrder,
    Opportunity,
    StageOverride,
    Target,
    TrustActionDone,
)

PAGE = Change.Source.PAGE
RelatedOnly = admin.RelatedOnlyFieldListFilter


class ScopedAdmin(admin.ModelAdmin):
    """Lists, foreign-key and many-to-many choices limited to what the user may see.

    Autocomplete asks the related model's admin, whose ``get_queryset`` is scoped
    too; the choices set here also refuse a posted id out of scope. ``parent``
    names the record in the recycle bin's care that a row belongs to: rows of a
    record in the bin are not listed, as the record itself is not.
    """

    parent = ""

    def get_queryset(self, request):
        queryset = visible(request.user, super().get_queryset(request))
        if self.parent:
            queryset = queryset.filter(**{f"{self.parent}__deleted_at__isnull": True})
        return queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", _choices(request, db_field))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", _choices(request, db_field))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _choices(request, db_field):
    related = db_field.related_model
    return visible(request.user, related._default_manager.all())


class ActionForm(forms.ModelForm):
    """A model form that shows an action's refusal as its own errors.

    ``refused`` is set by ``ActionAdmin`` when the action refused the save: the
    form is then invalid with those errors, the user's input still in it.
    """

    refused: ValidationError | None = None

    def _post_clean(self):
        super()._post_clean()
        if self.refused is None:
            return
        errors = self.refused.error_dict if hasattr(self.refused, "error_dict") else None
        if errors is None:
            self.add_error(None, self.refused)
            return
        for field, messages in errors.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages)
            else:
                label = _label(self._meta.model, field)
                self.add_error(
                    None, [f"{label}: {m}" if label else m for e in messages for m in e.messages]
                )


class VersionedForm(ActionForm):
    """An ``ActionForm`` that carries the version the user started from, so a save
    colliding with someone else's is refused (or merged) by the action."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_version"].initial = self.instance.version
        if self.is_bound and isinstance(self.refused, actions.StaleRecord):
            # The user has now seen what changed: saving again overwrites it knowingly.
            self.data = self.data.copy()
            self.data[self.add_prefix("expected_version")] = self.refused.current_version


def _label(model, name: str) -> str:
    if name == NON_FIELD_ERRORS:
        return ""
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a name the action used that is not a model field
        return name


class _Refused(Exception):
    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


class ActionAdmin(ScopedAdmin):
    """Saves and deletes through ``kam.sales.actions``.

    ``create``, ``update`` and ``remove`` call the generic actions; an admin for a
    part of a record whose writes are verbs (evidence, buying center, ...)
    overrides them with the verb.
    """

    form = ActionForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refused = getattr(request, "_kam_refused", None)
        if refused is not None:
            form = type(form.__name__, (form,), {"refused": refused})
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            # The admin's transaction rolled back; render the same POST again with the
            # action's errors on the form, so the user's input is kept.
            request._kam_refused = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        try:
            saved = self.update(request, obj, form) if change else self.create(request, form)
        except ValidationError as exc:
            raise _Refused(exc) from exc
        # The admin's response (redirect, message, log) reads the record it handed in.
        vars(obj).update(vars(saved))

    def save_related(self, request, form, formsets, change):
        """The action saved the many-to-many fields; this admin has no inlines."""

    def delete_model(self, request, obj):
        self.remove(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            if isinstance(obj, Deletable) and not type(obj).objects.filter(pk=obj.pk).exists():
                continue  # went to the recycle bin with an account selected before it
            self.remove(request, obj)

    def get_deleted_objects(self, objs, request):
        if issubclass(self.model, Deletable):
            # Nothing is deleted: the record and its children go to the recycle bin.
            objs = list(objs)
            return (
                [str(o) for o in objs],
                {self.model._meta.verbose_name_plural: len(objs)},
                set(),
                [],
            )
        return super().get_deleted_objects(objs, request)

    # The writes -----------------------------------------------------------------

    def create(self, request, form):
        return actions.create_record(
            self.model, acting_user=request.user, source=PAGE, fields=_values(form)
        )

    def update(self, request, obj, form):
        changes = _values(form, only=form.changed_data)
        return actions.update_record(
            self.get_queryset(request),
            pk=obj.pk,
            acting_user=request.user,
            source=PAGE,
            expected_version=form.cleaned_data.get("expected_version"),
            changes=changes,
        )

    def remove(self, request, obj):
        if isinstance(obj, Deletable):
            actions.delete_record(obj, acting_user=request.user, source=PAGE)
        else:
            actions.remove_record(obj, acting_user=request.user, source=PAGE)


def _values(form, only=None) -> dict:
    """The cleaned values of the form's model fields (of ``only`` when given)."""
    names = {f.name for f in form._meta.model._meta.get_fields() if f.concrete or f.many_to_many}
    return {
        name: value
        for name, value in form.cleaned_data.items()
        if name in names and (only is None or name in only)
    }


class OwnedAdmin(ActionAdmin):
    """Records with an owner and a team: the owner defaults to the user, the team to
    their only team."""

    form = VersionedForm
    readonly_fields = ("version", "created_at", "updated_at")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", request.user.pk)
        teams = list(request.user.memberships.values_list("team_id", flat=True)[:2])
        if len(teams) == 1:
            initial.setdefault("team", teams[0])
        return initial


# The records ---------------------------------------------------------------------


@admin.register(Account)
class AccountAdmin(OwnedAdmin):
    list_display = (
        "name",
        "grade",
        "industry",
        "region",
        "ownership",
        "relationship_type",
        "relationship_level",
        "lifecycle",
        "owner",
        "team",
    )
    list_filter = (
        "grade",
        "lifecycle",
        "relationship_type",
        "relationship_level",
        "ownership",
        "scale",
        "collective_decision",
        ("team", RelatedOnly),
        ("owner", RelatedOnly),
    )
    list_select_related = ("owner", "team")
    search_fields = ("name", "industry", "region")


@admin.register(Contact)
class ContactAdmin(ActionAdmin):
    parent = "account"
    form = VersionedForm
    list_display = ("name", "account", "title", "department", "phone", "leadership_member")
    list_filter = ("leadership_member", ("account__team", RelatedOnly))
    list_select_related = ("account",)
    search_fields = ("name", "title", "department", "phone", "email", "wechat", "account__name")
    autocomplete_fields = ("account", "reports_to")

    def get_readonly_fields(self, request, obj=None):
        # A contact does not move to another account (``kam.sales.actions``).
        return ("account", "version") if obj else ("version",)


@admin.register(Opportunity)
class OpportunityAdmin(OwnedAdmin):
    parent = "account"
    list_display = (
        "name",
        "account",
        "amount",
        "currency",
        "stage",
        "outcome",
        "expected_close",
        "grade",
        "owner",
        "team",
    )
    list_filter = (
        "stage",
        "outcome",
        "grade",
        "source",
        ("team", RelatedOnly),
        ("owner", RelatedOnly),
    )
    list_select_related = ("account", "owner", "team")
    search_fields = ("name", "account__name", "competitors", "external_id")
    autocomplete_fields = ("account",)

    # Moved by advance_stage, close_opportunity and reopen_opportunity only.
    VERB_FIELDS = ("stage", "stage_entered_on", "outcome", "closed_on", "close_reason")

    def get_readonly_fields(self, request, obj=None):
        fixed = ("account",) if obj else ()
        return (*fixed, *self.VERB_FIELDS, *super().get_readonly_fields(request, obj))


@admin.register(Lead)
class LeadAdmin(OwnedAdmin):
    list_display = (
        "name",
        "company",
        "source",
        "grade",
        "decision",
        "amount",
        "expected_close",
        "owner",
        "team",
    )
    list_filter = ("source", "grade", "decision", ("team", RelatedOnly), ("owner", RelatedOnly))
    list_select_related = ("owner", "team")
    search_fields = ("name", "company", "known")
    # Set by screen_lead and convert_lead only.
    VERB_FIELDS = (
        "scores",
        "score",
        "grade",
        "decision",
        "decision_reason",
        "screening_reasons",
        "account",
        "opportunity",
    )

    def get_readonly_fields(self, request, obj=None):
        return (*self.VERB_FIELDS, *super().get_readonly_fields(request, obj))


@admin.register(Activity)
class ActivityAdmin(OwnedAdmin):
    parent = "account"
    list_display = ("on", "kind", "account", "opportunity", "owner", "cost", "next_on")
    list_filter = ("kind", ("team", RelatedOnly), ("owner", RelatedOnly))
    list_select_related = ("account", "opportunity", "owner")
    search_fields = ("account__name", "notes", "next_step", "next_pretext")
    date_hierarchy = "on"
    autocomplete_fields = ("account", "opportunity", "contacts")


@admin.register(OffFunnelOrder)
class OffFunnelOrderAdmin(OwnedAdmin):
    parent = "account"
    list_display = ("on", "account", "amount", "currency", "owner", "team")
    list_filter = (("team", RelatedOnly), ("owner", RelatedOnly))
    list_select_related = ("account", "owner", "team")
    search_fields = ("account__name", "note")
    date_hierarchy = "on"
    autocomplete_fields = ("account",)


@admin.register(Target)
class TargetAdmin(ActionAdmin):
    list_display = ("__str__", "user", "team", "start", "end", "amount")
    list_filter = (("team", RelatedOnly), ("user", RelatedOnly))
    list_select_related = ("user", "team")
    date_hierarchy = "start"

    def get_readonly_fields(self, request, obj=None):
        # set_target replaces the amount of one holder and period; another holder or
        # period is another target.
        return ("user", "team", "start", "end") if obj else ()

    def create(self, request, form):
        return self._set(request, **form.cleaned_data)

    def update(self, request, obj, form):
        return self._set(
            request,
            user=obj.user,
            team=obj.team,
            start=obj.start,
            end=obj.end,
            amount=form.cleaned_data["amount"],
        )

    def _set(self, request, *, user, team, start, end, amount):
        return actions.set_target(
            user=user,
            team=team,
            start=start,
            end=end,
            amount=amount,
            acting_user=request.user,
            source=PAGE,
        )


# The parts of a record: written by their own verbs -------------------------------


@admin.register(Familiarity)
class FamiliarityAdmin(ActionAdmin):
    parent = "contact"
    list_display = ("contact", "user", "strength")
    list_filter = ("strength", ("user", RelatedOnly))
    list_select_related = ("contact__account", "user")
    search_fields = ("contact__name", "contact__account__name")
    autocomplete_fields = ("contact",)

    def get_readonly_fields(self, request, obj=None):
        return ("contact", "user") if obj else ()

    def create(self, request, form):
        data = form.cleaned_data
        return self._set(request, data["contact"], data["user"], data["strength"])

    def update(self, request, obj, form):
        return self._set(request, obj.contact, obj.user, form.cleaned_data["strength"])

    def _set(self, request, contact, user, strength):
        return actions.set_familiarity(
            contact, user, strength, acting_user=request.user, source=PAGE
        )


@admin.register(TrustActionDone)
class TrustActionDoneAdmin(ActionAdmin):
    parent = "account"
    list_display = ("account", "action", "on", "by")
    list_filter = ("action",)
    list_select_related = ("account", "by")
    search_fields = ("account__name", "evidence")
    date_hierarchy = "on"
    autocomplete_fields = ("account",)
    exclude = ("by",)  # the user who records it

    def has_change_permission(self, request, obj=None):
        return False  # recorded once; a mistake is deleted and recorded again

    def create(self, request, form):
        data = form.cleaned_data
        return actions.add_trust_action(
            data["account"],
            action=data["action"],
            on=data["on"],
            evidence=data["evidence"],
            acting_user=request.user,
            source=PAGE,
        )


@admin.register(BuyingCenterEntry)
class BuyingCenterEntryAdmin(ActionAdmin):
    parent = "opportunity"
    list_display = (
        "contact",
        "opportunity",
        "decision_maker",
        "technical",
        "purchaser",
        "user",
        "influence",
        "attitude",
        "strength",
        "insider",
    )
    list_filter = ("decision_maker", "technical", "purchaser", "user", "influence", "attitude")
    list_select_related = ("contact__account", "opportunity")
    search_fields = ("contact__name", "opportunity__name")
    autocomplete_fields = ("opportunity", "contact")

    # The insider's identity: only the deal's owner, their managers and admins.
    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if request.user.is_superuser:
            return shown
        return tuple(f for f in shown if f != "insider")

    def get_exclude(self, request, obj=None):
        if obj is not None and not may_see_insider(request.user, obj.opportunity):
            return ("insider",)
        return super().get_exclude(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ("opportunity", "contact") if obj else ()

    def create(self, request, form):
        data = form.cleaned_data
        return self._set(request, data["opportunity"], data["contact"], data, data["insider"])

    def update(self, request, obj, form):
        data = form.cleaned_data
        return self._set(
            request, obj.opportunity, obj.contact, data, data.get("insider", obj.insider)
        )

    def _set(self, request, opportunity, contact, data, insider):
        return actions.set_buying_center_entry(
            opportunity,
            contact,
            roles=[role for name, role in BuyingCenterEntry.ROLE_FIELDS.items() if data[name]],
            influence=data["influence"],
            attitude=data["attitude"],
            strength=data["strength"],
            insider=insider,
            acting_user=request.user,
            source=PAGE,
        )

    def remove(self, request, obj):
        actions.remove_buying_center_entry(
            obj.opportunity, obj.contact, acting_user=request.user, source=PAGE
        )


@admin.register(KeyNodeEvidence)
class KeyNodeEvidenceAdmin(ActionAdmin):
    parent = "opportunity"
    list_display = ("opportunity", "node", "on", "by")
    list_filter = ("node",)
    list_select_related = ("opportunity", "by")
    search_fields = ("opportunity__name", "node", "note")
    date_hierarchy = "on"
    autocomplete_fields = ("opportunity",)
    exclude = ("by",)  # the user who records it

    def has_change_permission(self, request, obj=None):
        return False  # evidence is recorded or withdrawn, not edited

    def create(self, request, form):
        data = form.cleaned_data
        return actions.record_evidence(
            data["opportunity"],
            node=data["node"],
            on=data["on"],
            note=data["note"],
            acting_user=request.user,
            source=PAGE,
        )

    def remove(self, request, obj):
        actions.remove_evidence(
            obj.opportunity, node=obj.node, acting_user=request.user, source=PAGE
        )


@admin.register(StageOverride)
class StageOverrideAdmin(ScopedAdmin):
    """Read-only: an override is written by ``advance_stage`` when a gate is forced."""

    parent = "opportunity"

    list_display = ("opportunity", "from_stage", "to_stage", "reason", "by", "on")
    list_filter = ("to_stage",)
    list_select_related = ("opportunity", "by")
    search_fields = ("opportunity__name", "reason")
    date_hierarchy = "on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InsiderClaim)
class InsiderClaimAdmin(ActionAdmin):
    """Scoped to the insider's circle: the deal's owner, their managers and admins."""

    parent = "opportunity"

    list_display = ("opportunity", "contact", "fact", "supplied_on", "confirmed")
    list_filter = ("fact", "confirmed")
    list_select_related = ("opportunity", "contact__account")
    search_fields = ("opportunity__name", "contact__name", "note")
    autocomplete_fields = ("opportunity", "contact")

    def has_change_permission(self, request, obj=None):
        return False  # a claim is recorded once; a mistake is deleted and recorded again
