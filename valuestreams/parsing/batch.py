"""Reading a JSON batch of the ingest API: typed access to each raw record, the portfolio's teams,
and every problem found (:class:`IngestError`), refused at once (:class:`IngestRejected`).

Every problem is collected; none stops the others being found. Each record is checked before
anything is written (by `valuestreams.services.work_items` and `valuestreams.services.deliveries`):
one bad record refuses the whole batch, listing **every** problem (index, key, field, message).

Payloads (JSON objects; times are ISO 8601 with an offset or Z; ``team`` is a team id of the
portfolio or a team name; ``source`` may be given per batch instead of per record):

- work item: ``key``, ``type``, ``created_at``, ``status_history`` [{``at``, ``status``}, ...]
  (the first entry is the status it was created in), optional ``source``, ``title``, ``team``,
  ``url``, ``type_changes`` [{``at``, ``from``, ``to``}] (``from`` needed on the first),
  ``blocked_changes`` [{``at``, ``blocked``}].
- deployment: ``key``, ``finished_at``, optional ``source``, ``team``, ``environment``
  ("production"), ``successful`` (true), ``is_rework`` (false), ``started_at``.
- incident: ``key``, ``created_at``, optional ``source``, ``title``, ``team``, ``resolved_at``,
  ``deployment`` (a deployment's key) and ``deployment_source`` (default: the incident's source).
- change: ``key``, ``first_commit_at``, optional ``source``, ``team``, ``deployment``,
  ``deployment_source``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portfolio.models import Portfolio
from teams.models import ProductTeam
from valuestreams.parsing.records import UNSTORABLE_MESSAGE, parse_timestamp, storable_text

MAX_RECORDS = 5000
TeamRef = int | str | None


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


class RawRecord:
    """Typed access to one raw record; each getter records a clear error and returns None."""

    def __init__(
        self,
        index: int,
        raw: Mapping[str, Any],
        *,
        source: str | None,
        teams: Teams,
        errors: list[IngestError],
        warnings: list[IngestError] | None = None,
    ) -> None:
        self.index, self.raw, self.teams, self.errors = index, raw, teams, errors
        self.warnings = warnings if warnings is not None else []
        key = raw.get("key")
        key = storable_text(key).strip() if isinstance(key, str) else None
        self.key = key or None
        self.failed = False
        self.key = self.text("key", required=True, max_length=120)
        raw_source = raw.get("source", source)
        self.source = self.text("source", required=True, max_length=40, value=raw_source)

    def fail(self, field: str, message: str) -> None:
        self.failed = True
        self.errors.append(IngestError(self.index, self.key, field, message))

    def text(
        self, name: str, *, required: bool = False, max_length: int, value: Any = ..., default=""
    ) -> str | None:
        value = self.raw.get(name) if value is ... else value
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, f"{name} is required and must not be empty.")
                return None
            return default
        if not isinstance(value, str):
            self.fail(name, f"{name} must be a text, got {kind_of(value)}.")
            return None
        if storable_text(value) != value:
            self.warnings.append(IngestError(self.index, self.key, name, UNSTORABLE_MESSAGE))
            value = storable_text(value)
        value = value.strip()
        if len(value) > max_length:
            self.fail(name, f"{name} has {len(value)} characters; at most {max_length} fit.")
            return None
        return value

    def time(self, name: str, *, required: bool = False, value: Any = ...) -> datetime | None:
        value = self.raw.get(name) if value is ... else value
        if value is None:
            if required:
                self.fail(name, f"{name} is required: a time such as 2024-03-05T10:15:30Z.")
            return None
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            self.fail(name, f"{name} {exc}.")
            return None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw.get(name, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, f"{name} must be true or false, got {kind_of(value)}.")
            return default
        return value

    def team(self) -> tuple[TeamRef, int | None]:
        """The team as given (id or name) and its id in the portfolio."""
        value = self.raw.get("team")
        if isinstance(value, str):
            value = storable_text(value).strip() or None
        elif isinstance(value, bool) or not isinstance(value, int | None):
            self.fail("team", f"team must be a team id or a team name, got {kind_of(value)}.")
            return None, None
        team_id, problem = self.teams.resolve(value)
        if problem:
            self.fail("team", problem)
        return value, team_id

    def entries(self, name: str, *, required: bool = False) -> list[Mapping[str, Any]]:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.fail(name, f"{name} is required: a list of {{at, ...}} entries.")
            return []
        if not isinstance(value, list):
            self.fail(name, f"{name} must be a list, got {kind_of(value)}.")
            return []
        if required and not value:
            self.fail(name, f"{name} must not be empty; its first entry is the creation status.")
        good = []
        for position, entry in enumerate(value):
            if isinstance(entry, dict):
                good.append(entry)
            else:
                self.fail(f"{name}[{position}]", f"must be an object, got {kind_of(entry)}.")
        return good

    def deployment_ref(self) -> tuple[str, str] | None:
        key = self.text("deployment", max_length=120, default=None)
        if key is None:
            return None
        source = self.text("deployment_source", max_length=40, default=self.source)
        return (source or "", key)


def kind_of(value: Any) -> str:
    """What `value` is, for an error message: e.g. ``a number (5)``."""
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a text"}
    names |= {list: "a list", dict: "an object", type(None): "null"}
    return f"{names.get(type(value), type(value).__name__)} ({json.dumps(value, default=str)[:40]})"


def parse_batch(
    records: Any,
    source: str | None,
    teams: Teams,
    parse: Callable[[RawRecord], Any],
    warnings: list[IngestError] | None = None,
) -> tuple[list[tuple[int, RawRecord, Any]], list[IngestError]]:
    """Check the batch's shape and every record; return the parsed records and every error.

    A text with characters the database cannot store is cleaned (storable_text) and a warning
    naming its record and field is added to `warnings`."""
    if not isinstance(records, list):
        raise IngestRejected(
            [IngestError(None, None, "records", f"records must be a list, got {kind_of(records)}.")]
        )
    if not records:
        raise IngestRejected([IngestError(None, None, "records", "records is empty.")])
    if len(records) > MAX_RECORDS:
        raise IngestRejected(
            [
                IngestError(
                    None,
                    None,
                    "records",
                    f"{len(records)} records; send at most {MAX_RECORDS} per request.",
                )
            ]
        )
    errors: list[IngestError] = []
    parsed = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(records):
        if not isinstance(raw, dict):
            errors.append(IngestError(index, None, "", f"must be an object, got {kind_of(raw)}."))
            continue
        record = RawRecord(index, raw, source=source, teams=teams, errors=errors, warnings=warnings)
        identity = (record.source, record.key)
        if record.key and record.source and identity in seen:
            record.fail("key", f"{record.key} is already record {seen[identity]} of this batch.")
        elif record.key and record.source:
            seen[identity] = index
        value = parse(record)
        if not record.failed and value is not None:
            parsed.append((index, record, value))
    return parsed, errors


class Teams:
    """The portfolio's teams by id and by name (case-insensitive), loaded with one query."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.portfolio = portfolio
        self.by_id: dict[int, str] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for pk, name in ProductTeam.objects.filter(value_stream__portfolio=portfolio).values_list(
            "pk", "name"
        ):
            self.by_id[pk] = name
            self.by_name[name.strip().casefold()].append(pk)

    def resolve(self, ref: TeamRef) -> tuple[int | None, str | None]:
        """(team id, None) or (None, why not)."""
        if ref is None:
            return None, None
        if isinstance(ref, int):
            if ref in self.by_id:
                return ref, None
            return None, f"team {ref} is not a team of {self.portfolio}; use its id or name."
        matches = self.by_name.get(ref.casefold(), [])
        if len(matches) == 1:
            return matches[0], None
        if matches:
            return None, (
                f"{len(matches)} teams of {self.portfolio} are named {ref!r}; give the team id "
                f"({', '.join(map(str, matches))})."
            )
        return None, f"no team named {ref!r} in {self.portfolio}; use a team id or an exact name."
