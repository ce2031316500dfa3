"""The bulk ingest API: idempotent on (portfolio, source, key), all-or-nothing with every problem
listed, status history replaced on update, set-based (queries do not grow with records)."""

import copy
import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portfolio.services import integration_token_issue
from tests.conftest import PEOPLE
from valuestreams.models import (
    Change,
    Deployment,
    Incident,
    RecomputeJob,
    StatusChange,
    WorkItem,
)

pytestmark = pytest.mark.django_db

WORK_ITEMS = reverse("api:ingest-work-items-list")
DEPLOYMENTS = reverse("api:ingest-deployments-list")
INCIDENTS = reverse("api:ingest-incidents-list")
CHANGES = reverse("api:ingest-changes-list")
UTC = dt.UTC


@pytest.fixture
def token(org):
    return integration_token_issue(
        portfolio=org.portfolio, name="ci", days=30, now=timezone.now()
    ).text


@pytest.fixture
def send(token):
    def post(url, records, **body):
        payload = {"source": "jira", "records": records, **body}
        return Client().post(
            url,
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return post


def item(key="STW-1", **changes):
    record = {
        "key": key,
        "type": "Story",
        "title": "Export the investment mix",
        "team": "Instant Payments",
        "created_at": "2024-03-04T09:00:00+01:00",
        "url": f"https://jira.example.com/browse/{key}",
        "status_history": [
            {"at": "2024-03-04T09:00:00+01:00", "status": "To Do"},
            {"at": "2024-03-05T10:00:00Z", "status": "In Progress"},
            {"at": "2024-03-08T10:00:00Z", "status": "Done"},
        ],
    }
    record.update(changes)
    return record


def history(key):
    return list(
        StatusChange.objects.filter(item__external_key=key)
        .order_by("at", "seq")
        .values_list("at", "seq", "status", "source_type", "blocked")
    )


def test_work_items_are_created_with_their_status_history(org, send):
    response = send(WORK_ITEMS, [item("STW-1"), item("STW-2", team=org.other_team.pk)])
    assert response.status_code == 200, response.json()
    assert response.json() | {"warnings": []} == {
        "kind": "work_items",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "dry_run": False,
        "warnings": [],
    }
    first = WorkItem.objects.get(external_key="STW-1")
    assert (first.portfolio, first.source, first.team, first.source_team) == (
        org.portfolio,
        "jira",
        org.team,
        "Instant Payments",
    )
    assert first.created_at == dt.datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    assert WorkItem.objects.get(external_key="STW-2").team == org.other_team
    assert history("STW-1") == [
        (dt.datetime(2024, 3, 4, 8, 0, tzinfo=UTC), 0, "To Do", "Story", False),
        (dt.datetime(2024, 3, 5, 10, 0, tzinfo=UTC), 0, "In Progress", "Story", False),
        (dt.datetime(2024, 3, 8, 10, 0, tzinfo=UTC), 0, "Done", "Story", False),
    ]


def test_type_changes_and_blocked_flags_become_rows_of_the_history(org, send):
    record = item(
        type="Bug",
        type_changes=[{"at": "2024-03-05T10:00:00Z", "from": "Story", "to": "Bug"}],
        blocked_changes=[
            {"at": "2024-03-06T12:00:00Z", "blocked": True},
            {"at": "2024-03-07T12:00:00Z", "blocked": False},
        ],
    )
    assert send(WORK_ITEMS, [record]).status_code == 200
    assert history("STW-1") == [
        (dt.datetime(2024, 3, 4, 8, 0, tzinfo=UTC), 0, "To Do", "Story", False),
        (dt.datetime(2024, 3, 5, 10, 0, tzinfo=UTC), 0, "In Progress", "Story", False),
        (dt.datetime(2024, 3, 5, 10, 0, tzinfo=UTC), 1, "In Progress", "Bug", False),
        (dt.datetime(2024, 3, 6, 12, 0, tzinfo=UTC), 0, "In Progress", "Bug", True),
        (dt.datetime(2024, 3, 7, 12, 0, tzinfo=UTC), 0, "In Progress", "Bug", False),
        (dt.datetime(2024, 3, 8, 10, 0, tzinfo=UTC), 0, "Done", "Bug", False),
    ]


def test_the_same_payload_twice_changes_nothing(org, send):
    records = [item("STW-1"), item("STW-2")]
    send(WORK_ITEMS, records)
    before = list(WorkItem.objects.order_by("pk").values_list("pk", "updated_at"))
    rows_before = list(StatusChange.objects.order_by("pk").values_list("pk", flat=True))
    jobs_before = RecomputeJob.objects.count()
    # the same content, keys in another order
    shuffled = [dict(reversed(list(record.items()))) for record in records]
    response = send(WORK_ITEMS, shuffled)
    assert (response.json()["created"], response.json()["updated"]) == (0, 0)
    assert response.json()["unchanged"] == 2
    assert list(WorkItem.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert list(StatusChange.objects.order_by("pk").values_list("pk", flat=True)) == rows_before
    assert RecomputeJob.objects.count() == jobs_before


def test_an_updated_item_gets_its_status_history_replaced(org, send):
    send(WORK_ITEMS, [item("STW-1"), item("STW-2")])
    reopened = item("STW-1", title="Export the investment mix (CSV)")
    reopened["status_history"] = [
        *reopened["status_history"],
        {"at": "2024-03-09T08:00:00Z", "status": "In Progress"},
    ]
    response = send(WORK_ITEMS, [reopened, item("STW-2")])
    assert response.json() | {"warnings": []} == {
        "kind": "work_items",
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "dry_run": False,
        "warnings": [],
    }
    assert [row[2] for row in history("STW-1")] == ["To Do", "In Progress", "Done", "In Progress"]
    assert WorkItem.objects.get(external_key="STW-1").title == "Export the investment mix (CSV)"
    assert StatusChange.objects.count() == 7


def test_a_write_requests_a_recompute_of_what_changed(org, send):
    send(WORK_ITEMS, [item("STW-1")])
    job = RecomputeJob.objects.get(portfolio=org.portfolio)
    assert job.item_ids == [WorkItem.objects.get(external_key="STW-1").pk]


def test_a_dry_run_counts_and_writes_nothing(org, send):
    response = send(WORK_ITEMS, [item("STW-1")], dry_run=True)
    assert response.json()["created"] == 1
    assert response.json()["dry_run"] is True
    assert WorkItem.objects.count() == StatusChange.objects.count() == 0
    assert RecomputeJob.objects.count() == 0


BAD_RECORDS = [
    ("missing key", {"key": None}, "key", "key is required"),
    ("missing type", {"type": ""}, "type", "type is required"),
    ("missing created_at", {"created_at": None}, "created_at", "created_at is required"),
    ("bad time", {"created_at": "yesterday"}, "created_at", "is not an ISO 8601 date-time"),
    ("naive time", {"created_at": "2024-03-04T09:00:00"}, "created_at", "has no time zone offset"),
    ("unknown team", {"team": "Nobody"}, "team", "no team named 'Nobody'"),
    ("team of another portfolio", {"team": -1}, "team", "is not a team of Everyday Banking"),
    ("team not an id or name", {"team": [1]}, "team", "team must be a team id or a team name"),
    ("history not a list", {"status_history": "Done"}, "status_history", "must be a list"),
    ("empty history", {"status_history": []}, "status_history", "must not be empty"),
    (
        "history entry without status",
        {"status_history": [{"at": "2024-03-04T09:00:00Z"}]},
        "status_history[0].status",
        "status is required",
    ),
    (
        "history before creation",
        {"status_history": [{"at": "2024-03-01T09:00:00Z", "status": "To Do"}]},
        "status_history[0].at",
        "is before the item was created",
    ),
    ("title not a text", {"title": 12}, "title", "title must be a text"),
    ("key too long", {"key": "K" * 121}, "key", "at most 120 fit"),
    ("bad url", {"url": "not a url"}, "url", "is not a valid http(s) URL"),
    (
        "first type change without from",
        {"type_changes": [{"at": "2024-03-05T10:00:00Z", "to": "Bug"}]},
        "type_changes[0].from",
        "is required",
    ),
    (
        "blocked not a boolean",
        {"blocked_changes": [{"at": "2024-03-05T10:00:00Z", "blocked": "yes"}]},
        "blocked_changes[0].blocked",
        "must be true or false",
    ),
]


@pytest.mark.parametrize(
    ("case", "changes", "field", "message"), BAD_RECORDS, ids=[c[0] for c in BAD_RECORDS]
)
def test_a_bad_work_item_refuses_the_batch_naming_the_field(
    org, send, case, changes, field, message
):
    if changes.get("team") == -1:
        changes = {"team": org.foreign_team.pk}
    response = send(WORK_ITEMS, [item("STW-1"), {**item("STW-2"), **changes}])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, field)], errors
    assert message in errors[0]["message"]
    assert WorkItem.objects.count() == StatusChange.objects.count() == 0


