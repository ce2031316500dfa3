"""The Jira and CSV-pair import parsers: pure text in, neutral records and row-by-row errors out."""

import copy
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portfolio.downloads import neutralise_cell
from valuestreams.parsing.csvpair import parse_csv_pair
from valuestreams.parsing.jira import parse_jira_search
from valuestreams.parsing.records import (
    BlockedChangeRecord,
    RowError,
    StatusChangeRecord,
    TypeChangeRecord,
    WorkItemRecord,
    csv_error_report,
    parse_timestamp,
    storable_text,
)

DATA = Path(__file__).parent / "data"
BROWSE = "https://steward-demo.atlassian.net/browse"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def sample_jira() -> dict:
    return json.loads((DATA / "jira_search.json").read_text(encoding="utf-8"))


def sample_csv() -> tuple[bytes, bytes]:
    return (DATA / "issues.csv").read_bytes(), (DATA / "changes.csv").read_bytes()


EXPECTED_SAMPLE = [
    WorkItemRecord(
        source="jira",
        external_key="STW-101",
        title="Export investment mix as CSV",
        item_type="Story",
        team="Payments",
        created_at=utc(2024, 3, 4, 8, 12, 45),
        status_changes=(
            StatusChangeRecord(utc(2024, 3, 4, 8, 12, 45), None, "To Do"),
            StatusChangeRecord(utc(2024, 3, 5, 9, 15, 30, 123000), "To Do", "In Progress"),
            StatusChangeRecord(utc(2024, 3, 7, 15, 40), "In Progress", "In Review"),
            StatusChangeRecord(utc(2024, 3, 8, 10, 0), "In Review", "Done"),
            StatusChangeRecord(utc(2024, 3, 12, 8, 30), "Done", "In Progress"),
            # +0200: summer time began on 31 March.
            StatusChangeRecord(utc(2024, 4, 2, 15, 5), "In Progress", "Done"),
        ),
        url=f"{BROWSE}/STW-101",
    ),
    WorkItemRecord(
        source="jira",
        external_key="STW-102",
        title="Budget grid rounds totals twice",
        item_type="Bug",
        team="Payments",
        created_at=utc(2024, 3, 6, 12, 0),
        status_changes=(
            StatusChangeRecord(utc(2024, 3, 6, 12, 0), None, "To Do"),
            StatusChangeRecord(utc(2024, 3, 11, 7, 30), "To Do", "In Progress"),
            StatusChangeRecord(utc(2024, 3, 13, 14, 10), "In Progress", "Done"),
        ),
        type_changes=(TypeChangeRecord(utc(2024, 3, 6, 12, 45), "Story", "Bug"),),
        url=f"{BROWSE}/STW-102",
    ),
    WorkItemRecord(
        source="jira",
        external_key="STW-103",
        title="Onboarding: invite team members, set roles",
        item_type="Story",
        team="Onboarding",
        created_at=utc(2024, 3, 8, 9, 0),
        status_changes=(
            StatusChangeRecord(utc(2024, 3, 8, 9, 0), None, "To Do"),
            StatusChangeRecord(utc(2024, 3, 11, 8, 0), "To Do", "In Progress"),
            StatusChangeRecord(utc(2024, 4, 3, 14, 0), "In Progress", "Done"),
        ),
        blocked_changes=(
            BlockedChangeRecord(utc(2024, 3, 13, 13, 0), True),
            BlockedChangeRecord(utc(2024, 3, 18, 9, 30), False),
        ),
        url=f"{BROWSE}/STW-103",
    ),
    WorkItemRecord(
        source="jira",
        external_key="STW-104",
        title="Import budgets from SAP",
        item_type="Task",
        team=None,
        created_at=utc(2024, 3, 14, 10, 0),
        status_changes=(
            StatusChangeRecord(utc(2024, 3, 14, 10, 0), None, "To Do"),
            StatusChangeRecord(utc(2024, 3, 15, 8, 0), "To Do", "Won't Do"),
        ),
        url=f"{BROWSE}/STW-104",
    ),
    WorkItemRecord(
        source="jira",
        external_key="STW-105",
        title="Decision log loses the review date on edit",
        item_type="Bug",
        team="Onboarding",
        created_at=utc(2024, 4, 3, 6, 0),
        status_changes=(StatusChangeRecord(utc(2024, 4, 3, 6, 0), None, "To Do"),),
        url=f"{BROWSE}/STW-105",
    ),
]


def jira_issue(
    key: str | None = "STW-1",
    *,
    created: object = "2024-03-04T09:00:00.000+0100",
    issuetype: str | None = "Story",
    status: str = "To Do",
    histories: list | None = None,
) -> dict:
    issue: dict = {
        "id": "10001",
        "self": "https://example.atlassian.net/rest/api/2/issue/10001",
        "fields": {
            "summary": "Something",
            "issuetype": {"name": issuetype} if issuetype else None,
            "status": {"name": status},
            "created": created,
        },
        "changelog": {"startAt": 0, "maxResults": 100, "total": 0, "histories": []},
    }
    if key is not None:
        issue["key"] = key
    if histories is not None:
        issue["changelog"].update(histories=histories, total=len(histories))
    return issue


