"""Parse the tool-neutral CSV pair (issues.csv + changes.csv) into work-item records.

``issues.csv``, one row per item::

    key,type,title,team,created[,url]
    STW-101,Story,Export investment mix,Payments,2024-03-04T09:12:45+01:00

``changes.csv``, one row per change, in any order::

    key,from,to,time[,field]
    STW-101,,To Do,2024-03-04T09:12:45+01:00,status
    STW-101,To Do,In Progress,2024-03-05T10:15:30.123+01:00,status

Rules:

- Files are UTF-8 (a BOM is tolerated), comma-separated, with CRLF or LF line ends. Header names are
  matched ignoring case and surrounding spaces; columns may come in any order; unknown columns are
  ignored. Values are stripped of surrounding spaces. Rows whose cells are all empty are skipped.
- ``type`` is the item's current type; ``team`` may be empty; ``title`` may be empty.
- Times are ISO 8601 with an offset or ``Z``; a time without one is an error (never guessed).
- ``field`` is ``status`` (the default when the column or the cell is empty), ``type`` or
  ``blocked``. For ``blocked`` rows ``to`` says whether the item is now blocked (true/yes/1/blocked/
  on/flagged/impediment) or not (empty/false/no/0/unblocked/off); ``from`` is ignored.
- An item's creation status: if its earliest status row has an empty ``from``, that row's ``to`` is
  the creation status (entered at that row's time); otherwise the earliest row's ``from`` is the
  status at ``created`` (as in Jira). An item needs at least one status row.
- ``from`` on a later row only serves as a check: when it differs from the previous row's ``to``
  the import goes on with a *warning* (the history is kept as a chain of ``to`` values, which is
  what flow metrics use). Refusing a file for a redundant column would be too strict, and a
  renamed status produces exactly this harmlessly.
- ``row`` in errors is the spreadsheet row number (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from valuestreams.parsing.records import (
    UNSTORABLE_MESSAGE,
    ParseResult,
    RowError,
    StatusChangeRecord,
    TypeChangeRecord,
    WorkItemRecord,
    blocked_history,
    chain_mismatch_message,
    link_changes,
    parse_timestamp,
    storable_text,
)

ISSUES_FILE = "issues.csv"
CHANGES_FILE = "changes.csv"
ISSUE_COLUMNS = ("key", "type", "title", "team", "created")
ISSUE_OPTIONAL_COLUMNS = ("url",)
CHANGE_COLUMNS = ("key", "from", "to", "time")
CHANGE_OPTIONAL_COLUMNS = ("field",)
CHANGE_FIELDS = ("status", "type", "blocked")
BLOCKED_ON = frozenset({"true", "yes", "y", "1", "on", "blocked", "flagged", "impediment"})
BLOCKED_OFF = frozenset({"", "false", "no", "n", "0", "off", "unblocked"})


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Issue:
    row: int
    key: str
    item_type: str
    title: str
    team: str | None
    created_at: datetime
    url: str | None


@dataclass(frozen=True, slots=True)
class _Change:
    row: int
    kind: str
    at: datetime
    from_value: str | None
    to_value: str | None
    blocked: bool


def parse_csv_pair(
    issues_csv: str | bytes, changes_csv: str | bytes, *, source: str = "csv"
) -> ParseResult:
    """Return the work items of an issues.csv / changes.csv pair, with every error and warning.

    ``source`` becomes each record's source (the identity is source + key): pass "jira" when the
    CSV was exported from Jira and should update the same items as a Jira import. Every row is
    checked and every problem reported; an item with an error in its issue row or any of its change
    rows is left out of ``items``. Items keep the order of issues.csv. A file-level problem (not
    UTF-8, empty, a required column missing) is one error for that file.
    """
    result = ParseResult()
    issue_rows = _read_table(issues_csv, ISSUES_FILE, ISSUE_COLUMNS, ISSUE_OPTIONAL_COLUMNS, result)
    change_rows = _read_table(
        changes_csv, CHANGES_FILE, CHANGE_COLUMNS, CHANGE_OPTIONAL_COLUMNS, result
    )

    issues: dict[str, _Issue] = {}
    known_keys: dict[str, int] = {}
    failed_keys: set[str] = set()
    for row in issue_rows or ():
        result.rows_read += 1
        issue = _parse_issue_row(row, known_keys, result.errors)
        if issue is not None:
            issues[issue.key] = issue

    changes: dict[str, list[_Change]] = defaultdict(list)
    keys_with_status_rows: set[str] = set()
    for row in change_rows or ():
        key = row.values["key"]
        if (row.values.get("field") or "status").casefold() == "status":
            keys_with_status_rows.add(key)
        if not key:
            _fail(result, CHANGES_FILE, row.number, None, "key", "the key is empty")
        elif issue_rows is not None and key not in known_keys:
            _fail(
                result,
                CHANGES_FILE,
                row.number,
                key,
                "key",
                f"{key} is not in issues.csv; every change must belong to an issue listed there",
            )
        change = _parse_change_row(row, key, result)
        if change is None:
            failed_keys.add(key)
        else:
            changes[key].append(change)

    if change_rows is None:
        return result
    for key, issue in issues.items():
        record = _build_item(
            issue,
            sorted(changes[key], key=lambda c: (c.at, c.row)),
            source=source,
            has_status_rows=key in keys_with_status_rows,
            result=result,
        )
        # The checks ran for every item, so that one upload reports every error.
        if record is not None and key not in failed_keys:
            result.items.append(record)
    return result


def _read_table(
    content: str | bytes,
    file: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    result: ParseResult,
) -> list[_Row] | None:
    """Return the non-blank data rows of a CSV file, or None when the file itself is unusable.

    Cells are made storable (NUL dropped, unpaired surrogates replaced), with a warning naming
    the row, key and column of each cell that changed."""

    def fail(message: str, row: int | None = None) -> None:
        result.errors.append(RowError(row=row, key=None, field="", message=message, file=file))

    expected = f"{','.join(required)} (optional: {','.join(optional)})"
    if isinstance(content, bytes | bytearray):
        try:
            content = bytes(content).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            fail(f"{file} is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'")
            return None
    text = content.removeprefix("\ufeff")
    if not text.strip():
        fail(f"{file} is empty; expected a header row naming {expected}")
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:
        fail(f"{file} is not valid CSV near line {reader.line_num}: {exc}")
        return None
    header = [storable_text(name).strip().casefold() for name in records[0]]
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        fail(f"{file} names the column(s) {', '.join(duplicates)} more than once", row=1)
        return None
    missing = [name for name in required if name not in header]
    if missing:
        hint = ""
        if len(header) == 1 and ";" in header[0]:
            hint = " The header looks separated by semicolons; save the file comma-separated."
        fail(
            f"{file} is missing the column(s) {', '.join(missing)}; its header must name "
            f"{expected}, in any order and any case.{hint}",
            row=1,
        )
        return None
    rows = []
    for number, record in enumerate(records[1:], start=2):
        cells = [storable_text(cell).strip() for cell in record]
        if not any(cells):
            continue
        for name, raw in zip(header, record, strict=False):
            if storable_text(raw) != raw:
                key = cells[header.index("key")] if "key" in header else None
                result.warnings.append(
                    RowError(
                        row=number, key=key or None, field=name, message=UNSTORABLE_MESSAGE,
                        file=file,
                    )
                )  # fmt: skip
        if any(cells[len(header) :]):
            fail(
                f"{file} row {number} has {len(cells)} values but the header has "
                f"{len(header)} columns; quote values that contain commas",
                row=number,
            )
            continue
        cells += [""] * (len(header) - len(cells))
        values = {name: cell for name, cell in zip(header, cells, strict=False) if name}
        rows.append(_Row(number=number, values=values))
    return rows


def _parse_issue_row(
    row: _Row, known_keys: dict[str, int], errors: list[RowError]
) -> _Issue | None:
    values = row.values
    key = values["key"] or None
    problems = []
    if key is None:
        problems.append(("key", "the key is empty; every issue needs its key, e.g. PROJ-123"))
    elif key in known_keys:
        problems.append(
            ("key", f"{key} is already on row {known_keys[key]}; each issue must appear once")
        )
    else:
        known_keys[key] = row.number
    if not values["type"]:
        problems.append(("type", "the type is empty; expected the item's type, e.g. Story or Bug"))
    created_at = None
    try:
        created_at = parse_timestamp(values["created"])
    except ValueError as exc:
        problems.append(("created", f"created {exc}"))
    for field, message in problems:
        errors.append(
            RowError(row=row.number, key=key, field=field, message=message, file=ISSUES_FILE)
        )
    if problems or key is None or created_at is None:
        return None
    return _Issue(
        row=row.number,
        key=key,
        item_type=values["type"],
        title=values["title"],
        team=values["team"] or None,
        created_at=created_at,
        url=values.get("url") or None,
    )


def _parse_change_row(row: _Row, key: str, result: ParseResult) -> _Change | None:
    values = row.values
    errors_before = result.error_count
    kind = (values.get("field") or "status").casefold()
    if kind not in CHANGE_FIELDS:
        _fail(
            result,
            CHANGES_FILE,
            row.number,
            key or None,
            "field",
            f"{values['field']!r} is not a known field; expected status, type or blocked",
        )
    at = None
    try:
        at = parse_timestamp(values["time"])
    except ValueError as exc:
        _fail(result, CHANGES_FILE, row.number, key or None, "time", f"time {exc}")
    to_value = values["to"]
    blocked = False
    if kind == "blocked":
        if to_value.casefold() in BLOCKED_ON:
            blocked = True
        elif to_value.casefold() not in BLOCKED_OFF:
            _fail(
                result,
                CHANGES_FILE,
                row.number,
                key or None,
                "to",
                f"{to_value!r} is not a blocked state; expected true/false, yes/no, 1/0 or "
                f"blocked/unblocked",
            )
    elif kind in CHANGE_FIELDS and not to_value:
        _fail(
            result,
            CHANGES_FILE,
            row.number,
            key or None,
            "to",
            f"to is empty; expected the {kind} the item entered",
        )
    if result.error_count > errors_before or at is None or not key:
        return None
    return _Change(
        row=row.number,
        kind=kind,
        at=at,
        from_value=values["from"] or None,
        to_value=to_value or None,
        blocked=blocked,
    )


def _build_item(
    issue: _Issue,
    changes: list[_Change],
    *,
    source: str,
    has_status_rows: bool,
    result: ParseResult,
) -> WorkItemRecord | None:
    """Check an item's history across rows and return its record, or None if a check failed.

    ``changes`` are the item's valid change rows in time order; ``has_status_rows`` says whether
    changes.csv had any status row for it, valid or not.
    """
    errors_before = result.error_count
    key = issue.key
    for change in changes:
        if change.at < issue.created_at:
            _fail(
                result,
                CHANGES_FILE,
                change.row,
                key,
                "time",
                f"this {change.kind} change at {change.at.isoformat()} is before {key} was "
                f"created ({issue.created_at.isoformat()}, issues.csv row {issue.row})",
            )
    statuses = [change for change in changes if change.kind == "status"]
    types = [change for change in changes if change.kind == "type"]
    if not has_status_rows:
        _fail(
            result,
            ISSUES_FILE,
            issue.row,
            key,
            "key",
            f"{key} has no status row in changes.csv; add one with an empty from, the status it "
            f"was created in as to, and its created time",
        )
    if types and types[0].from_value is None:
        _fail(
            result,
            CHANGES_FILE,
            types[0].row,
            key,
            "from",
            f"from is empty on the first type change of {key}; expected the type it was created as",
        )
    if result.error_count > errors_before or not statuses:
        return None

    first = statuses[0]
    if first.from_value is None:
        creation = StatusChangeRecord(first.at, None, first.to_value)
        later = statuses[1:]
    else:
        creation = StatusChangeRecord(issue.created_at, None, first.from_value)
        later = statuses
    status_links = link_changes(
        creation.to_status, ((c.at, c.from_value, c.to_value) for c in later)
    )
    type_links = link_changes(
        types[0].from_value if types else issue.item_type,
        ((c.at, c.from_value, c.to_value) for c in types),
    )
    for kind, rows, links in (("status", later, status_links), ("type", types, type_links)):
        for change, link in zip(rows, links, strict=True):
            if link.mismatched:
                result.warnings.append(
                    RowError(
                        row=change.row,
                        key=key,
                        field="from",
                        message=chain_mismatch_message(kind, link.given_from, link.from_value),
                        file=CHANGES_FILE,
                    )
                )
    if types and types[-1].to_value != issue.item_type:
        result.warnings.append(
            RowError(
                row=issue.row,
                key=key,
                field="type",
                message=(
                    f"the last type change of {key} (changes.csv row {types[-1].row}) entered "
                    f"{types[-1].to_value!r} but its type is {issue.item_type!r}; kept "
                    f"{issue.item_type!r} as the current type"
                ),
                file=ISSUES_FILE,
            )
        )
    return WorkItemRecord(
        source=source,
        external_key=key,
        title=issue.title,
        item_type=issue.item_type,
        team=issue.team,
        created_at=issue.created_at,
        status_changes=(
            creation,
            *(StatusChangeRecord(link.at, link.from_value, link.to_value) for link in status_links),
        ),
        type_changes=tuple(
            TypeChangeRecord(link.at, link.from_value, link.to_value) for link in type_links
        ),
        blocked_changes=blocked_history(
            (change.at, change.blocked) for change in changes if change.kind == "blocked"
        ),
        url=issue.url,
    )


def _fail(
    result: ParseResult, file: str, row: int, key: str | None, field: str, message: str
) -> None:
    result.errors.append(RowError(row=row, key=key, field=field, message=message, file=file))
