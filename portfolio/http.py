"""Small HTTP conventions shared by every app's views."""

from django import forms
from rest_framework.exceptions import APIException


def form_status(form: forms.BaseForm) -> int:
    """400 for a submitted form with errors, so clients and tests can tell a refusal from a page."""
    return 400 if form.is_bound and form.errors else 200


class PreconditionRequired(APIException):
    status_code = 428
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = 412
    default_code = "precondition_failed"


def if_match_version(request, noun: str) -> int:
    """The version an API write names in `If-Match`: one strong ETag such as "3".

    If-Match compares entity tags strongly (RFC 9110 §13.1.1), so a weak tag (W/"3") never
    matches: it answers 412 like a stale version. Raises 428 when the header is missing (or is
    `*`, which names no version) and 412 when it is not one strong tag of a version, naming `noun`.
    """
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        raise PreconditionRequired(f"Send the {noun}'s ETag in If-Match.")
    if header.startswith("W/"):
        raise PreconditionFailed(
            f"If-Match compares strong ETags only (RFC 9110): {header} is weak and never "
            f'matches; send the {noun}\'s ETag as it came, e.g. "3".'
        )
    version = header.removeprefix('"').removesuffix('"')
    if not (header == f'"{version}"' and version.isdigit()):
        raise PreconditionFailed(f'If-Match must be the {noun}\'s ETag, e.g. "3".')
    return int(version)
