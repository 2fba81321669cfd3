"""Included at /api/v1/ by kam.config.urls (namespace ``api``)."""

from kam.api.api import api

app_name = api.urls_namespace
urlpatterns = api.urls[0]
