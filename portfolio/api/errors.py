"""One error shape across the API: a 400 answers a JSON object keyed by the field the client sent
(``non_field_errors`` for what concerns no single field, nested objects for nested fields), and
every other refusal answers ``{"detail": "..."}``.

Services raise Django's ValidationError keyed by their own names (shared with the HTML forms,
``__all__`` for a model's non-field rule). :func:`api_validation_error` turns one into DRF's, renaming
the service's keys to the API's fields; :func:`exception_handler` (DRF's ``EXCEPTION_HANDLER``) does
the same for any service error a view lets through, and wraps a bare list of messages in
``non_field_errors``, so no answer is keyed ``__all__`` or is a bare list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def api_validation_error(
    exc: DjangoValidationError, *, fields: Mapping[str, str] | None = None, within: str = ""
) -> ValidationError:
    """DRF's ValidationError for a service's `exc`, keyed by the API's fields.

    ``fields`` maps a service key to the API field the client sent; a dotted name nests
    (``{"decision_kind": "decision.kind"}`` answers ``{"decision": {"kind": [...]}}``). Django's
    ``__all__`` and a message without a field become DRF's ``non_field_errors``. ``within`` puts
    every key under a dotted path (the errors of one item of a list the client sent).
    """
    non_field = api_settings.NON_FIELD_ERRORS_KEY
    errors = exc.message_dict if hasattr(exc, "error_dict") else {non_field: exc.messages}
    detail: dict[str, Any] = {}
    for name, messages in errors.items():
        target = (fields or {}).get(name, name)
        target = non_field if target == NON_FIELD_ERRORS else target
        node = detail
        *parents, leaf = f"{within}.{target}".strip(".").split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node.setdefault(leaf, []).extend(messages)
    return ValidationError(detail)


def service_call(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a service with `kwargs`; its ValidationError becomes the API's 400 (one error shape,
    a message per field)."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        raise api_validation_error(exc) from exc


class BodyTooLarge(APIException):
    """413: the body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE (it was not read)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


def body_too_large(content_length: str | int | None) -> BodyTooLarge:
    """The 413 for a body of `content_length` bytes, stating the limit in the unit it uses (MB)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = f"{int(content_length) / 1e6:.1f} MB" if str(content_length or "").isdigit() else ""
    return BodyTooLarge(
        f"The request body{' has ' + size if size else ' is too large'}; at most "
        f"{limit / 1e6:g} MB are accepted."
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a service's Django ValidationError is a 400 in the API's shape, a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 that states the limit, and a 400 that is a bare list
    of messages is put under ``non_field_errors``."""
    if isinstance(exc, DjangoValidationError):
        exc = api_validation_error(exc)
    elif isinstance(exc, RequestDataTooBig):
        request = context.get("request")
        exc = body_too_large(request.META.get("CONTENT_LENGTH") if request else None)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        if isinstance(response.data, list):
            response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
        response.data = _messages_as_lists(response.data)
    return response


def _messages_as_lists(detail: Any) -> Any:
    """``{"field": "message"}`` (DRF keeps a lone string as given) as ``{"field": ["message"]}``,
    at every level, so that a field's messages are always a list."""
    if isinstance(detail, dict):
        return {
            key: [value] if isinstance(value, str) else _messages_as_lists(value)
            for key, value in detail.items()
        }
    return detail


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's ``handler404``: an API URL that matches no route answers JSON like every other
    API refusal (a page answers Django's page)."""
    if _is_api(request):
        return JsonResponse({"detail": "No such API endpoint or object."}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's ``handler400`` (a request Django refuses before any view: too many fields, a
    suspicious operation): JSON for the API."""
    if _is_api(request):
        return JsonResponse({"detail": f"The request was refused: {exception}"}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: JSON for the API (saying no more than that it failed)."""
    if _is_api(request):
        return JsonResponse({"detail": "The server failed; try again, or report it."}, status=500)
    return defaults.server_error(request)
