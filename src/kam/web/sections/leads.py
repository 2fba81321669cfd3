"""Pages of the leads section (issue 5)."""

app_name = "leads"
urlpatterns: list = []
