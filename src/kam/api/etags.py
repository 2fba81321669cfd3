"""ETags and If-Match: a client changes only the version it has seen.

A record's ETag is ``W/"<model>-<id>-v<version>"``; a target (no version) gets
a digest of its values instead. ``PATCH`` and ``DELETE`` must send the current
ETag in ``If-Match``: without it 428, with another one 412. The rule is strict
(docs/api.md): a client that read an older version reads again; the page forms
keep their field-by-field merge (``update_record``), the API does not guess.
"""

import hashlib

from django.utils.translation import gettext as _

from kam.api.errors import ApiError


def of(obj) -> str:
    name = obj._meta.model_name
    version = getattr(obj, "version", None)
    if version is None:
        values = "|".join(
            str(getattr(obj, f.attname)) for f in obj._meta.concrete_fields if not f.primary_key
        )
        version = hashlib.sha256(values.encode()).hexdigest()[:12]
    else:
        version = f"v{version}"
    return f'W/"{name}-{obj.pk}-{version}"'


def of_content(content: bytes) -> str:
    return f'W/"{hashlib.sha256(content).hexdigest()[:20]}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def require_match(request, obj) -> None:
    """Refuse the write unless ``If-Match`` names the record's current ETag."""
    sent = request.headers.get("If-Match", "").strip()
    if not sent or sent == "*":
        raise ApiError(
            428,
            "precondition_required",
            _("Send If-Match with the ETag of the version you are changing."),
        )
    current = of(obj)
    if _opaque(current) not in {_opaque(t) for t in sent.split(",")}:
        raise ApiError(
            412,
            "stale",
            _("Someone changed this record after you read it: read it again and retry."),
            etag=current,
        )


def check_if_sent(request, obj) -> None:
    """Like ``require_match`` when an If-Match is sent; nothing otherwise."""
    if request.headers.get("If-Match", "").strip():
        require_match(request, obj)