def test_every_bad_record_is_reported_and_nothing_is_written(org, send):
    send(WORK_ITEMS, [item("STW-0")])
    before = list(StatusChange.objects.values_list("pk", flat=True))
    records = [
        item("STW-0", title="changed"),  # good, would update
        item("STW-1", created_at="2024-03-04T09:00:00"),  # naive time
        item("STW-2", team="Nobody"),  # unknown team
        item("STW-3"),  # good, would create
        item("STW-4", status_history={"at": "2024-03-04T09:00:00Z"}),  # not a list
        item("STW-3"),  # the same key twice
        "not an object",
    ]
    response = send(WORK_ITEMS, records)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["key"], e["field"]) for e in errors] == [
        (1, "STW-1", "created_at"),
        (2, "STW-2", "team"),
        (4, "STW-4", "status_history"),
        (5, "STW-3", "key"),
        (6, None, ""),
    ]
    assert "is already record 3" in errors[3]["message"]
    assert list(WorkItem.objects.values_list("external_key", "title")) == [
        ("STW-0", "Export the investment mix")
    ]
    assert list(StatusChange.objects.values_list("pk", flat=True)) == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"records": "x"}, "records", "records must be a list"),
        ({"records": []}, "records", "records is empty"),
        ({"records": [{}] * 5001}, "records", "send at most 5000 per request"),
        ({"records": [item()], "source": None}, "source", "source is required"),
        ({"records": [item()], "dry_run": "yes"}, "dry_run", "dry_run must be true or false"),
        ({"records": [item()], "portfolio": "first"}, "portfolio", "must be a portfolio id"),
    ],
)
def test_a_bad_batch_is_refused_with_the_field_named(org, token, body, field, message):
    payload = {"source": "jira", **body}
    response = Client().post(
        WORK_ITEMS,
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert message in error["message"]
    assert WorkItem.objects.count() == 0


def test_deployments_incidents_and_changes_link_by_deployment_key(org, send):
    deployments = [
        {"key": "d-1", "team": org.team.pk, "finished_at": "2024-03-05T10:00:00Z"},
        {
            "key": "d-2",
            "team": "Payment Rails",
            "started_at": "2024-03-06T09:00:00Z",
            "finished_at": "2024-03-06T10:00:00Z",
            "is_rework": True,
        },
    ]
    assert send(DEPLOYMENTS, deployments, source="github").json()["created"] == 2
    incidents = [
        {
            "key": "INC-1",
            "source": "pagerduty",
            "deployment": "d-1",
            "deployment_source": "github",
            "team": org.team.pk,
            "created_at": "2024-03-05T11:00:00Z",
            "resolved_at": "2024-03-05T12:00:00Z",
        }
    ]
    assert send(INCIDENTS, incidents).json()["created"] == 1
    changes = [
        {"key": "abc123", "deployment": "d-2", "first_commit_at": "2024-03-01T10:00:00Z"},
        {"key": "def456", "first_commit_at": "2024-03-02T10:00:00Z"},
    ]
    assert send(CHANGES, changes, source="github").json()["created"] == 2
    d1, d2 = Deployment.objects.order_by("external_key")
    assert (d1.team, d2.team, d2.is_rework, d2.environment) == (
        org.team,
        org.other_team,
        True,
        "production",
    )
    assert Incident.objects.get().deployment == d1
    assert Change.objects.get(external_key="abc123").deployment == d2
    assert Change.objects.get(external_key="def456").deployment is None
    # the same again: unchanged
    assert send(DEPLOYMENTS, deployments, source="github").json()["unchanged"] == 2
    assert send(INCIDENTS, incidents).json()["unchanged"] == 1
    again = send(CHANGES, changes, source="github").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_an_updated_deployment_asks_for_a_dora_recompute_that_names_no_team(org, send):
    send(DEPLOYMENTS, [{"key": "d-1", "team": org.team.pk, "finished_at": "2024-03-05T10:00:00Z"}])
    RecomputeJob.objects.all().delete()
    moved = [{"key": "d-1", "team": org.other_team.pk, "finished_at": "2024-03-05T10:00:00Z"}]
    assert send(DEPLOYMENTS, moved).json()["updated"] == 1
    job = RecomputeJob.objects.get()
    assert (job.kind, job.dora_changed, job.item_ids, job.team_ids) == (
        "incremental",
        True,
        [],
        [],
    )


@pytest.mark.parametrize(
    ("url", "record", "field", "message"),
    [
        (INCIDENTS, {"key": "I", "created_at": "2024-03-05T10:00:00Z", "deployment": "nope"}, "deployment", "no deployment 'nope' from source 'jira'"),
        (CHANGES, {"key": "C", "first_commit_at": "2024-03-05T10:00:00Z", "deployment": "nope"}, "deployment", "send the deployment first"),
        (CHANGES, {"key": "C"}, "first_commit_at", "first_commit_at is required"),
        (DEPLOYMENTS, {"key": "D", "finished_at": "2024-03-05"}, "finished_at", "has no time zone offset"),
        (DEPLOYMENTS, {"key": "D", "finished_at": "2024-03-05T10:00:00Z", "successful": "yes"}, "successful", "must be true or false"),
        (DEPLOYMENTS, {"key": "D", "finished_at": "2024-03-05T10:00:00Z", "started_at": "2024-03-06T10:00:00Z"}, "started_at", "after finished_at"),
        (INCIDENTS, {"key": "I", "created_at": "2024-03-05T10:00:00Z", "resolved_at": "2024-03-04T10:00:00Z"}, "resolved_at", "before created_at"),
        (INCIDENTS, {"key": "I", "created_at": "2024-03-05T10:00:00Z", "team": "Origination"}, "team", "no team named 'Origination'"),
    ],
)  # fmt: skip
def test_a_bad_event_refuses_the_batch_naming_the_field(org, send, url, record, field, message):
    good = {"key": "GOOD", "finished_at": "2024-03-05T10:00:00Z", "first_commit_at": "2024-03-05T10:00:00Z", "created_at": "2024-03-05T10:00:00Z"}  # fmt: skip
    response = send(url, [good, record])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["key"], e["field"]) for e in errors] == [(1, record["key"], field)]
    assert message in errors[0]["message"]
    assert Deployment.objects.count() + Incident.objects.count() + Change.objects.count() == 0


