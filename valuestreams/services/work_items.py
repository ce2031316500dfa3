"""Ingest of work items with their status, type and blocked history, from the API's JSON batches
(`work_items_ingest`) and from the file imports' parsed records (`work_item_records_write`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction

from portfolio.models import Portfolio
from valuestreams.models import StatusChange, WorkItem
from valuestreams.parsing.batch import (
    IngestError,
    IngestRejected,
    RawRecord,
    TeamRef,
    Teams,
    kind_of,
    parse_batch,
)
from valuestreams.parsing.records import (
    BlockedChangeRecord,
    StatusChangeRecord,
    TypeChangeRecord,
    WorkItemRecord,
)
from valuestreams.services.upserts import IngestSummary, content_digest, request_recompute, upsert


def _history(
    record: RawRecord, name: str, value_field: str, *, not_before: datetime | None
) -> list[tuple[datetime, Mapping[str, Any]]]:
    """Entries of a history list with their parsed times, in time order (ties keep input order)."""
    entries = []
    for position, entry in enumerate(record.entries(name, required=name == "status_history")):
        at = record.time(f"{name}[{position}].at", value=entry.get("at"), required=True)
        if value_field not in entry:
            record.fail(f"{name}[{position}].{value_field}", f"{value_field} is required.")
        elif at is not None and not_before is not None and at < not_before:
            record.fail(
                f"{name}[{position}].at",
                f"{at.isoformat()} is before the item was created ({not_before.isoformat()}).",
            )
        elif at is not None:
            entries.append((at, entry))
    return sorted(entries, key=lambda pair: pair[0])


def _work_item(record: RawRecord) -> tuple[WorkItemRecord, TeamRef] | None:
    created_at = record.time("created_at", required=True)
    item_type = record.text("type", required=True, max_length=120)
    title = record.text("title", max_length=500)
    url = record.text("url", max_length=500, default=None)
    if url:
        try:
            URLValidator()(url)
        except ValidationError:
            record.fail("url", f"url {url!r} is not a valid http(s) URL.")
    team, _ = record.team()
    statuses = []
    for position, (at, entry) in enumerate(
        _history(record, "status_history", "status", not_before=created_at)
    ):
        status = record.text(
            f"status_history[{position}].status",
            required=True,
            max_length=120,
            value=entry["status"],
        )
        previous = statuses[-1].to_status if statuses else None
        if status is not None:
            statuses.append(StatusChangeRecord(at, previous, status))
    types = []
    for position, (at, entry) in enumerate(
        _history(record, "type_changes", "to", not_before=created_at)
    ):
        to_type = record.text(
            f"type_changes[{position}].to", required=True, max_length=120, value=entry["to"]
        )
        from_type = types[-1].to_type if types else None
        if from_type is None:
            from_type = record.text(
                f"type_changes[{position}].from",
                required=True,
                max_length=120,
                value=entry.get("from"),
            )
        if to_type is not None and from_type is not None:
            types.append(TypeChangeRecord(at, from_type, to_type))
    blocked = []
    for position, (at, entry) in enumerate(
        _history(record, "blocked_changes", "blocked", not_before=created_at)
    ):
        if isinstance(entry["blocked"], bool):
            blocked.append(BlockedChangeRecord(at, entry["blocked"]))
        else:
            record.fail(
                f"blocked_changes[{position}].blocked",
                f"blocked must be true or false, got {kind_of(entry['blocked'])}.",
            )
    if record.failed or created_at is None or not statuses:
        return None
    item = WorkItemRecord(
        source=record.source,
        external_key=record.key,
        title=title or "",
        item_type=item_type,
        team=team if isinstance(team, str) else None,
        created_at=created_at,
        status_changes=tuple(statuses),
        type_changes=tuple(types),
        blocked_changes=tuple(blocked),
        url=url,
    )
    return item, team


def _status_rows(record: WorkItemRecord) -> list[tuple[datetime, str, str, bool]]:
    """The item's StatusChange rows: its state (status, type, blocked) from each change on."""
    creation = record.status_changes[0]
    status = creation.to_status
    item_type = record.type_changes[0].from_type if record.type_changes else record.item_type
    blocked = False
    events = sorted(
        [(c.at, 0, "status", c.to_status) for c in record.status_changes[1:]]
        + [(c.at, 1, "type", c.to_type) for c in record.type_changes]
        + [(c.at, 2, "blocked", c.blocked) for c in record.blocked_changes],
        key=lambda event: (event[0], event[1]),
    )
    rows = []
    for at, _, kind, value in events:
        if at >= creation.at and not rows:
            rows.append((creation.at, status, item_type, blocked))
        if kind == "status":
            status = value
        elif kind == "type":
            item_type = value
        else:
            blocked = value
        if at >= creation.at:
            rows.append((at, status, item_type, blocked))
    if not rows:
        rows.append((creation.at, status, item_type, blocked))
    return rows


