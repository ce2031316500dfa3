"""What an ingest batch reports: each problem, the refusal listing them all, and the summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IngestError:
    """One problem with one record: its position in the batch, its key, the field and why."""

    index: int | None
    key: str | None
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "key": self.key, "field": self.field, "message": self.message}


class IngestRejected(Exception):
    """The batch was refused and nothing was written; ``errors`` lists every problem."""

    def __init__(self, errors: list[IngestError]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was written")
        self.errors = sorted(errors, key=lambda e: (e.index is not None, e.index or 0))


@dataclass
class IngestSummary:
    """What a batch did (or, in a dry run, would do)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    item_ids: list[int] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    warnings: list[IngestError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "warnings": [warning.as_dict() for warning in self.warnings],
        }
