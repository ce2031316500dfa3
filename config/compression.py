"""Pages gzipped on their way out; everything else left as it is.

Django's `GZipMiddleware` (with its BREACH mitigation) takes a flow page's 80 KB of HTML to about
12 KB. It would also compress API answers and downloads, and to do so it turns a strong ETag weak
(`W/"3"`), which the money API's `If-Match` must refuse (RFC 9110): so only HTML is compressed.
Static files come compressed already (WhiteNoise, `config/staticstorage.py`).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class PageGZipMiddleware(GZipMiddleware):
    """`GZipMiddleware` for `text/html` responses only."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
