from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("kam.api.urls")),
    path("leads/", include("kam.web.sections.leads")),
    path("customers/", include("kam.web.sections.accounts")),
    path("opportunities/", include("kam.web.sections.opportunities")),
    path("activities/", include("kam.web.sections.activities")),
    path("funnel/", include("kam.web.sections.funnel")),
    path("settings/", include("kam.web.sections.settings")),
    path("history/", include("kam.web.sections.history")),
    path("import/", include("kam.web.sections.imports")),
    path("", include("kam.web.urls")),
]
