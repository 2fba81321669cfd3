"""The history in Django's admin: read-only, for administrators.

No one may add, change or delete a history row here, superusers included.
Only superusers see the list: a row names a record and its old values, and
rows are not scoped by team (pages show a record's history after checking the
record's own visibility).
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from kam.history.models import Change


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    list_display = ("at", "object_repr", "content_type", "action", "source", "user", "version")
    list_filter = ("action", "source", ("content_type", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("content_type", "user")
    search_fields = ("object_repr", "object_id", "note", "user__username")
    date_hierarchy = "at"
    fields = (
        "at",
        "content_type",
        "object_id",
        "object_repr",
        "action",
        "changes_table",
        "version",
        "note",
        "parent_type",
        "parent_id",
        "user",
        "source",
    )
    readonly_fields = fields

    @admin.display(description=Change._meta.get_field("changes").verbose_name)
    def changes_table(self, change):
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((field, _shown(old), _shown(new)) for field, (old, new) in change.changes.items()),
        )
        return format_html("<table>{}</table>", rows)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _shown(value) -> str:
    return "" if value is None else str(value)
