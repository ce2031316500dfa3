"""The OpenAPI schema documents the error answers of every operation, not only its success.

drf-spectacular documents what a view returns; the refusals come from DRF and from
:mod:`portfolio.api.errors`, the same everywhere, so they are added here by rule:

- 400 (a field → messages object, see ``ValidationError``) where the client sends something:
  a body, or query parameters (filters, pagination, ``as_of``);
- 401 where the view accepts a credential that can be refused (an integration token);
- 403 everywhere (not logged in, or a role that may not do this);
- 404 where a path names an object, a list is paginated (a page past the end) or a write names
  objects (one the caller may not see is not found);
- 413 and 415 where a body is sent: larger than DATA_UPLOAD_MAX_MEMORY_SIZE, or in a media type
  the operation does not take.

An operation's own ``extend_schema(responses=...)`` wins where it documents the same status; an
error it documents without a body gets the ``{"detail": ...}`` body (409, 412, 428 carry more).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

VALIDATION_ERROR = {
    "type": "object",
    "description": "Every problem, keyed by the field sent: a list of messages, or an object for "
    "a nested field (a list's items by position or id). `non_field_errors` holds what concerns "
    "no single field.",
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
    },
}


class ErrorSerializer(serializers.Serializer):
    """Any refusal that is not about the fields sent."""

    detail = serializers.CharField(help_text="What was refused and why.")


ERRORS = {
    "400": "The input was refused; nothing was changed.",
    "401": "The credential was refused (unknown, expired or revoked token).",
    "403": "Not logged in, or your role may not do this.",
    "404": "No such object among those you may see (or no such page).",
    "413": "The body is larger than the server accepts; the message states the limit.",
    "415": "The body is not in a media type this operation takes.",
}


class StewardAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers each operation can give (module doc)."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            responses.setdefault(code, self._error_response(code))
        for code, response in responses.items():  # e.g. 409, 412, 428 described by a view
            if code >= "400" and "content" not in response:
                response["content"] = self._error_response(code)["content"]
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        places = {parameter["in"] for parameter in operation.get("parameters", [])}
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        writes = self.method in ("POST", "PUT", "PATCH")
        codes = ["403"]
        if writes or query:
            codes.append("400")
        # DRF answers 401 only when the view's first authenticator names a challenge (a token
        # refused on an ingest endpoint); elsewhere a refused credential is a 403
        authenticators = self.view.get_authenticators()
        if authenticators and authenticators[0].authenticate_header(None):
            codes.append("401")
        if "path" in places or "page" in query or writes:
            codes.append("404")
        if writes:
            codes += ["413", "415"]
        return sorted(codes)

    def _error_response(self, code: str) -> dict[str, Any]:
        if code == "400":
            component = ResolvedComponent(
                name="ValidationError",
                type=ResolvedComponent.SCHEMA,
                object="ValidationError",
                schema=VALIDATION_ERROR,
            )
            self.registry.register_on_missing(component)
            schema = component.ref
        else:
            schema = self.resolve_serializer(ErrorSerializer, "response").ref
        description = ERRORS.get(code, "Refused; the detail says why.")
        return {"description": description, "content": {"application/json": {"schema": schema}}}