def status_history(created: str, from_status: str, to_status: str, history_id: str = "1") -> dict:
    return {
        "id": history_id,
        "created": created,
        "items": [{"field": "status", "fromString": from_status, "toString": to_status}],
    }


def search(*issues: dict) -> dict:
    return {"startAt": 0, "maxResults": 50, "total": len(issues), "issues": list(issues)}


def errors_by_field(result) -> dict[str, RowError]:
    return {error.field: error for error in result.errors}


# --- The samples ------------------------------------------------------------------------------


def test_jira_sample_parses_to_the_expected_records():
    result = parse_jira_search(sample_jira(), team_field="customfield_10001")

    assert result.errors == []
    assert result.warnings == []
    assert result.items == EXPECTED_SAMPLE


def test_jira_sample_reads_the_same_from_bytes_text_and_a_decoded_dict():
    raw = (DATA / "jira_search.json").read_bytes()

    from_bytes = parse_jira_search(raw, team_field="customfield_10001")
    from_text = parse_jira_search(raw.decode(), team_field="customfield_10001")

    assert from_bytes.items == from_text.items == EXPECTED_SAMPLE


def test_jira_team_field_may_be_given_by_its_display_name_from_expand_names():
    result = parse_jira_search(sample_jira(), team_field="Team")

    assert [item.team for item in result.items] == [
        "Payments",
        "Payments",
        "Onboarding",
        None,
        "Onboarding",
    ]


def test_jira_without_a_team_field_leaves_every_team_empty():
    result = parse_jira_search(sample_jira())

    assert {item.team for item in result.items} == {None}
    assert result.errors == []


def test_jira_team_field_that_no_issue_has_gives_a_warning():
    result = parse_jira_search(sample_jira(), team_field="customfield_99999")

    assert result.errors == []
    assert {item.team for item in result.items} == {None}
    assert len(result.warnings) == 1
    assert "customfield_99999" in result.warnings[0].message


def test_jira_sample_counts():
    result = parse_jira_search(sample_jira(), team_field="customfield_10001")

    assert result.ok
    assert result.rows_read == 5
    assert result.item_count == 5
    assert result.status_change_count == 15
    assert result.type_change_count == 1
    assert result.blocked_change_count == 2
    assert result.error_count == 0
    assert result.warning_count == 0


def test_csv_sample_parses_to_the_same_records_as_the_jira_sample():
    issues_csv, changes_csv = sample_csv()

    result = parse_csv_pair(issues_csv, changes_csv, source="jira")

    assert result.errors == []
    assert result.warnings == []
    assert result.items == EXPECTED_SAMPLE


def test_csv_records_say_csv_as_their_source_by_default():
    result = parse_csv_pair(*sample_csv())

    assert {item.source for item in result.items} == {"csv"}
    assert [item.external_key for item in result.items] == [f"STW-10{n}" for n in range(1, 6)]


def test_csv_sample_counts():
    result = parse_csv_pair(*sample_csv())

    assert (result.rows_read, result.item_count, result.status_change_count) == (5, 5, 15)
    assert (result.type_change_count, result.blocked_change_count) == (1, 2)


# --- Jira: history reconstruction ---------------------------------------------------------------


def test_jira_histories_in_any_order_are_put_in_time_order():
    data = sample_jira()
    for issue in data["issues"]:
        issue["changelog"]["histories"].reverse()  # Jira Cloud may list the newest first

    result = parse_jira_search(data, team_field="customfield_10001")

    assert result.items == EXPECTED_SAMPLE


def test_jira_creation_status_comes_from_the_first_change_not_the_listing_order():
    issue = jira_issue(
        status="Done",
        histories=[
            status_history("2024-03-06T09:00:00.000+0100", "In Progress", "Done", "11"),
            status_history("2024-03-05T09:00:00.000+0100", "Backlog", "In Progress", "10"),
        ],
    )

    (item,) = parse_jira_search(search(issue)).items

    assert [change.to_status for change in item.status_changes] == [
        "Backlog",
        "In Progress",
        "Done",
    ]
    assert item.status_changes[0] == StatusChangeRecord(utc(2024, 3, 4, 8, 0), None, "Backlog")


def test_jira_issue_without_status_change_was_created_in_its_current_status():
    (item,) = parse_jira_search(search(jira_issue(status="Backlog"))).items

    assert item.status_changes == (StatusChangeRecord(utc(2024, 3, 4, 8, 0), None, "Backlog"),)


def test_jira_changes_at_the_same_time_keep_the_order_of_their_history_ids():
    same_time = "2024-03-05T09:00:00.000+0100"
    issue = jira_issue(
        status="Done",
        histories=[
            status_history(same_time, "In Progress", "Done", "21"),
            status_history(same_time, "To Do", "In Progress", "20"),
        ],
    )

    (item,) = parse_jira_search(search(issue)).items

    assert [change.to_status for change in item.status_changes] == ["To Do", "In Progress", "Done"]