def test_a_team_name_shared_by_two_value_streams_must_be_given_by_id(org, send):
    from tests.factories import ProductTeamFactory, ValueStreamFactory

    twin = ProductTeamFactory(
        value_stream=ValueStreamFactory(portfolio=org.portfolio), name="Instant Payments"
    )
    response = send(WORK_ITEMS, [item()])
    assert response.status_code == 400
    assert "give the team id" in response.json()["errors"][0]["message"]
    assert send(WORK_ITEMS, [item(team=twin.pk)]).status_code == 200


def test_queries_do_not_grow_with_the_number_of_records(org, send):
    def queries_for(count, prefix):
        records = [item(f"{prefix}-{n}") for n in range(count)]
        with CaptureQueriesContext(connection) as captured:
            assert send(WORK_ITEMS, records).status_code == 200
        return len(captured)

    queries_for(1, "warm-up")  # the token's first use records last_used_at
    assert queries_for(3, "A") == queries_for(300, "B")


EXPECTED = {
    "anonymous": 401,
    "outsider": 404,
    "member": 403,
    "executive": 403,
    "pmo": 200,
    "admin": 200,
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("url", [WORK_ITEMS, DEPLOYMENTS, INCIDENTS, CHANGES])
def test_a_session_may_ingest_only_as_lean_pmo_of_the_portfolio(org, client_for, who, url):
    record = copy.deepcopy(item())
    record.update(finished_at="2024-03-05T10:00:00Z", first_commit_at="2024-03-05T10:00:00Z")
    body = {"portfolio": org.portfolio.pk, "source": "jira", "records": [record]}
    response = client_for(who).post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == EXPECTED[who], response.content
    written = sum(m.objects.count() for m in (WorkItem, Deployment, Incident, Change))
    assert written == (1 if EXPECTED[who] == 200 else 0)


def test_a_session_must_name_the_portfolio(org, client_for):
    body = {"source": "jira", "records": [item()]}
    response = client_for("pmo").post(
        WORK_ITEMS, data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "portfolio"


def test_the_ingest_endpoints_are_in_the_openapi_schema(client_for):
    schema = client_for("pmo").get(reverse("api-schema"), {"format": "json"}).json()
    for path in ("work-items", "deployments", "incidents", "changes", "imports"):
        assert f"/api/v1/ingest/{path}/" in schema["paths"]
    body = schema["components"]["schemas"]["WorkItemBatch"]
    assert "records" in body["properties"]


def test_a_full_batch_of_5000_work_items_is_written_in_one_request(org, send):
    records = [item(f"BIG-{n}", team=None) for n in range(5000)]
    response = send(WORK_ITEMS, records)
    assert response.status_code == 200
    assert response.json()["created"] == 5000
    assert StatusChange.objects.filter(item__portfolio=org.portfolio).count() == 15000
    assert send(WORK_ITEMS, records).json()["unchanged"] == 5000


def test_a_batch_of_5000_items_with_six_status_changes_fits_in_one_body(org, send):
    changes = [
        {"at": f"2024-03-{day:02d}T10:00:00Z", "status": status}
        for day, status in enumerate(
            ("In Progress", "Blocked", "In Progress", "Review", "In Progress", "Done"), 4
        )
    ]
    records = [
        item(f"BIG-{n}", team=None, title=f"Item {n}", status_history=[
            {"at": "2024-03-04T09:00:00+01:00", "status": "To Do"}, *changes
        ])
        for n in range(5000)
    ]  # fmt: skip
    assert len(json.dumps({"source": "jira", "records": records})) > 2_621_440  # Django's default
    response = send(WORK_ITEMS, records, dry_run=True)
    assert response.status_code == 200, response.content[:200]
    assert response.json()["created"] == 5000


def test_the_body_limit_holds_5000_records_with_every_text_at_its_maximum(settings):
    longest = item(
        "K" * 120,
        source="S" * 40,
        type="T" * 120,
        team="N" * 120,
        title="x" * 500,
        url="https://jira.example.com/browse/" + "u" * 468,
        status_history=[
            {"at": "2024-03-04T09:00:00.000000+01:00", "status": "s" * 120} for _ in range(12)
        ],
    )
    assert 5000 * len(json.dumps(longest)) + 100 <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_an_oversized_body_is_refused_with_json_that_states_the_limit(org, send, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    response = send(WORK_ITEMS, [item(f"BIG-{n}") for n in range(100)])
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    [error] = response.json()["errors"]
    assert "at most 0.02 MB are accepted" in error["message"]
    assert not WorkItem.objects.exists()


def test_a_body_that_is_not_json_is_refused_in_the_batch_shape(org, token):
    response = Client().post(
        WORK_ITEMS, data=b"\xa1{", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["errors"][0]["message"]


def test_texts_the_database_cannot_store_are_cleaned_and_named(org, send):
    response = send(
        WORK_ITEMS,
        [item("NUL-1", title="Export\u0000 the mix \ud800", team="Instant\u0000 Payments")],
    )
    assert response.status_code == 200, response.content[:300]
    stored = WorkItem.objects.get(external_key="NUL-1")
    assert stored.title == "Export the mix \ufffd"
    assert stored.team == org.team
    assert {(w["key"], w["field"]) for w in response.json()["warnings"]} == {("NUL-1", "title")}
    event = send(DEPLOYMENTS, [{"key": "d\u00001", "finished_at": "2024-03-08T10:00:00Z"}])
    assert event.status_code == 200, event.content[:300]
    assert event.json()["warnings"][0]["field"] == "key"


def test_a_body_nested_100000_levels_deep_is_refused_saying_so(org, token, client_for):
    deep = b'{"records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = Client().post(
        WORK_ITEMS, data=deep, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 400
    assert "thousands of levels deep" in response.json()["errors"][0]["message"]
    elsewhere = client_for("pmo").post(
        reverse("api:objective-list"), data=deep, content_type="application/json"
    )
    assert elsewhere.status_code == 400
    assert "thousands of levels deep" in elsewhere.json()["detail"]
