"""The neutral structure every import format is parsed into, and helpers shared by the parsers.

The parsers (``jira.py``, ``csvpair.py``) are pure: text in, :class:`ParseResult` out. They never
touch Django, the database or the clock. A service later writes the records idempotently, keyed on
``(source, external_key)``, and refuses the whole import when ``ParseResult.errors`` is not empty.

Conventions shared by every record:

- every datetime is aware and in UTC;
- ``WorkItemRecord.status_changes`` is the full status history: the first entry is the status the
  item was created in (``from_status is None``), and each later ``from_status`` equals the previous
  ``to_status`` (the parsers normalise the chain and warn where the source disagreed);
- the order of every tuple is chronological, ties kept in source order.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portfolio.date_range import DATE_RANGE_TEXT, in_date_range
from portfolio.downloads import neutralise_cell

# Characters that make a spreadsheet treat a cell as a formula (or a DDE command), per OWASP's
# "CSV injection" guidance. A leading tab or carriage return can hide such a prefix.


# PostgreSQL stores no NUL character in text (nor \u0000 in jsonb), and UTF-8 has no unpaired
# surrogate (which a JSON escape such as "\ud800" decodes to): real Jira Cloud data has both.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_JSON_DEPTH = 64
UNSTORABLE_MESSAGE = (
    "removed NUL characters and replaced unpaired surrogates (\\ud800–\\udfff escapes) with "
    "U+FFFD: the database cannot store them"
)


def storable_text(text: str) -> str:
    """`text` without the characters PostgreSQL cannot store: NUL is dropped, an unpaired
    surrogate becomes U+FFFD (the replacement character). Other text is returned unchanged."""
    if not UNSTORABLE.search(text):
        return text
    return UNSTORABLE.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", text)


class JsonTooDeep(ValueError):
    """Decoded JSON nests deeper than MAX_JSON_DEPTH: no export Steward reads does."""


def storable_json(data: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    """Decoded JSON with every text (keys included) made storable by :func:`storable_text`, and
    the path (keys and list positions from the root) of each text that changed.

    Walks without recursion and raises JsonTooDeep past MAX_JSON_DEPTH levels, so that nothing
    later recurses through a hostile file.
    """
    changed: list[tuple[Any, ...]] = []
    root = [data]
    stack: list[tuple[Any, Any, tuple[Any, ...]]] = [(root, 0, ())]
    while stack:
        container, key, path = stack.pop()
        value = container[key]
        if len(path) > MAX_JSON_DEPTH:
            raise JsonTooDeep(
                f"the JSON nests more than {MAX_JSON_DEPTH} levels deep (at {json_path(path[:4])}…)"
            )
        if isinstance(value, str):
            clean = storable_text(value)
            if clean != value:
                container[key] = clean
                changed.append(path)
        elif isinstance(value, list):
            stack.extend((value, index, (*path, index)) for index in range(len(value)))
        elif isinstance(value, dict):
            if any(storable_text(name) != name for name in value):
                changed.extend((*path, name) for name in value if storable_text(name) != name)
                value = container[key] = {storable_text(k): v for k, v in value.items()}
            stack.extend((value, name, (*path, name)) for name in value)
    return root[0], changed


def json_path(path: tuple[Any, ...]) -> str:
    """``("fields", "summary")`` → ``fields.summary``; list positions as ``[3]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{storable_text(str(part))}"
    return text.lstrip(".")


