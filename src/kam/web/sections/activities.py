"""Pages of the activities section (issue 5)."""

app_name = "activities"
urlpatterns: list = []
