"""Writing ingested events idempotently: classify rows by their digest, upsert what changed, ask
for a recompute, and report what a batch did (:class:`IngestSummary`).

Identity is ``(portfolio, source, external_key)``. Each record's normalised content is digested
(``content_hash``): a record whose digest is unchanged is not written at all, so the same payload
twice reports ``unchanged`` and touches nothing. Writes are set-based (one upsert per batch of
1,000 rows), with a fixed number of queries however many records come. After a write the changed
items and teams (or, for delivery events, the fact that DORA inputs changed) are handed to ``valuestreams.recompute.recompute_request`` in the same
transaction (it enqueues on commit).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from portfolio.models import Portfolio
from valuestreams.parsing.batch import IngestError

BATCH_SIZE = 1000


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
    dora_changed: bool = False  # deployments, changes or incidents written
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


def content_digest(values: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of `values` as canonical JSON: the rows' ``content_hash``."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Upserted:
    """What `upsert` did: the rows it created and updated."""

    created: list[models.Model]
    updated: list[models.Model]
    unchanged: int


def upsert(
    model: type[models.Model],
    portfolio: Portfolio,
    rows: list[dict[str, Any]],
    *,
    dry_run: bool,
) -> Upserted:
    """Insert new rows, update changed ones (by content_hash), leave unchanged ones untouched."""
    keys = {row["external_key"] for row in rows}
    existing = {
        (source, key): (pk, digest)
        for source, key, pk, digest in model.objects.filter(
            portfolio=portfolio, external_key__in=keys
        ).values_list("source", "external_key", "pk", "content_hash")
    }
    created, updated, unchanged = [], [], 0
    for row in rows:
        found = existing.get((row["source"], row["external_key"]))
        if found is not None and found[1] == row["content_hash"]:
            unchanged += 1
            continue
        obj = model(portfolio=portfolio, **row)
        if found is None:
            created.append(obj)
        else:
            obj.pk = found[0]
            updated.append(obj)
    if not dry_run and (created or updated):
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in {"portfolio", "source", "external_key"}
        ]
        model.objects.bulk_create(
            [*created, *updated],
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["portfolio", "source", "external_key"],
            update_fields=fields,
        )
    return Upserted(created, updated, unchanged)


def request_recompute(portfolio: Portfolio, summary: IngestSummary) -> None:
    """Ask for the affected metrics to be recomputed (enqueued when the transaction commits)."""
    if summary.dry_run or not (summary.created or summary.updated):
        return
    from valuestreams.recompute import recompute_request

    recompute_request(
        portfolio=portfolio,
        item_ids=summary.item_ids,
        team_ids=summary.team_ids,
        dora_changed=summary.dora_changed,
    )