def _require_aware_utc(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got a naive one: {value!r}")
    if value.utcoffset().total_seconds() != 0:
        raise ValueError(f"{name} must be in UTC, got offset {value.utcoffset()}: {value!r}")


@dataclass(frozen=True, slots=True)
class StatusChangeRecord:
    """The item entered ``to_status`` at ``at`` (UTC); ``from_status`` is None for the creation."""

    at: datetime
    from_status: str | None
    to_status: str

    def __post_init__(self) -> None:
        _require_aware_utc(self.at, "StatusChangeRecord.at")


@dataclass(frozen=True, slots=True)
class TypeChangeRecord:
    """The item's type changed from ``from_type`` to ``to_type`` at ``at`` (UTC)."""

    at: datetime
    from_type: str
    to_type: str

    def __post_init__(self) -> None:
        _require_aware_utc(self.at, "TypeChangeRecord.at")


@dataclass(frozen=True, slots=True)
class BlockedChangeRecord:
    """The item became blocked (``blocked=True``) or unblocked (``False``) at ``at`` (UTC)."""

    at: datetime
    blocked: bool

    def __post_init__(self) -> None:
        _require_aware_utc(self.at, "BlockedChangeRecord.at")


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkItemRecord:
    """One work item as read from a source, ready to be written idempotently.

    ``item_type`` is the item's current type as the source names it ("Story", "Bug"); its earlier
    types are in ``type_changes`` (the creation type is the first change's ``from_type``).
    ``team`` is the source's team name or key, unresolved. Raises ValueError when the history
    breaks the conventions in the module docstring, so a record is valid once it exists.
    """

    source: str
    external_key: str
    title: str
    item_type: str
    team: str | None
    created_at: datetime
    status_changes: tuple[StatusChangeRecord, ...]
    type_changes: tuple[TypeChangeRecord, ...] = ()
    blocked_changes: tuple[BlockedChangeRecord, ...] = ()
    url: str | None = None

    def __post_init__(self) -> None:
        _require_aware_utc(self.created_at, "WorkItemRecord.created_at")
        if not self.status_changes:
            raise ValueError(f"{self.external_key}: status_changes must start with the creation")
        if self.status_changes[0].from_status is not None:
            raise ValueError(f"{self.external_key}: the first status change must be the creation")
        previous = self.status_changes[0]
        for change in self.status_changes[1:]:
            if change.from_status != previous.to_status:
                raise ValueError(f"{self.external_key}: status chain broken at {change.at}")
            previous = change
        for name in ("status_changes", "type_changes", "blocked_changes"):
            times = [change.at for change in getattr(self, name)]
            if times != sorted(times):
                raise ValueError(f"{self.external_key}: {name} must be in chronological order")


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem found in one row (CSV) or issue (Jira), worded for the person who uploaded it.

    ``row`` is 1-based: the spreadsheet row number in a CSV file (the header is row 1), or the
    position of the issue in a Jira search response (across all pages). It is None for a problem
    with the file as a whole. ``file`` names the CSV file ("issues.csv", "changes.csv"); it is empty
    for a Jira response. ``field`` is the column or the JSON path within the issue.
    """

    row: int | None
    key: str | None
    field: str
    message: str
    file: str = ""


@dataclass(slots=True)
class ParseResult:
    """What a parser found: the valid items, every error and every warning, in input order.

    Errors block an import (the caller is all-or-nothing); warnings are shown but do not.
    ``items`` holds only the items that parsed without error, so a dry run can show what would be
    imported. ``rows_read`` counts the issues (Jira) or issue rows (CSV) that were read.
    """

    items: list[WorkItemRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing blocks the import."""
        return not self.errors

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def error_count(self) -> int:
        return len(self.errors)

    @property
    def warning_count(self) -> int:
        return len(self.warnings)

    @property
    def status_change_count(self) -> int:
        """Status history entries across all items, the creation entries included."""
        return sum(len(item.status_changes) for item in self.items)

    @property
    def type_change_count(self) -> int:
        return sum(len(item.type_changes) for item in self.items)

    @property
    def blocked_change_count(self) -> int:
        return sum(len(item.blocked_changes) for item in self.items)


def parse_timestamp(value: object) -> datetime:
    """Return ``value`` (an ISO 8601 string with an offset or ``Z``) as an aware UTC datetime.

    Accepts Jira's ``2024-03-05T10:15:30.123+0100`` as well as ``+01:00`` and ``Z``. Raises
    ValueError with a message fit for the user when the value is not a string, is not ISO 8601,
    has no offset (a time zone is never guessed) or lies outside the dates Steward accepts
    (:mod:`portfolio.date_range`: 1970-01-01 to 2200-12-31).
    """
    if not isinstance(value, str):
        raise ValueError(
            f"expected an ISO 8601 date-time text such as 2024-03-05T10:15:30+01:00, "
            f"got {type(value).__name__} {value!r}"
        )
    text = value.strip()
    if not text:
        raise ValueError("is empty; expected an ISO 8601 date-time such as 2024-03-05T10:15:30Z")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date-time; "
            f"expected e.g. 2024-03-05T10:15:30+01:00 or 2024-03-05T09:15:30Z"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            f"{text!r} has no time zone offset; add one, e.g. {parsed.isoformat()}+01:00 "
            f"or {parsed.isoformat()}Z (a time zone is never guessed)"
        )
    if not in_date_range(parsed):
        raise ValueError(f"{text!r} is outside the dates Steward accepts ({DATE_RANGE_TEXT})")
    return parsed.astimezone(UTC)


