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

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a service's Django ValidationError is a 400 in the API's shape, and a
    400 that is a bare list of messages is put under ``non_field_errors``."""
    if isinstance(exc, DjangoValidationError):
        exc = api_validation_error(exc)
    response = drf_exception_handler(exc, context)
    if (
        response is not None
        and response.status_code == status.HTTP_400_BAD_REQUEST
        and isinstance(response.data, list)
    ):
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
    return response
