"""Who is calling: a personal token (``Authorization: Bearer``) or the browser session.

A session writes only with its CSRF token, as a form would; a bearer token needs
none (it is not sent by the browser on its own).
"""

from django.conf import settings
from django.utils.translation import gettext as _
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from kam.api.errors import ApiError
from kam.api.models import Token

_SAFE = {"GET", "HEAD", "OPTIONS", "TRACE"}


class BearerToken(HttpBearer):
    """``Authorization: Bearer <secret>`` with a token neither revoked nor of an
    inactive user; the request then acts as the token's user."""

    def authenticate(self, request, token):
        found = Token.authenticate(token)
        if found is None:
            return None
        request.user = found.user
        request.api_token = found
        return found.user


class Session(APIKeyCookie):
    """The signed-in browser session; writes need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self):
        super().__init__(csrf=False)  # checked below, only once we know who it is

    def authenticate(self, request, key):
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return None
        if request.method not in _SAFE and check_csrf(request) is not None:
            raise ApiError(
                403,
                "csrf_failed",
                _("The CSRF token is missing or wrong: send the X-CSRFToken header."),
            )
        return user