ERROR_REPORT_HEADER = ("level", "file", "row", "key", "field", "message")


def csv_error_report(errors: Iterable[RowError], *, warnings: Iterable[RowError] = ()) -> str:
    """Return a CSV text listing ``errors`` (then ``warnings``), one problem per line.

    Columns: level (error/warning), file, row, key, field, message. Every cell is neutralised
    against formula injection, since keys and messages quote what the user uploaded. Lines end
    with CRLF (RFC 4180); encode with ``utf-8-sig`` so that Excel reads accents correctly.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ERROR_REPORT_HEADER)
    for level, problems in (("error", errors), ("warning", warnings)):
        for problem in problems:
            cells = (
                level,
                problem.file,
                "" if problem.row is None else problem.row,
                problem.key or "",
                problem.field,
                problem.message,
            )
            writer.writerow([neutralise_cell(cell) for cell in cells])
    return buffer.getvalue()


def chain_mismatch_message(kind: str, given: str, expected: str) -> str:
    """Wording shared by the parsers when a change's ``from`` disagrees with the previous ``to``."""
    return (
        f"this {kind} change says it left {given!r}, but the previous change entered "
        f"{expected!r}; kept the history as a chain from {expected!r} (a renamed {kind} "
        f"or a missing change row can cause this)"
    )


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One link of a normalised history: the item left ``from_value`` for ``to_value`` at ``at``.

    ``given_from`` is what the source said it left (None when it did not say); it differs from
    ``from_value`` only where the source's history is not a chain.
    """

    at: datetime
    from_value: str
    to_value: str
    given_from: str | None

    @property
    def mismatched(self) -> bool:
        """True when the source named a different value than the one the item was in."""
        return self.given_from is not None and self.given_from != self.from_value


def link_changes(
    initial: str, changes: Iterable[tuple[datetime, str | None, str]]
) -> list[ChainLink]:
    """Chain ``changes`` (already in time order) starting from ``initial``.

    Each change is ``(at, given_from, to)``. The returned links always leave the value the previous
    link entered, whatever the source said; compare ``given_from`` with ``from_value`` to warn.
    """
    links = []
    current = initial
    for at, given_from, to_value in changes:
        links.append(ChainLink(at=at, from_value=current, to_value=to_value, given_from=given_from))
        current = to_value
    return links


def blocked_history(changes: Iterable[tuple[datetime, bool]]) -> tuple[BlockedChangeRecord, ...]:
    """Turn ``(at, blocked)`` observations (in time order) into changes of the blocked state.

    An item starts unblocked; an observation that does not change the state is dropped, so the
    result alternates blocked on / off.
    """
    records = []
    blocked = False
    for at, now_blocked in changes:
        if now_blocked != blocked:
            records.append(BlockedChangeRecord(at, now_blocked))
            blocked = now_blocked
    return tuple(records)
