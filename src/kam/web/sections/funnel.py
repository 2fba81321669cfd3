"""Pages of the funnel section (issue 5)."""

app_name = "funnel"
urlpatterns: list = []
