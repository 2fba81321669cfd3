from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from kam.method.process import DEFAULT_SETTINGS as PROCESS_DEFAULTS


@login_required
def home(request):
    """The front page for a signed-in user (to become "My day"): the six stages of the method."""
    return render(request, "kam/home.html", {"stages": PROCESS_DEFAULTS.stages})


class SignInView(auth_views.LoginView):
    """Sign in with user name and password; a signed-in user is sent on to ``next``."""

    template_name = "kam/auth/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires) and say so on the sign-in page."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The session is gone; the message travels in the cookie storage.
        messages.info(request, _("You have signed out."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password; the session stays signed in and returns home."""

    template_name = "kam/auth/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response
