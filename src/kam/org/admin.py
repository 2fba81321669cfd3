"""Teams, memberships, users and the company settings in Django's admin.

Lists and choices go through ``kam.org.scoping.visible`` (a staff manager sees
the teams they are in and their people). Every save and delete writes a
history row (``kam.history.record``) in the admin's transaction, from the page.
The company settings are one row: it cannot be added twice or deleted.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kam.history.models import Change
from kam.history.record import diff, record, snapshot
from kam.org.models import CompanySettings, Membership, Team
from kam.org.scoping import visible


class HistoryAdmin(admin.ModelAdmin):
    """Saves and deletes that leave a history row, like an action's.

    ``kam.org`` has no actions module yet; when it gets one, these call it.
    """

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj)._base_manager.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        changes = diff(before, snapshot(obj))
        if changes or not change:
            record(
                obj,
                action=Change.Action.UPDATE if change else Change.Action.CREATE,
                user=request.user,
                source=Change.Source.PAGE,
                changes=changes,
            )

    def delete_model(self, request, obj):
        _record_removal(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            _record_removal(request, obj)
        super().delete_queryset(request, queryset)


def _record_removal(request, obj):
    old = {k: [v, None] for k, v in snapshot(obj).items() if v not in (None, "", [], {})}
    record(
        obj,
        action=Change.Action.REMOVE,
        user=request.user,
        source=Change.Source.PAGE,
        changes=old,
    )


class ScopedHistoryAdmin(HistoryAdmin):
    def get_queryset(self, request):
        return visible(request.user, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.related_model
        kwargs.setdefault("queryset", visible(request.user, model._default_manager.all()))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Team)
class TeamAdmin(ScopedHistoryAdmin):
    list_display = ("name", "member_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members=Count("memberships"))

    @admin.display(description=_("members"), ordering="members")
    def member_count(self, team):
        return team.members


@admin.register(Membership)
class MembershipAdmin(ScopedHistoryAdmin):
    list_display = ("user", "team", "role")
    list_filter = ("role", ("team", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "team")
    search_fields = ("user__username", "user__first_name", "user__last_name", "team__name")


@admin.register(CompanySettings)
class CompanySettingsAdmin(HistoryAdmin):
    list_display = ("__str__", "currency", "fiscal_year_start_month", "off_funnel_threshold")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not CompanySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # One row: the list is a detour, open it directly.
        only = CompanySettings.objects.first()
        if only is not None and self.has_view_or_change_permission(request, only):
            return redirect(reverse("admin:org_companysettings_change", args=[only.pk]))
        return super().changelist_view(request, extra_context)


User = get_user_model()


class ScopedUserAdmin(UserAdmin):
    """Django's user admin, listing only the people who share a team with the user."""

    def get_queryset(self, request):
        return visible(request.user, super().get_queryset(request))


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ScopedUserAdmin)
