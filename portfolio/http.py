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
    """The version an API write names in `If-Match` (an ETag such as "3" or W/"3").

    Raises 428 when the header is missing and 412 when it is not a version, naming `noun`.
    """
    expected = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    if not expected:
        raise PreconditionRequired(f"Send the {noun}'s ETag in If-Match.")
    if not expected.isdigit():
        raise PreconditionFailed(f'If-Match must be the {noun}\'s ETag, e.g. "3".')
    return int(expected)
