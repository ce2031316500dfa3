"""Parse Jira REST search results fetched with ``expand=changelog`` into work-item records.

Accepted: the JSON of ``GET/POST /rest/api/2/search`` (Server, Data Center and Cloud), of the Cloud
``/rest/api/3/search`` and ``/rest/api/3/search/jql`` (``isLast``/``nextPageToken`` pages), or a
list of such pages. What is read from each issue:

==========================  =====================================================================
``key``                     the external key (required)
``self``                    turned into the browse URL ``https://host/browse/KEY``
``fields.summary``          the title (empty when not requested)
``fields.issuetype.name``   the current type (required)
``fields.created``          the creation time, e.g. ``2024-03-05T10:15:30.123+0100`` (required)
``fields.status.name``      the creation status when the changelog has no status change
``fields.<team_field>``     the team: a text, an Atlassian Team (its ``name``) or an option
``changelog.histories``     ``status``, ``issuetype`` and ``Flagged`` items (``fromString`` and
                            ``toString``); any other item is ignored
==========================  =====================================================================

``fields.resolutiondate`` is not read: the status history says when an item was done.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from valuestreams.parsing.records import (
    UNSTORABLE_MESSAGE,
    BlockedChangeRecord,
    ChainLink,
    JsonTooDeep,
    ParseResult,
    RowError,
    StatusChangeRecord,
    TypeChangeRecord,
    WorkItemRecord,
    blocked_history,
    chain_mismatch_message,
    json_path,
    link_changes,
    parse_timestamp,
    storable_json,
)

SOURCE = "jira"
NOT_A_SEARCH = "a Jira search response nests about ten levels, so this file is not one"

FIELDS_HINT = "request fields=summary,issuetype,status,created (plus the team field)"

Fail = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class _Change:
    """One changelog item of interest, with where it was found (for errors and warnings)."""

    at: datetime
    order: tuple[int, int, int]  # history id, history index, item index: ties keep source order
    location: str
    from_string: str | None
    to_string: str | None


def parse_jira_search(
    data: dict[str, Any] | list[Any] | bytes | str, *, team_field: str | None = None
) -> ParseResult:
    """Return the work items of one Jira search response (or a list of pages), with every error.

    ``data`` is the decoded JSON or its text (UTF-8, a BOM is tolerated). ``team_field`` is the id
    of the field holding the team (``customfield_10001``) or, if the response was fetched with
    ``expand=names``, its display name ("Team"); without it every item's team is None.

    Every issue is checked and every problem reported (``RowError.row`` is the issue's 1-based
    position across all pages); an issue with an error is left out of ``items``. Items keep the
    order of the response. Warnings (not blocking): pages missing from the file, a team field no
    issue has, histories whose ``fromString`` disagrees with the previous ``toString`` (usually a
    renamed status), and an issue repeated identically by overlapping pages.
    """
    result = ParseResult()
    cleaned: list[tuple[Any, ...]] = []
    pages = _load_pages(data, result.errors, cleaned)
    if pages is None:
        return result
    result.warnings.extend(_cleaned_warnings(pages, cleaned))
    team_field_id = _resolve_team_field(team_field, pages)
    first_seen: dict[str, tuple[int, object]] = {}
    conflicting: set[str] = set()
    row = 0
    for page_number, page in enumerate(pages, start=1):
        issues = page.get("issues")
        if not isinstance(issues, list):
            result.errors.append(
                RowError(
                    row=None,
                    key=None,
                    field="issues",
                    message=(
                        f"page {page_number} has no 'issues' list; expected the JSON returned by "
                        f"Jira's /rest/api/2/search or /rest/api/3/search/jql"
                    ),
                )
            )
            continue
        for issue in issues:
            row += 1
            result.rows_read += 1
            key = _key_of(issue)
            if key is not None and key in first_seen:
                first_row, first_issue = first_seen[key]
                if issue == first_issue:
                    result.warnings.append(
                        RowError(
                            row=row,
                            key=key,
                            field="key",
                            message=(
                                f"{key} appears again, identical to issue {first_row}; imported "
                                f"once (the pages probably overlap)"
                            ),
                        )
                    )
                    continue
                conflicting.add(key)
                result.errors.append(
                    RowError(
                        row=row,
                        key=key,
                        field="key",
                        message=(
                            f"{key} appears twice with different content (issues {first_row} "
                            f"and {row}); export the search again in one go"
                        ),
                    )
                )
            elif key is not None:
                first_seen[key] = (row, issue)
            errors: list[RowError] = []
            warnings: list[RowError] = []
            record = _parse_issue(issue, row, team_field_id, errors, warnings)
            result.errors.extend(errors)
            result.warnings.extend(warnings)
            if record is not None:
                result.items.append(record)
    result.items = [item for item in result.items if item.external_key not in conflicting]
    if team_field is not None and result.rows_read and not _any_issue_has(pages, team_field_id):
        result.warnings.append(
            RowError(
                row=None,
                key=None,
                field=team_field,
                message=(
                    f"no issue has the team field {team_field!r}; every team is left empty. "
                    f"Use the field id (e.g. customfield_10001) and include it in fields"
                ),
            )
        )
    result.warnings.extend(_pagination_warnings(pages, result.rows_read))
    return result


def _load_pages(
    data: object, errors: list[RowError], cleaned: list[tuple[Any, ...]]
) -> list[dict[str, Any]] | None:
    """The pages of a search response, decoded and with every text made storable (the paths of
    the texts that changed, from the page's position on, are added to `cleaned`); None with an
    error when the file is not such a response."""

    def fail(message: str) -> None:
        errors.append(RowError(row=None, key=None, field="", message=message))

    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            fail(f"the file is not UTF-8 text (byte {exc.start}); export the JSON again as UTF-8")
            return None
    if isinstance(data, str):
        if not data.strip():
            fail("the file is empty; expected the JSON of a Jira search with expand=changelog")
            return None
        try:
            data = json.loads(data.lstrip("\ufeff"))
        except json.JSONDecodeError as exc:
            fail(f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
            return None
        except RecursionError:
            fail(f"the file nests JSON thousands of levels deep; {NOT_A_SEARCH}")
            return None
    try:
        data, changed = storable_json(data)
    except JsonTooDeep as exc:
        fail(f"{exc}; {NOT_A_SEARCH}")
        return None
    cleaned.extend(path if isinstance(data, list) else (0, *path) for path in changed)
    pages = data if isinstance(data, list) else [data]
    valid = []
    for number, page in enumerate(pages, start=1):
        if not isinstance(page, dict):
            fail(f"page {number} is {_kind(page)}; expected a JSON object with an 'issues' list")
        elif "issues" not in page and page.get("errorMessages"):
            messages = "; ".join(str(message) for message in page["errorMessages"])
            fail(f"page {number} is a Jira error response, not search results: {messages}")
        else:
            valid.append(page)
    return None if errors else valid


def _cleaned_warnings(
    pages: list[dict[str, Any]], cleaned: list[tuple[Any, ...]]
) -> Iterable[RowError]:
    """One warning per text that held characters PostgreSQL cannot store, naming its issue's row
    and key and the field (e.g. fields.summary)."""
    first_rows, row = [], 0
    for page in pages:
        first_rows.append(row)
        row += len(page["issues"]) if isinstance(page.get("issues"), list) else 0
    for page_number, *path in sorted(cleaned, key=str):
        issues = pages[page_number].get("issues")
        in_issue = (
            len(path) >= 2
            and path[0] == "issues"
            and isinstance(issues, list)
            and isinstance(path[1], int)
        )
        yield RowError(
            row=first_rows[page_number] + path[1] + 1 if in_issue else None,
            key=_key_of(issues[path[1]]) if in_issue else None,
            field=json_path(tuple(path[2:] if in_issue else path)),
            message=UNSTORABLE_MESSAGE,
        )


def _issues_of(pages: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for page in pages:
        issues = page.get("issues")
        if isinstance(issues, list):
            yield from (issue for issue in issues if isinstance(issue, dict))


def _any_issue_has(pages: list[dict[str, Any]], field_id: str | None) -> bool:
    return any(
        isinstance(issue.get("fields"), dict) and field_id in issue["fields"]
        for issue in _issues_of(pages)
    )


def _resolve_team_field(team_field: str | None, pages: list[dict[str, Any]]) -> str | None:
    """The id of the team field, looked up among the display names when no issue has it."""
    if team_field is None or _any_issue_has(pages, team_field):
        return team_field
    wanted = team_field.strip().casefold()
    for page in pages:
        names = page.get("names")
        if isinstance(names, dict):
            for field_id, name in names.items():
                if isinstance(name, str) and name.strip().casefold() == wanted:
                    return field_id
    return team_field


def _parse_issue(
    issue: object,
    row: int,
    team_field: str | None,
    errors: list[RowError],
    warnings: list[RowError],
) -> WorkItemRecord | None:
    key = _key_of(issue)

    def fail(field: str, message: str) -> None:
        errors.append(RowError(row=row, key=key, field=field, message=message))

    if not isinstance(issue, dict):
        fail("", f"the issue is {_kind(issue)}; expected a JSON object with key and fields")
        return None
    if key is None:
        got = _kind(issue.get("key"))
        fail("key", f"the issue has no key; expected a text such as 'PROJ-123', got {got}")

    created_at = title = item_type = current_status = team = None
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        fail("fields", f"the issue has no fields; {FIELDS_HINT}")
    else:
        created_at = _timestamp(fields.get("created"), "fields.created", "the creation time", fail)
        item_type = _name_of(fields.get("issuetype"))
        if item_type is None:
            fail(
                "fields.issuetype",
                "the issue has no issue type name (fields.issuetype.name); request the issuetype "
                "field",
            )
        summary = fields.get("summary")
        if summary is None or isinstance(summary, str):
            title = (summary or "").strip()
        else:
            fail("fields.summary", f"the summary must be a text, got {_kind(summary)}")
        current_status = _name_of(fields.get("status"))
        if team_field is not None:
            try:
                team = _team_name(fields.get(team_field))
            except ValueError as exc:
                fail(f"fields.{team_field}", str(exc))

    statuses, types, flags = _read_changelog(issue.get("changelog"), key, fail)
    if created_at is None:
        return None
    # Checked even when the issue already has errors, so that one upload reports them all.
    for change in sorted((*statuses, *types, *flags), key=lambda c: (c.at, c.order)):
        if change.at < created_at:
            fail(
                f"{change.location}.created",
                f"this change at {change.at.isoformat()} is before the issue was created "
                f"({created_at.isoformat()}); a history cannot start before its item",
            )
    status_changes = _status_history(created_at, current_status, statuses, fail)
    type_changes = _type_history(types, fail)
    if errors or key is None or item_type is None or title is None:
        return None
    if status_changes is None or type_changes is None:
        return None

    for kind, changes, links in (
        ("status", statuses, status_changes.links),
        ("type", types, type_changes.links),
    ):
        for change, link in zip(changes, links, strict=True):
            if link.mismatched:
                warnings.append(
                    RowError(
                        row=row,
                        key=key,
                        field=f"{change.location}.fromString",
                        message=chain_mismatch_message(kind, link.given_from, link.from_value),
                    )
                )
    if types and types[-1].to_string != item_type:
        warnings.append(
            RowError(
                row=row,
                key=key,
                field="fields.issuetype",
                message=(
                    f"the last type change entered {types[-1].to_string!r} but the issue's type "
                    f"is {item_type!r}; kept {item_type!r} as the current type"
                ),
            )
        )
    return WorkItemRecord(
        source=SOURCE,
        external_key=key,
        title=title,
        item_type=item_type,
        team=team,
        created_at=created_at,
        status_changes=status_changes.records,
        type_changes=type_changes.records,
        blocked_changes=_blocked_history(created_at, flags),
        url=_browse_url(issue.get("self"), key),
    )


def _read_changelog(
    changelog: object, key: str | None, fail: Fail
) -> tuple[list[_Change], list[_Change], list[_Change]]:
    """Return the status, issuetype and Flagged items of a changelog, each in time order."""
    found: dict[str, list[_Change]] = {"status": [], "issuetype": [], "flagged": []}
    if changelog is None:
        fail("changelog", "the issue has no changelog; export the search with expand=changelog")
        return [], [], []
    if not isinstance(changelog, dict):
        fail("changelog", f"the changelog must be a JSON object, got {_kind(changelog)}")
        return [], [], []
    histories = changelog.get("histories")
    if not isinstance(histories, list):
        fail(
            "changelog.histories",
            f"the changelog's histories must be a list, got {_kind(histories)}",
        )
        return [], [], []
    total, start_at = changelog.get("total"), changelog.get("startAt") or 0
    if (isinstance(total, int) and total > len(histories)) or start_at:
        fail(
            "changelog",
            f"the changelog is truncated: the response holds {len(histories)} of its "
            f"{total if isinstance(total, int) else 'unknown number of'} entries (startAt "
            f"{start_at}, maxResults {changelog.get('maxResults')}). Fetch the full changelog "
            f"(GET /rest/api/2/issue/{key or 'KEY'}/changelog, every page), put all its entries "
            f"in changelog.histories, and import again",
        )
        return [], [], []
    for index, history in enumerate(histories):
        location = f"changelog.histories[{index}]"
        if not isinstance(history, dict):
            fail(location, f"a history must be a JSON object, got {_kind(history)}")
            continue
        at = _timestamp(history.get("created"), f"{location}.created", "the change time", fail)
        items = history.get("items")
        if not isinstance(items, list):
            fail(f"{location}.items", f"a history's items must be a list, got {_kind(items)}")
            continue
        history_id = history.get("id")
        tie_break = int(history_id) if str(history_id).isdigit() else index
        for position, item in enumerate(items):
            item_location = f"{location}.items[{position}]"
            if not isinstance(item, dict):
                fail(item_location, f"a history item must be a JSON object, got {_kind(item)}")
                continue
            name = str(item.get("field") or "").strip().casefold()
            if name not in found:
                continue
            from_string, to_string = item.get("fromString"), item.get("toString")
            if name != "flagged" and not _is_text(to_string):
                fail(
                    f"{item_location}.toString",
                    f"this {item.get('field')} change has no toString (the value entered)",
                )
                continue
            if at is not None:
                found[name].append(
                    _Change(
                        at=at,
                        order=(tie_break, index, position),
                        location=location,
                        from_string=from_string.strip() if _is_text(from_string) else None,
                        to_string=to_string.strip() if _is_text(to_string) else None,
                    )
                )
    statuses, types, flags = (
        sorted(found[name], key=lambda c: (c.at, c.order))
        for name in ("status", "issuetype", "flagged")
    )
    return statuses, types, flags


@dataclass(frozen=True, slots=True)
class _History[R]:
    records: tuple[R, ...]
    links: list[ChainLink]


def _status_history(
    created_at: datetime, current_status: str | None, statuses: list[_Change], fail: Fail
) -> _History[StatusChangeRecord] | None:
    if statuses:
        initial = statuses[0].from_string
        if initial is None:
            fail(
                f"{statuses[0].location}.fromString",
                "the first status change has no fromString, so the status the issue was created "
                "in is unknown",
            )
            return None
    elif current_status is not None:
        initial = current_status
    else:
        fail(
            "fields.status",
            f"the issue has no status change and no current status; {FIELDS_HINT}",
        )
        return None
    links = link_changes(initial, ((c.at, c.from_string, c.to_string) for c in statuses))
    records = (
        StatusChangeRecord(created_at, None, initial),
        *(StatusChangeRecord(link.at, link.from_value, link.to_value) for link in links),
    )
    return _History(records=records, links=links)


def _type_history(types: list[_Change], fail: Fail) -> _History[TypeChangeRecord] | None:
    if not types:
        return _History(records=(), links=[])
    initial = types[0].from_string
    if initial is None:
        fail(
            f"{types[0].location}.fromString",
            "the first issue type change has no fromString, so the type the issue was created "
            "as is unknown",
        )
        return None
    links = link_changes(initial, ((c.at, c.from_string, c.to_string) for c in types))
    records = tuple(TypeChangeRecord(link.at, link.from_value, link.to_value) for link in links)
    return _History(records=records, links=links)


def _blocked_history(created_at: datetime, flags: list[_Change]) -> tuple[BlockedChangeRecord, ...]:
    """Flagged on (any ``toString``: "Impediment" in English, translated elsewhere) or off."""
    # A first item leaving a flag means the issue was flagged when it was created.
    initially = [(created_at, True)] if flags and flags[0].from_string else []
    return blocked_history(initially + [(c.at, c.to_string is not None) for c in flags])


def _pagination_warnings(pages: list[dict[str, Any]], issues_read: int) -> Iterable[RowError]:
    totals = [page["total"] for page in pages if isinstance(page.get("total"), int)]
    if totals and max(totals) > issues_read:
        yield RowError(
            row=None,
            key=None,
            field="total",
            message=(
                f"the search matched {max(totals)} issues but the file holds {issues_read}; "
                f"fetch every page (startAt=0, {issues_read}, …) to import them all"
            ),
        )
    if pages and (pages[-1].get("isLast") is False or pages[-1].get("nextPageToken")):
        yield RowError(
            row=None,
            key=None,
            field="nextPageToken",
            message=(
                "the last page says more results follow (isLast is false); fetch the remaining "
                "pages with nextPageToken to import every issue"
            ),
        )


def _timestamp(value: object, field: str, what: str, fail: Fail) -> datetime | None:
    if value is None:
        fail(field, f"{what} is missing; expected e.g. 2024-03-05T10:15:30.123+0100")
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        fail(field, f"{what} {exc}")
        return None


def _team_name(value: object) -> str | None:
    """The team of a field value: a text, an Atlassian Team, a select option or a one-item list."""
    if value is None:
        return None
    if isinstance(value, list):
        if len(value) > 1:
            raise ValueError(f"the team field holds {len(value)} values; expected at most one")
        return _team_name(value[0]) if value else None
    if isinstance(value, dict):
        for attribute in ("name", "title", "value", "id"):
            if _is_text(value.get(attribute)):
                return value[attribute].strip()
        raise ValueError(f"the team field has no name, title, value or id: {value!r}")
    if isinstance(value, int | str) and not isinstance(value, bool):
        return str(value).strip() or None
    raise ValueError(f"the team field must be a text or a team object, got {_kind(value)}")


def _browse_url(self_url: object, key: str) -> str | None:
    if not isinstance(self_url, str) or "/rest/api/" not in self_url:
        return None
    return f"{self_url.split('/rest/api/', 1)[0]}/browse/{key}"


def _key_of(issue: object) -> str | None:
    key = issue.get("key") if isinstance(issue, dict) else None
    return key.strip() if _is_text(key) else None


def _name_of(value: object) -> str | None:
    name = value.get("name") if isinstance(value, dict) else None
    return name.strip() if _is_text(name) else None


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    kinds = {dict: "an object", list: "a list", str: "a text", bool: "a boolean", int: "a number"}
    return kinds.get(type(value), f"a {type(value).__name__}")
