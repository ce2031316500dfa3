"""Ingest of delivery events: deployments, incidents and changes (commits / pull requests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models, transaction

from portfolio.models import Portfolio
from valuestreams.models import Change, Deployment, Incident
from valuestreams.parsing.batch import IngestError, IngestRejected, RawRecord, Teams, parse_batch
from valuestreams.services.upserts import IngestSummary, content_digest, request_recompute, upsert


def _deployment_ids(portfolio: Portfolio, refs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    keys = {key for _, key in refs}
    if not keys:
        return {}
    rows = Deployment.objects.filter(portfolio=portfolio, external_key__in=keys).values_list(
        "source", "external_key", "pk"
    )
    return {(source, key): pk for source, key, pk in rows}


def _event_ingest(
    *,
    model: type[models.Model],
    kind: str,
    portfolio: Portfolio,
    records: Any,
    source: str | None,
    dry_run: bool,
    parse: Callable[[RawRecord], dict[str, Any] | None],
) -> IngestSummary:
    """Shared body of the deployment / incident / change endpoints."""
    warnings: list[IngestError] = []
    parsed, errors = parse_batch(records, source, Teams(portfolio), parse, warnings)
    wanted = {v["deployment"] for _, _, v in parsed if v.get("deployment")}
    deployments = _deployment_ids(portfolio, wanted)
    rows = []
    for index, record, values in parsed:
        ref = values.pop("deployment", None)
        if ref is not None:
            values["deployment_id"] = deployments.get(ref)
            if values["deployment_id"] is None:
                errors.append(
                    IngestError(
                        index,
                        record.key,
                        "deployment",
                        f"no deployment {ref[1]!r} from source {ref[0]!r} in {portfolio}; "
                        f"send the deployment first (or set deployment_source).",
                    )
                )
        row = {"source": record.source, "external_key": record.key, **values}
        row["content_hash"] = content_digest(row)
        rows.append(row)
    if errors:
        raise IngestRejected(errors)
    with transaction.atomic():
        result = upsert(model, portfolio, rows, dry_run=dry_run)
        summary = IngestSummary(
            kind=kind,
            created=len(result.created),
            updated=len(result.updated),
            unchanged=result.unchanged,
            dry_run=dry_run,
            warnings=warnings,
        )
        # DORA rows are recomputed from their own inputs; no team's work items need reading
        summary.dora_changed = True
        request_recompute(portfolio, summary)
    return summary


def _deployment(record: RawRecord) -> dict[str, Any] | None:
    values = {
        "team_id": record.team()[1],
        "environment": record.text("environment", max_length=40, default="production"),
        "successful": record.boolean("successful", True),
        "is_rework": record.boolean("is_rework", False),
        "started_at": record.time("started_at"),
        "finished_at": record.time("finished_at", required=True),
    }
    if (
        values["started_at"]
        and values["finished_at"]
        and values["started_at"] > values["finished_at"]
    ):
        record.fail("started_at", "started_at is after finished_at.")
    return values


def _incident(record: RawRecord) -> dict[str, Any] | None:
    values = {
        "team_id": record.team()[1],
        "title": record.text("title", max_length=500),
        "created_at": record.time("created_at", required=True),
        "resolved_at": record.time("resolved_at"),
        "deployment": record.deployment_ref(),
    }
    if (
        values["resolved_at"]
        and values["created_at"]
        and values["resolved_at"] < values["created_at"]
    ):
        record.fail("resolved_at", "resolved_at is before created_at.")
    return values


def _change(record: RawRecord) -> dict[str, Any] | None:
    return {
        "team_id": record.team()[1],
        "first_commit_at": record.time("first_commit_at", required=True),
        "deployment": record.deployment_ref(),
    }


def deployments_ingest(
    *, portfolio: Portfolio, records: Any, source: str | None = None, dry_run: bool = False
) -> IngestSummary:
    """Ingest a JSON batch of deployments (payloads: parsing.batch); raises IngestRejected."""
    return _event_ingest(
        model=Deployment,
        kind="deployments",
        portfolio=portfolio,
        records=records,
        source=source,
        dry_run=dry_run,
        parse=_deployment,
    )


def incidents_ingest(
    *, portfolio: Portfolio, records: Any, source: str | None = None, dry_run: bool = False
) -> IngestSummary:
    """Ingest a JSON batch of incidents (payloads: parsing.batch); raises IngestRejected."""
    return _event_ingest(
        model=Incident,
        kind="incidents",
        portfolio=portfolio,
        records=records,
        source=source,
        dry_run=dry_run,
        parse=_incident,
    )


def changes_ingest(
    *, portfolio: Portfolio, records: Any, source: str | None = None, dry_run: bool = False
) -> IngestSummary:
    """Ingest a JSON batch of changes (commits / pull requests); raises IngestRejected."""
    return _event_ingest(
        model=Change,
        kind="changes",
        portfolio=portfolio,
        records=records,
        source=source,
        dry_run=dry_run,
        parse=_change,
    )