def test_jira_flag_set_before_the_history_began_means_blocked_since_creation():
    issue = jira_issue(
        histories=[
            {
                "id": "5",
                "created": "2024-03-05T12:00:00.000+0100",
                "items": [
                    {
                        "field": "Flagged",
                        "fieldtype": "custom",
                        "fromString": "Impediment",
                        "toString": None,
                    }
                ],
            }
        ]
    )

    (item,) = parse_jira_search(search(issue)).items

    assert item.blocked_changes == (
        BlockedChangeRecord(utc(2024, 3, 4, 8, 0), True),
        BlockedChangeRecord(utc(2024, 3, 5, 11, 0), False),
    )


def test_jira_translated_flag_value_still_counts_as_blocked():
    flag = {"field": "Flagged", "fromString": "", "toString": "Hindernis"}
    issue = jira_issue(
        histories=[{"id": "5", "created": "2024-03-05T12:00:00.000+0100", "items": [flag]}]
    )

    (item,) = parse_jira_search(search(issue)).items

    assert item.blocked_changes == (BlockedChangeRecord(utc(2024, 3, 5, 11, 0), True),)


def test_jira_renamed_status_gives_a_warning_and_keeps_the_history_a_chain():
    issue = jira_issue(
        status="Done",
        histories=[
            status_history("2024-03-05T09:00:00.000+0100", "To Do", "In Dev", "1"),
            status_history("2024-03-06T09:00:00.000+0100", "Development", "Done", "2"),
        ],
    )

    result = parse_jira_search(search(issue))

    assert result.errors == []
    (item,) = result.items
    assert item.status_changes[-1] == StatusChangeRecord(utc(2024, 3, 6, 8, 0), "In Dev", "Done")
    (warning,) = result.warnings
    assert (warning.row, warning.key) == (1, "STW-1")
    assert warning.field == "changelog.histories[1].fromString"
    assert "'Development'" in warning.message
    assert "'In Dev'" in warning.message


def test_jira_accepts_a_list_of_pages_and_keeps_their_order():
    data = sample_jira()
    first = {**data, "issues": data["issues"][:3], "maxResults": 3}
    second = {**data, "issues": data["issues"][3:], "startAt": 3, "maxResults": 3}

    result = parse_jira_search([first, second], team_field="customfield_10001")

    assert result.errors == []
    assert result.warnings == []
    assert result.items == EXPECTED_SAMPLE


def test_jira_accepts_a_v3_search_jql_response():
    data = sample_jira()
    v3_page = {"isLast": True, "issues": copy.deepcopy(data["issues"])}
    for issue in v3_page["issues"]:
        issue["self"] = issue["self"].replace("/rest/api/2/", "/rest/api/3/")

    result = parse_jira_search(json.dumps(v3_page), team_field="customfield_10001")

    assert result.errors == []
    assert result.warnings == []
    assert result.items == EXPECTED_SAMPLE


def test_jira_v3_response_that_is_not_the_last_page_gives_a_warning():
    page = {"isLast": False, "nextPageToken": "CAEaAggD", "issues": [jira_issue()]}

    result = parse_jira_search(page)

    assert result.item_count == 1
    (warning,) = result.warnings
    assert "nextPageToken" in warning.message


def test_jira_v2_response_holding_fewer_issues_than_the_search_matched_gives_a_warning():
    page = {"startAt": 0, "maxResults": 50, "total": 230, "issues": [jira_issue()]}

    result = parse_jira_search(page)

    assert result.ok
    (warning,) = result.warnings
    assert "230" in warning.message
    assert "every page" in warning.message


def test_jira_v3_issue_without_fields_explains_which_fields_to_request():
    result = parse_jira_search({"isLast": True, "issues": [{"id": "10001", "key": "STW-1"}]})

    error = errors_by_field(result)["fields"]
    assert error.row == 1
    assert error.key == "STW-1"
    assert "fields=summary,issuetype,status,created" in error.message


def test_jira_empty_search_gives_no_items_and_no_errors():
    result = parse_jira_search({"startAt": 0, "maxResults": 50, "total": 0, "issues": []})

    assert (result.items, result.errors, result.warnings, result.rows_read) == ([], [], [], 0)


def test_jira_empty_list_of_pages_gives_no_items_and_no_errors():
    result = parse_jira_search([])

    assert (result.items, result.errors, result.rows_read) == ([], [], 0)


@pytest.mark.parametrize("data", ["", b"", "   \n"])
def test_jira_empty_file_is_one_clear_error(data):
    result = parse_jira_search(data)

    (error,) = result.errors
    assert error.row is None
    assert "empty" in error.message
    assert "expand=changelog" in error.message


def test_jira_file_that_is_not_json_says_where_it_breaks():
    result = parse_jira_search('{"issues": [\n  {"key": "STW-1",,}\n]}')

    (error,) = result.errors
    assert "not valid JSON" in error.message
    assert "line 2" in error.message


