"""Pages of the history section (issue 5)."""

app_name = "history"
urlpatterns: list = []
