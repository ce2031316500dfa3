"""The API's JSON parser: DRF's, plus a clear 400 for JSON nested too deeply to read.

Python's decoder recurses once per level, so a body nested some thousand levels deep raised
RecursionError, a 500. No Steward body nests more than a few levels.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser; a body nested too deeply is a ParseError (400) saying so."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(
                "JSON parse error - the body nests arrays or objects thousands of levels deep; "
                "no Steward request nests more than a few."
            ) from exc
