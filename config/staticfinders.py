"""Serve plotly.js from the installed `plotly` wheel as `vendor/plotly.min.js` (no CDN, no copy in git)."""

from __future__ import annotations

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly.min.js"


class PlotlyJsFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        self.source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        self.storage = FileSystemStorage(location=self.source.parent)
        self.storage.prefix = "vendor"

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path == PLOTLY_JS:
            return [str(self.source)] if find_all else str(self.source)
        return [] if find_all else None

    def list(self, ignore_patterns):
        yield self.source.name, self.storage
