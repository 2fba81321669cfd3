"""Pages of the settings section (issue 5)."""

app_name = "settings"
urlpatterns: list = []
