"""Uploaded files are size-checked before anything reads them into memory.

Django streams an upload to a temporary file (past FILE_UPLOAD_MAX_MEMORY_SIZE) or keeps it in
memory (below it). :class:`UploadLimit`, the first of FILE_UPLOAD_HANDLERS, stops storing a file as
soon as it passes STEWARD_MAX_UPLOAD_BYTES (the rest is read and dropped), and notes its field on
the request; :func:`upload_size_error` then tells the view what to say, in the unit of the limit.
A view checks it before it calls ``read()``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest


def max_upload_bytes() -> int:
    """The largest file Steward accepts (STEWARD_MAX_UPLOAD_BYTES)."""
    return settings.STEWARD_MAX_UPLOAD_BYTES


class UploadLimit(FileUploadHandler):
    """Drops a file past max_upload_bytes() instead of storing it; records its field name in
    ``request.uploads_too_large``."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > max_upload_bytes():
            too_large = getattr(self.request, "uploads_too_large", set())
            too_large.add(self.field_name)
            self.request.uploads_too_large = too_large
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler stores the file


def upload_size_error(request: HttpRequest, field: str, upload: UploadedFile | None) -> str | None:
    """Why the file sent as `field` is refused for its size, or None when it fits."""
    limit = max_upload_bytes()
    if field in getattr(request, "uploads_too_large", ()):
        return (
            f"The file is larger than {limit / 1e6:g} MB; at most {limit / 1e6:g} MB are accepted."
        )
    if upload is not None and upload.size > limit:
        return f"The file has {upload.size / 1e6:.1f} MB; at most {limit / 1e6:g} MB are accepted."
    return None