def test_jira_error_response_is_reported_as_such():
    result = parse_jira_search({"errorMessages": ["The value 'XYZ' does not exist for 'project'."]})

    (error,) = result.errors
    assert "Jira error response" in error.message
    assert "'XYZ'" in error.message


def test_jira_page_without_issues_is_an_error():
    result = parse_jira_search({"values": []})

    (error,) = result.errors
    assert error.field == "issues"
    assert "/rest/api/2/search" in error.message


# --- Jira: every error, each naming its issue and field -------------------------------------------


def test_jira_reports_every_bad_issue_and_still_parses_the_good_ones():
    truncated = jira_issue("STW-6")
    truncated["changelog"].update(maxResults=100, total=120, histories=[])
    without_changelog = jira_issue("STW-7")
    del without_changelog["changelog"]
    not_a_list = jira_issue("STW-5")
    not_a_list["changelog"]["histories"] = {"0": "oops"}
    data = search(
        jira_issue("STW-1"),
        jira_issue(None),
        jira_issue("STW-3", created="05/03/2024 10:15"),
        jira_issue("STW-4", issuetype=None),
        not_a_list,
        truncated,
        without_changelog,
        jira_issue("STW-8", created="2024-03-05T10:15:30.123"),
        jira_issue(
            "STW-9",
            histories=[
                {"id": "1", "created": "yesterday", "items": [{"field": "status"}]},
                status_history("2024-03-01T09:00:00.000+0100", "To Do", "In Progress", "2"),
            ],
        ),
        jira_issue("STW-10"),
    )

    result = parse_jira_search(data)

    assert [item.external_key for item in result.items] == ["STW-1", "STW-10"]
    found = {(error.row, error.key, error.field) for error in result.errors}
    assert found == {
        (2, None, "key"),
        (3, "STW-3", "fields.created"),
        (4, "STW-4", "fields.issuetype"),
        (5, "STW-5", "changelog.histories"),
        (6, "STW-6", "changelog"),
        (7, "STW-7", "changelog"),
        (8, "STW-8", "fields.created"),
        (9, "STW-9", "changelog.histories[0].created"),
        (9, "STW-9", "changelog.histories[0].items[0].toString"),
        (9, "STW-9", "changelog.histories[1].created"),
    }
    messages = {(error.key, error.field): error.message for error in result.errors}
    assert "'05/03/2024 10:15' is not an ISO 8601 date-time" in messages["STW-3", "fields.created"]
    assert "issue type" in messages["STW-4", "fields.issuetype"]
    assert "must be a list" in messages["STW-5", "changelog.histories"]
    assert "expand=changelog" in messages["STW-7", "changelog"]
    assert "no time zone offset" in messages["STW-8", "fields.created"]
    assert "never guessed" in messages["STW-8", "fields.created"]
    assert "before the issue was created" in messages["STW-9", "changelog.histories[1].created"]


def test_jira_truncated_changelog_tells_the_user_to_fetch_the_full_changelog():
    issue = jira_issue("STW-6")
    issue["changelog"].update(startAt=0, maxResults=100, total=137)
    issue["changelog"]["histories"] = [
        status_history("2024-03-05T09:00:00.000+0100", "To Do", "In Progress")
    ]

    result = parse_jira_search(search(issue))

    assert result.items == []
    (error,) = result.errors
    assert (error.row, error.key, error.field) == (1, "STW-6", "changelog")
    assert "truncated" in error.message
    assert "1 of its 137" in error.message
    assert "/rest/api/2/issue/STW-6/changelog" in error.message


def test_jira_changelog_page_that_does_not_start_at_zero_is_truncated():
    issue = jira_issue()
    issue["changelog"].update(startAt=100, maxResults=100, total=100)

    result = parse_jira_search(search(issue))

    assert "truncated" in errors_by_field(result)["changelog"].message


def test_jira_change_before_the_creation_is_an_error():
    issue = jira_issue(
        histories=[status_history("2024-03-01T09:00:00.000+0100", "To Do", "In Progress")]
    )

    result = parse_jira_search(search(issue))

    error = errors_by_field(result)["changelog.histories[0].created"]
    assert "before the issue was created" in error.message


def test_jira_first_status_change_without_from_string_is_an_error():
    issue = jira_issue(
        histories=[status_history("2024-03-05T09:00:00.000+0100", None, "In Progress")]
    )

    result = parse_jira_search(search(issue))

    error = errors_by_field(result)["changelog.histories[0].fromString"]
    assert "created in is unknown" in error.message


def test_jira_team_field_with_several_values_is_an_error():
    issue = jira_issue()
    issue["fields"]["customfield_10001"] = [{"value": "Payments"}, {"value": "Onboarding"}]

    result = parse_jira_search(search(issue), team_field="customfield_10001")

    assert "at most one" in errors_by_field(result)["fields.customfield_10001"].message


