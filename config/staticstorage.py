"""Static files as production serves them: hashed names, gzip and brotli copies, compressed once.

WhiteNoise's `CompressedManifestStaticFilesStorage` gives every file a content-hashed name (served
with `Cache-Control: max-age=315360000, public, immutable`) and writes `.gz` and `.br` copies
beside it, which WhiteNoise serves to browsers that accept them. It compresses every file again at
each `collectstatic`, and brotli at its best quality takes about a minute for plotly.js alone,
which `make run` would pay at every start. A hashed name's content never changes, so its
compressed copies, once written, still hold: this storage compresses only the files that have
none yet. Only the hashed files are kept (`WHITENOISE_KEEP_ONLY_HASHED_FILES`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from whitenoise.compress import brotli_installed
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """`CompressedManifestStaticFilesStorage` that leaves already compressed files alone."""

    def _compressed_already(self, path: str) -> bool:
        return self.exists(f"{path}.gz") and (not brotli_installed or self.exists(f"{path}.br"))

    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        todo = [path for path in paths if not self._compressed_already(path)]
        yield from super().compress_files(todo)