def _copy_status_changes(items: list[tuple[int, WorkItemRecord]]) -> None:
    """Replace the status history of `items` (id, record): one DELETE and one COPY."""
    StatusChange.objects.filter(item_id__in=[pk for pk, _ in items]).delete()
    table = StatusChange._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f"COPY {table} (item_id, at, seq, status, source_type, blocked) FROM STDIN"
        ) as copy,
    ):
        for pk, record in items:
            previous_at, seq = None, 0
            for at, status, item_type, blocked in _status_rows(record):
                seq = seq + 1 if at == previous_at else 0
                previous_at = at
                copy.write_row((pk, at, seq, status, item_type, blocked))


# the longest text each column stores (checked before writing, so that no row reaches the
# database too long: an import reports the item and field instead of failing as a whole)
TEXT_LIMITS = {
    "external_key": 120,
    "source": 40,
    "source_type": 120,
    "title": 500,
    "url": 500,
    "source_team": 200,
    "status": 120,
    "type": 120,
}


def _texts(values: dict[str, Any], record: WorkItemRecord) -> list[tuple[str, str]]:
    """Every text of an item that is stored, named as the error reports it."""
    texts = [(name, values[name]) for name in TEXT_LIMITS if isinstance(values.get(name), str)]
    texts += [(f"status[{n}]", c.to_status) for n, c in enumerate(record.status_changes)]
    for n, change in enumerate(record.type_changes):
        texts += [(f"type[{n}]", change.from_type), (f"type[{n}]", change.to_type)]
    return texts


@transaction.atomic
def work_item_records_write(
    *,
    portfolio: Portfolio,
    records: Sequence[WorkItemRecord],
    team_refs: Sequence[TeamRef] | None = None,
    indexes: Sequence[int] | None = None,
    unknown_team: str = "error",
    dry_run: bool = False,
) -> IngestSummary:
    """Write parsed work items (see ``valuestreams.parsing.records``) to `portfolio`.

    ``team_refs`` (default: each record's ``team`` name) are resolved among the portfolio's teams;
    an unknown team is an error (``unknown_team="error"``, the API) or a warning that keeps the
    name in ``source_team`` (``"warn"``, file imports, whose team names are the source tool's).
    ``indexes`` are the records' positions reported in errors. Raises IngestRejected with every
    problem and writes nothing; in a dry run, only counts.
    """
    teams = Teams(portfolio)
    team_refs = team_refs if team_refs is not None else [r.team for r in records]
    indexes = indexes if indexes is not None else range(len(records))
    errors, warnings, rows = [], [], []
    for index, record, ref in zip(indexes, records, team_refs, strict=True):
        team_id, problem = teams.resolve(ref)
        if problem and unknown_team == "error":
            errors.append(IngestError(index, record.external_key, "team", problem))
        elif problem:
            warnings.append(IngestError(index, record.external_key, "team", problem))
        history = _status_rows(record)
        values = {
            "source": record.source,
            "external_key": record.external_key,
            "title": record.title,
            "source_type": record.item_type,
            "source_team": ref if isinstance(ref, str) else "",
            "team_id": team_id,
            "created_at": record.created_at,
            "url": record.url or "",
        }
        for name, text in _texts(values, record):
            limit = TEXT_LIMITS[name.split("[")[0]]
            if len(text) > limit:
                errors.append(
                    IngestError(
                        index,
                        record.external_key[:120],
                        name,
                        f"{name} has {len(text)} characters; at most {limit} fit.",
                    )
                )
        values["content_hash"] = content_digest({**values, "history": history})
        rows.append(values)
    if errors:
        raise IngestRejected(errors)
    summary = IngestSummary(kind="work_items", dry_run=dry_run, warnings=warnings)
    result = upsert(WorkItem, portfolio, rows, dry_run=dry_run)
    summary.created, summary.updated = len(result.created), len(result.updated)
    summary.unchanged = result.unchanged
    if not dry_run:
        by_identity = {(r.source, r.external_key): r for r in records}
        changed = [
            (obj.pk, by_identity[(obj.source, obj.external_key)])
            for obj in [*result.created, *result.updated]
        ]
        if changed:
            _copy_status_changes(changed)
        summary.item_ids = [pk for pk, _ in changed]
        request_recompute(portfolio, summary)
    return summary


def work_items_ingest(
    *, portfolio: Portfolio, records: Any, source: str | None = None, dry_run: bool = False
) -> IngestSummary:
    """Ingest a JSON batch of work items (payloads: parsing.batch); raises IngestRejected."""
    warnings: list[IngestError] = []
    parsed, errors = parse_batch(records, source, Teams(portfolio), _work_item, warnings)
    if errors:
        raise IngestRejected(errors)
    summary = work_item_records_write(
        portfolio=portfolio,
        records=[value[0] for _, _, value in parsed],
        team_refs=[value[1] for _, _, value in parsed],
        indexes=[index for index, _, _ in parsed],
        dry_run=dry_run,
    )
    summary.warnings = warnings + summary.warnings
    return summary
