"""Pages of the accounts section (issue 5)."""

app_name = "accounts"
urlpatterns: list = []
