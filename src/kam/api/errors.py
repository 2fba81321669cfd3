"""Errors as JSON: ``{"code": ..., "message": ..., "field": ...}``.

``code`` is stable (scripts test it), ``message`` is in the user's language
(Accept-Language, through LocaleMiddleware), ``field`` names the field at fault
or is null. A validation error naming several fields lists them all in
``errors``, the first one also in ``field``/``message``.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError

from kam.sales.actions import StaleRecord


class ApiError(Exception):
    """An answer other than success, with its HTTP status and stable code."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.extra = (
            status,
            code,
            message,
            field,
            extra,
        )


def body(code: str, message: str, field: str | None = None, **extra) -> dict:
    return {"code": code, "message": str(message), "field": field, **extra}


def _field_errors(exc: ValidationError) -> list[dict]:
    if not hasattr(exc, "error_dict"):
        return [{"field": None, "message": str(m)} for m in exc.messages]
    return [
        {"field": None if name == NON_FIELD_ERRORS else name, "message": str(message)}
        for name, errors in exc.message_dict.items()
        for message in errors
    ]


def _schema_field(loc) -> str | None:
    # Pydantic locations look like ("body", "payload", "amount") or ("query", "limit").
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header")]
    return ".".join(parts) or None


def install(api) -> None:
    """Register the handlers that turn every error into the JSON shape above."""

    def respond(request, status: int, data: dict):
        return api.create_response(request, data, status=status)

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return respond(request, exc.status, body(exc.code, exc.message, exc.field, **exc.extra))

    @api.exception_handler(StaleRecord)
    def stale(request, exc: StaleRecord):
        errors = _field_errors(exc)
        return respond(
            request,
            412,
            body("stale", errors[0]["message"], errors[0]["field"], errors=errors),
        )

    @api.exception_handler(ValidationError)
    def invalid(request, exc: ValidationError):
        errors = _field_errors(exc)
        return respond(
            request,
            422,
            body("validation_error", errors[0]["message"], errors[0]["field"], errors=errors),
        )

    @api.exception_handler(SchemaError)
    def malformed(request, exc: SchemaError):
        errors = [
            {"field": _schema_field(e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors
        ]
        first = errors[0] if errors else {"field": None, "message": _("The request is invalid.")}
        return respond(
            request,
            422,
            body("validation_error", first["message"], first["field"], errors=errors),
        )

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, body("not_found", _("Not found."), None))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        message = _("Sign in, or send Authorization: Bearer <token>.")
        response = respond(request, 401, body("unauthenticated", message, None))
        response["WWW-Authenticate"] = 'Bearer realm="kam"'
        return response

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        message = str(exc) or _("You may not do this.")
        return respond(request, 403, body("forbidden", message, None))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        codes = {400: "bad_request", 403: "forbidden", 405: "method_not_allowed"}
        return respond(
            request,
            exc.status_code,
            body(codes.get(exc.status_code, "error"), str(exc), None),
        )