@pytest.mark.parametrize(
    ("value", "team"),
    [
        ({"id": "36885b3c", "name": "Payments", "title": "Payments"}, "Payments"),
        ({"self": "https://x/option/1", "value": "Payments", "id": "1"}, "Payments"),
        ([{"value": "Payments"}], "Payments"),
        ("Payments", "Payments"),
        (None, None),
        ([], None),
    ],
)
def test_jira_team_is_read_from_the_usual_field_shapes(value, team):
    issue = jira_issue()
    issue["fields"]["customfield_10001"] = value

    (item,) = parse_jira_search(search(issue), team_field="customfield_10001").items

    assert item.team == team


def test_jira_identical_repeated_issue_is_imported_once_with_a_warning():
    result = parse_jira_search([search(jira_issue()), search(jira_issue())])

    assert result.item_count == 1
    assert result.errors == []
    assert "identical" in result.warnings[0].message


def test_jira_repeated_issue_with_different_content_is_an_error():
    changed = jira_issue(status="Done")

    result = parse_jira_search(search(jira_issue(), changed))

    assert result.items == []
    (error,) = result.errors
    assert (error.row, error.key, error.field) == (2, "STW-1", "key")
    assert "issues 1 and 2" in error.message


# --- Time zones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05T10:15:30.123+0100", utc(2024, 3, 5, 9, 15, 30, 123000)),
        ("2024-03-05T10:15:30+01:00", utc(2024, 3, 5, 9, 15, 30)),
        ("2024-07-05T10:15:30.000+0200", utc(2024, 7, 5, 8, 15, 30)),
        ("2024-03-05T04:15:30.000-0500", utc(2024, 3, 5, 9, 15, 30)),
        ("2024-03-05T14:45:30+05:30", utc(2024, 3, 5, 9, 15, 30)),
        ("2024-03-05T09:15:30Z", utc(2024, 3, 5, 9, 15, 30)),
        ("2024-03-04T23:30:00-10:00", utc(2024, 3, 5, 9, 30)),
    ],
)
def test_timestamps_with_offsets_are_converted_to_utc(text, expected):
    parsed = parse_timestamp(text)

    assert parsed == expected
    assert parsed.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("2024-03-05T10:15:30", "no time zone offset"),
        ("2024-03-05", "no time zone offset"),
        ("05.03.2024 10:15", "not an ISO 8601 date-time"),
        ("", "is empty"),
        (1709630130, "got int"),
    ],
)
def test_timestamps_without_an_offset_or_not_iso_are_refused(value, phrase):
    with pytest.raises(ValueError, match=phrase):
        parse_timestamp(value)


# --- CSV pair ---------------------------------------------------------------------------------

ISSUES_HEADER = "key,type,title,team,created\n"
CHANGES_HEADER = "key,from,to,time\n"


def test_csv_bom_crlf_and_header_case_and_spaces_are_tolerated():
    issues_csv = (
        "\ufeff KEY ,Type,TITLE,Team,Created\r\nA-1,Story,First,Core,2024-03-04T09:00:00Z\r\n"
    )
    changes_csv = "Key,FROM,To,TIME\r\nA-1,,To Do,2024-03-04T09:00:00Z\r\n"

    result = parse_csv_pair(issues_csv.encode("utf-8"), changes_csv)

    assert result.errors == []
    (item,) = result.items
    assert (item.external_key, item.title, item.team) == ("A-1", "First", "Core")


def test_csv_columns_in_any_order_and_unknown_columns_are_accepted():
    issues_csv = "created,key,labels,team,title,type\n2024-03-04T09:00:00Z,A-1,ux,,First,Story\n"
    changes_csv = "time,to,from,key,field\n2024-03-04T09:00:00Z,To Do,,A-1,STATUS\n"

    (item,) = parse_csv_pair(issues_csv, changes_csv).items

    assert (item.external_key, item.item_type, item.team) == ("A-1", "Story", None)


