"""Pages of the opportunities section (issue 5)."""

app_name = "opportunities"
urlpatterns: list = []