def test_csv_naive_time_is_an_error_naming_row_file_and_field():
    issues_csv = ISSUES_HEADER + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
    changes_csv = (
        CHANGES_HEADER + "A-1,,To Do,2024-03-04T09:00:00Z\nA-1,To Do,Doing,2024-03-05 10:00\n"
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    assert result.items == []
    (error,) = result.errors
    assert (error.file, error.row, error.key, error.field) == ("changes.csv", 3, "A-1", "time")
    assert "no time zone offset" in error.message
    assert "never guessed" in error.message


def test_csv_missing_required_column_is_one_clear_error_per_file():
    issues_csv = "key,title,created\nA-1,First,2024-03-04T09:00:00Z\n"
    changes_csv = CHANGES_HEADER + "A-1,,To Do,2024-03-04T09:00:00Z\n"

    result = parse_csv_pair(issues_csv, changes_csv)

    (error,) = result.errors
    assert (error.file, error.row) == ("issues.csv", 1)
    assert "missing the column(s) type, team" in error.message
    assert "key,type,title,team,created" in error.message


def test_csv_semicolon_separated_file_gets_a_hint():
    issues_csv = "key;type;title;team;created\nA-1;Story;First;;2024-03-04T09:00:00Z\n"

    result = parse_csv_pair(issues_csv, CHANGES_HEADER)

    assert "semicolons" in result.errors[0].message


def test_csv_unknown_key_in_changes_is_an_error_with_its_row():
    issues_csv = ISSUES_HEADER + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
    changes_csv = (
        CHANGES_HEADER + "A-1,,To Do,2024-03-04T09:00:00Z\nB-9,To Do,Doing,2024-03-05T09:00:00Z\n"
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    (error,) = result.errors
    assert (error.file, error.row, error.key, error.field) == ("changes.csv", 3, "B-9", "key")
    assert "not in issues.csv" in error.message
    assert [item.external_key for item in result.items] == ["A-1"]


def test_csv_duplicate_key_is_an_error_naming_both_rows():
    issues_csv = (
        ISSUES_HEADER
        + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
        + "A-2,Story,Second,,2024-03-04T09:00:00Z\n"
        + "A-1,Bug,Again,,2024-03-04T09:00:00Z\n"
    )
    changes_csv = (
        CHANGES_HEADER + "A-1,,To Do,2024-03-04T09:00:00Z\nA-2,,To Do,2024-03-04T09:00:00Z\n"
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    (error,) = result.errors
    assert (error.file, error.row, error.key, error.field) == ("issues.csv", 4, "A-1", "key")
    assert "already on row 2" in error.message


def test_csv_reports_every_error_in_both_files_at_once():
    issues_csv = (
        ISSUES_HEADER
        + "A-1,Story,Fine,,2024-03-04T09:00:00Z\n"
        + ",Story,No key,,2024-03-04T09:00:00Z\n"
        + "A-3,,No type,,2024-03-04T09:00:00Z\n"
        + "A-4,Story,Naive,,2024-03-04T09:00:00\n"
        + "A-5,Story,No status rows,,2024-03-04T09:00:00Z\n"
        + "A-6,Story,Bad change,,2024-03-04T09:00:00Z\n"
        + "A-7,Story,Too many values,,2024-03-04T09:00:00Z,extra\n"
    )
    changes_csv = (
        "key,from,to,time,field\n"
        + "A-1,,To Do,2024-03-04T09:00:00Z,\n"
        + "A-6,,To Do,2024-03-04T09:00:00Z,status\n"
        + "A-6,To Do,,2024-03-05T09:00:00Z,status\n"
        + "A-6,,maybe,2024-03-05T09:00:00Z,blocked\n"
        + "A-6,,x,2024-03-05T09:00:00Z,priority\n"
        + "A-6,,Doing,2024-03-01T09:00:00Z,status\n"
        + "Z-1,,To Do,2024-03-04T09:00:00Z,status\n"
        + ",,To Do,2024-03-04T09:00:00Z,status\n"
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    assert [item.external_key for item in result.items] == ["A-1"]
    assert [(e.file, e.row, e.key, e.field) for e in result.errors] == [
        ("issues.csv", 8, None, ""),
        ("issues.csv", 3, None, "key"),
        ("issues.csv", 4, "A-3", "type"),
        ("issues.csv", 5, "A-4", "created"),
        ("changes.csv", 4, "A-6", "to"),
        ("changes.csv", 5, "A-6", "to"),
        ("changes.csv", 6, "A-6", "field"),
        ("changes.csv", 8, "Z-1", "key"),
        ("changes.csv", 9, None, "key"),
        ("issues.csv", 6, "A-5", "key"),
        ("changes.csv", 7, "A-6", "time"),
    ]
    messages = [error.message for error in result.errors]
    assert "row 8 has 6 values but the header has 5 columns" in messages[0]
    assert "'maybe' is not a blocked state" in messages[5]
    assert "'priority' is not a known field" in messages[6]
    assert "A-5 has no status row in changes.csv" in messages[9]
    assert "before A-6 was created" in messages[10]


def test_csv_change_before_the_creation_is_an_error():
    issues_csv = ISSUES_HEADER + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
    changes_csv = (
        CHANGES_HEADER
        + "A-1,,To Do,2024-03-04T09:00:00Z\nA-1,To Do,Doing,2024-03-04T08:59:59+00:00\n"
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    (error,) = result.errors
    assert (error.file, error.row, error.field) == ("changes.csv", 3, "time")
    assert "before A-1 was created" in error.message


def test_csv_status_from_that_differs_from_the_previous_to_is_only_a_warning():
    issues_csv = ISSUES_HEADER + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
    changes_csv = (
        CHANGES_HEADER
        + "A-1,,To Do,2024-03-04T09:00:00Z\n"
        + "A-1,Backlog,Doing,2024-03-05T09:00:00Z\n"
        + "A-1,,Done,2024-03-06T09:00:00Z\n"
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    assert result.errors == []
    (item,) = result.items
    assert item.status_changes == (
        StatusChangeRecord(utc(2024, 3, 4, 9, 0), None, "To Do"),
        StatusChangeRecord(utc(2024, 3, 5, 9, 0), "To Do", "Doing"),
        StatusChangeRecord(utc(2024, 3, 6, 9, 0), "Doing", "Done"),
    )
    (warning,) = result.warnings
    assert (warning.file, warning.row, warning.field) == ("changes.csv", 3, "from")
    assert "'Backlog'" in warning.message


def test_csv_creation_row_may_come_after_the_created_time():
    issues_csv = ISSUES_HEADER + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
    changes_csv = CHANGES_HEADER + "A-1,,To Do,2024-03-04T09:00:05Z\n"

    (item,) = parse_csv_pair(issues_csv, changes_csv).items

    assert item.status_changes == (StatusChangeRecord(utc(2024, 3, 4, 9, 0, 5), None, "To Do"),)


def test_csv_changes_in_any_row_order_are_put_in_time_order():
    issues_csv = ISSUES_HEADER + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
    changes_csv = (
        CHANGES_HEADER
        + "A-1,Doing,Done,2024-03-06T09:00:00Z\n"
        + "A-1,To Do,Doing,2024-03-05T10:00:00+01:00\n"
    )

    (item,) = parse_csv_pair(issues_csv, changes_csv).items

    assert [change.to_status for change in item.status_changes] == ["To Do", "Doing", "Done"]
    assert item.status_changes[1].at == utc(2024, 3, 5, 9, 0)


@pytest.mark.parametrize(
    ("to_values", "expected"),
    [
        (("yes", "no"), (True, False)),
        (("1", "0"), (True, False)),
        (("Blocked", ""), (True, False)),
        (("TRUE", "true", "false"), (True, False)),
    ],
)
def test_csv_blocked_rows_accept_the_usual_spellings_and_drop_repeats(to_values, expected):
    issues_csv = ISSUES_HEADER + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
    changes_csv = "key,from,to,time,field\nA-1,,To Do,2024-03-04T09:00:00Z,status\n" + "".join(
        f"A-1,,{value},2024-03-0{5 + index}T09:00:00Z,blocked\n"
        for index, value in enumerate(to_values)
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    assert result.errors == []
    assert tuple(change.blocked for change in result.items[0].blocked_changes) == expected


def test_csv_type_change_without_from_is_an_error():
    issues_csv = ISSUES_HEADER + "A-1,Bug,First,,2024-03-04T09:00:00Z\n"
    changes_csv = (
        "key,from,to,time,field\n"
        + "A-1,,To Do,2024-03-04T09:00:00Z,status\n"
        + "A-1,,Bug,2024-03-05T09:00:00Z,type\n"
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    (error,) = result.errors
    assert (error.file, error.row, error.field) == ("changes.csv", 3, "from")
    assert "type it was created as" in error.message


def test_csv_last_type_change_that_disagrees_with_the_type_column_is_a_warning():
    issues_csv = ISSUES_HEADER + "A-1,Story,First,,2024-03-04T09:00:00Z\n"
    changes_csv = (
        "key,from,to,time,field\n"
        + "A-1,,To Do,2024-03-04T09:00:00Z,status\n"
        + "A-1,Story,Bug,2024-03-05T09:00:00Z,type\n"
    )

    result = parse_csv_pair(issues_csv, changes_csv)

    assert result.errors == []
    assert result.items[0].item_type == "Story"
    (warning,) = result.warnings
    assert (warning.file, warning.row, warning.field) == ("issues.csv", 2, "type")


def test_csv_both_files_empty_give_one_error_each():
    result = parse_csv_pair("", b"")

    assert [(error.file, error.row) for error in result.errors] == [
        ("issues.csv", None),
        ("changes.csv", None),
    ]
    assert all("is empty" in error.message for error in result.errors)
    assert result.items == []


def test_csv_files_with_only_headers_give_no_items_and_no_errors():
    result = parse_csv_pair(ISSUES_HEADER, CHANGES_HEADER)

    assert (result.items, result.errors, result.rows_read) == ([], [], 0)


def test_csv_blank_rows_are_skipped_but_row_numbers_match_the_spreadsheet():
    issues_csv = ISSUES_HEADER + ",,,,\n\nA-1,Story,First,,2024-03-04T09:00:00\n"

    result = parse_csv_pair(issues_csv, CHANGES_HEADER)

    (error,) = result.errors
    assert (error.row, error.field) == (4, "created")


def test_csv_file_that_is_not_utf8_is_one_clear_error():
    issues_csv = (ISSUES_HEADER + "A-1,Story,Café,,2024-03-04T09:00:00Z\n").encode("cp1252")

    result = parse_csv_pair(issues_csv, CHANGES_HEADER)

    (error,) = result.errors
    assert error.file == "issues.csv"
    assert "not UTF-8" in error.message
    assert "CSV UTF-8" in error.message


def test_csv_quoted_values_may_hold_commas_and_line_breaks():
    issues_csv = ISSUES_HEADER + 'A-1,Story,"Invite, then\nassign",,2024-03-04T09:00:00Z\n'
    changes_csv = CHANGES_HEADER + "A-1,,To Do,2024-03-04T09:00:00Z\n"

    (item,) = parse_csv_pair(issues_csv, changes_csv).items

    assert item.title == "Invite, then\nassign"


# --- Error report and formula neutralisation --------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=", "-"],
)
def test_cells_that_a_spreadsheet_would_run_as_a_formula_are_prefixed_with_a_quote(text):
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["STW-101", "Story", " =1", "a=b", "", "'quoted", 42, -5, 1.5, None]
)
def test_safe_cells_and_non_text_values_are_left_alone(value):
    assert neutralise_cell(value) == value


def test_error_report_lists_errors_then_warnings_with_formulas_neutralised():
    errors = [
        RowError(row=3, key="=cmd|' /C calc'!A0", field="key", message="bad", file="issues.csv"),
        RowError(row=None, key=None, field="", message="-the file is empty", file="changes.csv"),
    ]
    warnings = [RowError(row=7, key="A-1", field="from", message="mismatch", file="changes.csv")]

    report = csv_error_report(errors, warnings=warnings)

    assert report.endswith("\r\n")
    assert list(csv.reader(io.StringIO(report, newline=""))) == [
        ["level", "file", "row", "key", "field", "message"],
        ["error", "issues.csv", "3", "'=cmd|' /C calc'!A0", "key", "bad"],
        ["error", "changes.csv", "", "", "", "'-the file is empty"],
        ["warning", "changes.csv", "7", "A-1", "from", "mismatch"],
    ]


def test_error_report_of_a_real_parse_has_one_line_per_error():
    issues_csv = ISSUES_HEADER + "=1+1,Story,First,,2024-03-04T09:00:00\n"

    result = parse_csv_pair(issues_csv, CHANGES_HEADER)
    rows = list(csv.reader(io.StringIO(csv_error_report(result.errors), newline="")))

    assert rows[1][:5] == ["error", "issues.csv", "2", "'=1+1", "created"]
    assert len(rows) == 1 + result.error_count


def test_error_report_without_errors_is_just_the_header():
    assert csv_error_report([]) == "level,file,row,key,field,message\r\n"


# --- Record invariants ------------------------------------------------------------------------


def test_work_item_record_refuses_a_naive_time():
    with pytest.raises(ValueError, match="aware"):
        StatusChangeRecord(datetime(2024, 3, 4, 9, 0), None, "To Do")


def test_work_item_record_refuses_a_history_that_does_not_start_with_the_creation():
    with pytest.raises(ValueError, match="creation"):
        WorkItemRecord(
            source="csv",
            external_key="A-1",
            title="",
            item_type="Story",
            team=None,
            created_at=utc(2024, 3, 4),
            status_changes=(StatusChangeRecord(utc(2024, 3, 4), "To Do", "Doing"),),
        )


def test_records_are_frozen():
    record = EXPECTED_SAMPLE[0]

    with pytest.raises(AttributeError):
        record.title = "changed"


# --- text the database cannot store, and files no export looks like ----------------------------


def test_a_jira_summary_with_nul_is_imported_without_it_and_the_issue_is_named():
    data = sample_jira()
    data["issues"][1]["fields"]["summary"] = (
        "Fix\u0000 the \ud83d export"  # a NUL, a lone surrogate
    )
    result = parse_jira_search(json.dumps(data))
    assert result.ok
    assert result.items[1].title == "Fix the \ufffd export"
    [warning] = [w for w in result.warnings if "cannot store" in w.message]
    assert (warning.row, warning.key, warning.field) == (2, "STW-102", "fields.summary")


def test_a_nul_in_a_status_name_is_cleaned_everywhere_it_is_read():
    data = sample_jira()
    data["issues"][0]["changelog"]["histories"][0]["items"][0]["toString"] = "In\u0000 Progress"
    data["issues"][0]["changelog"]["histories"][1]["items"][0]["fromString"] = "In\u0000 Progress"
    result = parse_jira_search(json.dumps(data).encode())
    assert result.ok
    assert "In Progress" in {change.to_status for change in result.items[0].status_changes}
    assert {w.field for w in result.warnings if "cannot store" in w.message} == {
        "changelog.histories[0].items[0].toString",
        "changelog.histories[1].items[0].fromString",
    }


def test_a_csv_cell_with_nul_is_imported_without_it_and_the_row_is_named():
    issues, changes = sample_csv()
    issues = issues.replace(b"Export investment mix", b"Export\x00 investment mix")
    result = parse_csv_pair(issues, changes)
    assert result.ok
    assert result.items[0].title == "Export investment mix as CSV"
    [warning] = [w for w in result.warnings if "cannot store" in w.message]
    assert (warning.file, warning.row, warning.key, warning.field) == (
        "issues.csv",
        2,
        "STW-101",
        "title",
    )


@pytest.mark.parametrize(("depth", "message"), [(100_000, "thousands of levels"), (100, "64")])
def test_deeply_nested_json_is_refused_saying_what_is_wrong(depth, message):
    result = parse_jira_search("[" * depth + "]" * depth)
    [error] = result.errors
    assert message in error.message
    assert "not one" in error.message  # not a Jira search export
    assert result.items == []


def test_storable_text_keeps_every_other_character():
    text = "Ünïcødé 🚀 \t\n ok"
    assert storable_text(text) is text
    assert storable_text("a\x00b\ud800c\udfffd") == "ab\ufffdc\ufffdd"
