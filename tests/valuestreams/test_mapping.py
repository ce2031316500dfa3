"""Status → flow state and type → flow-item type: defaults, explicit rows, unmapped values, and the
mapping page where the Lean PMO edits them."""

import datetime as dt

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.access import EDITORS, READERS, AccessContract
from valuestreams.models import RecomputeJob, StateMapping, StatusChange, TypeMapping, WorkItem
from valuestreams.selectors.mappings import (
    default_flow_item_type,
    default_flow_state,
    flow_item_type_for,
    flow_state_for,
    mapping_overview,
)
from valuestreams.services.mappings import mappings_save

DEFAULT_STATES = {
    "new": ["To Do", "Backlog", "Open"],
    "waiting": ["Selected for Development", "Ready", "Blocked"],
    "active": ["In Progress", "In Review", "Code Review", "Testing", "QA"],
    "done": ["Done", "Closed", "Resolved", "Released"],
    "canceled": ["Won't Do", "Cancelled", "Canceled", "Rejected", "Duplicate"],
}
DEFAULT_TYPES = {
    "Feature": ["Story", "Feature", "Epic", "Task"],
    "Defect": ["Bug", "Defect", "Incident"],
    "Risk": ["Risk", "Security", "Vulnerability", "Compliance"],
    "Debt": ["Tech Debt", "Debt", "Chore", "Refactor"],
}


@pytest.mark.parametrize(
    ("status", "state"),
    [(status, state) for state, names in DEFAULT_STATES.items() for status in names],
)
def test_common_statuses_have_a_default_flow_state(status, state):
    assert default_flow_state(status) == state
    assert default_flow_state(f"  {status.upper()} ") == state


@pytest.mark.parametrize(
    ("source_type", "item_type"),
    [(name, item_type) for item_type, names in DEFAULT_TYPES.items() for name in names],
)
def test_common_types_have_a_default_flow_item_type(source_type, item_type):
    assert default_flow_item_type(source_type) == item_type
    assert default_flow_item_type(source_type.lower()) == item_type


def test_unknown_names_have_no_default():
    assert default_flow_state("Parked in limbo") is None
    assert default_flow_item_type("Whatever") is None


@pytest.mark.django_db
def test_an_explicit_mapping_wins_and_an_unknown_status_counts_as_waiting(org):
    StateMapping.objects.create(portfolio=org.portfolio, source_status="qa", flow_state="waiting")
    statuses = pd.Series(["To Do", "QA", "Parked", None, "Done", "QA"], index=[5, 6, 7, 8, 9, 10])
    states, unmapped = flow_state_for(org.portfolio, statuses)
    assert states.tolist() == ["new", "waiting", "waiting", "waiting", "done", "waiting"]
    assert unmapped.tolist() == [False, False, True, True, False, False]
    assert list(states.index) == list(unmapped.index) == [5, 6, 7, 8, 9, 10]
    # another portfolio keeps the default
    assert flow_state_for(org.other_portfolio, statuses)[0].tolist()[1] == "active"


@pytest.mark.django_db
def test_types_map_the_same_way_and_an_unknown_type_counts_as_feature(org):
    TypeMapping.objects.create(portfolio=org.portfolio, source_type="Task", flow_item_type="Debt")
    types = pd.Series(["Bug", "task", "Gizmo"]).astype("category")
    item_types, unmapped = flow_item_type_for(org.portfolio, types)
    assert item_types.tolist() == ["Defect", "Debt", "Feature"]
    assert unmapped.tolist() == [False, False, True]


def add_item(org, key, statuses, source_type="Story"):
    item = WorkItem.objects.create(
        portfolio=org.portfolio,
        source="jira",
        external_key=key,
        source_type=source_type,
        created_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    )
    StatusChange.objects.bulk_create(
        StatusChange(
            item=item,
            at=dt.datetime(2024, 3, 1 + day, tzinfo=dt.UTC),
            status=status,
            source_type=source_type,
        )
        for day, status in enumerate(statuses)
    )
    return item


@pytest.mark.django_db
def test_the_overview_lists_every_status_seen_unmapped_first(org):
    add_item(org, "A-1", ["To Do", "In Progress", "Done"])
    add_item(org, "A-2", ["To Do", "Parked", "In Progress"], source_type="Gizmo")
    add_item(org, "A-3", ["To Do"])
    StateMapping.objects.create(portfolio=org.portfolio, source_status="Done", flow_state="done")
    StateMapping.objects.create(portfolio=org.portfolio, source_status="Ice box", flow_state="new")
    overview = mapping_overview(org.portfolio)
    assert [(r.name, r.count, r.value, r.origin) for r in overview.statuses] == [
        ("Parked", 1, "waiting", "unmapped"),
        ("To Do", 3, "new", "default"),
        ("In Progress", 2, "active", "default"),
        ("Done", 1, "done", "explicit"),
        ("Ice box", 0, "new", "explicit"),
    ]
    assert [(r.name, r.count, r.origin) for r in overview.types] == [
        ("Gizmo", 1, "unmapped"),
        ("Story", 2, "default"),
    ]


@pytest.mark.django_db
def test_saving_mappings_writes_rows_and_requests_a_full_recompute(org):
    StateMapping.objects.create(portfolio=org.portfolio, source_status="QA", flow_state="active")
    changed = mappings_save(
        portfolio=org.portfolio,
        states={"Parked": "waiting", "qa": None, "To Do": None},
        types={"Gizmo": "Risk"},
    )
    assert changed == 3
    assert list(StateMapping.objects.values_list("source_status", "flow_state")) == [
        ("Parked", "waiting")
    ]
    assert list(TypeMapping.objects.values_list("source_type", "flow_item_type")) == [
        ("Gizmo", "Risk")
    ]
    job = RecomputeJob.objects.get(portfolio=org.portfolio)
    assert (job.kind, job.item_ids) == ("full", [])


@pytest.mark.django_db
def test_saving_the_same_mappings_again_changes_nothing_and_recomputes_nothing(org):
    mappings_save(portfolio=org.portfolio, states={"Parked": "waiting"}, types={})
    RecomputeJob.objects.all().delete()
    assert mappings_save(portfolio=org.portfolio, states={"parked": "waiting"}, types={}) == 0
    assert not RecomputeJob.objects.exists()


@pytest.mark.django_db
def test_a_bad_mapping_names_the_field_and_saves_nothing(org):
    with pytest.raises(ValidationError) as caught:
        mappings_save(
            portfolio=org.portfolio, states={"Parked": "waiting", "Later": "soon"}, types={}
        )
    assert "flow_state" in caught.value.message_dict
    assert "Later" in caught.value.message_dict["flow_state"][0]
    assert not StateMapping.objects.exists()
    assert not RecomputeJob.objects.exists()


def _post(states=(), types=()):
    data = {}
    for prefix, rows in (("states", states), ("types", types)):
        rows = [*rows, ("", "")]
        data |= {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
        for index, (name, value) in enumerate(rows):
            data |= {f"{prefix}-{index}-name": name, f"{prefix}-{index}-value": value}
    return data


class TestMappingPageAccess(AccessContract):
    url_name = "mapping-page"
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}


class TestMappingSaveAccess(AccessContract):
    url_name = "mapping-page"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}

    def payload(self, org):
        return _post(states=[("Parked", "waiting")])


class TestForeignMappingPageAccess(AccessContract):
    url_name = "mapping-page"
    expected = {**READERS, "member": 404, "executive": 404, "pmo": 404}

    def url_kwargs(self, org):
        return {"pk": org.other_portfolio.pk}


@pytest.mark.django_db
def test_the_page_shows_unmapped_statuses_first_and_highlighted(org, client_for):
    add_item(org, "A-1", ["To Do", "Parked", "Done"], source_type="Gizmo")
    page = client_for("executive").get(reverse("mapping-page", args=[org.portfolio.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "1 unmapped status and 1 unmapped type" in html
    assert html.index("Parked") < html.index("To Do")
    assert '<tr class="unmapped">' in html
    assert "<select" not in html  # executives read, they do not edit


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["executive", "pmo"])
def test_a_portfolio_without_items_says_that_no_status_or_type_was_seen(org, client_for, role):
    html = client_for(role).get(reverse("mapping-page", args=[org.portfolio.pk])).content.decode()
    assert html.count("No status seen yet.") == 1
    assert html.count("No type seen yet.") == 1
    add_item(org, "A-1", ["To Do", "Done"])
    html = client_for(role).get(reverse("mapping-page", args=[org.portfolio.pk])).content.decode()
    assert "No status seen yet." not in html


@pytest.mark.django_db
def test_the_lean_pmo_maps_an_unmapped_status_from_the_page(org, client_for):
    add_item(org, "A-1", ["To Do", "Parked", "Done"])
    client = client_for("pmo")
    url = reverse("mapping-page", args=[org.portfolio.pk])
    assert 'name="states-0-value"' in client.get(url).content.decode()
    response = client.post(url, _post(states=[("Parked", "active"), ("To Do", "")]), follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Saved 1 change(s)" in response.content.decode()
    assert StateMapping.objects.get().flow_state == "active"
    assert flow_state_for(org.portfolio, pd.Series(["Parked"]))[0].tolist() == ["active"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("states", "message"),
    [
        ([("Parked", "soon")], "Select a valid choice. soon is not one of the available choices."),
        ([("", "active")], "Name the source value to map"),
        ([("Parked", "active"), ("parked", "done")], "is already row 1; map it once"),
        ([("P" * 121, "active")], "Ensure this value has at most 120 characters"),
    ],
)
def test_bad_mapping_input_gets_a_clear_error_and_changes_nothing(org, client_for, states, message):
    response = client_for("pmo").post(
        reverse("mapping-page", args=[org.portfolio.pk]), _post(states=states)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StateMapping.objects.exists()
    assert not RecomputeJob.objects.exists()


@pytest.mark.django_db
def test_the_page_query_count_does_not_grow_with_statuses(org, client_for):
    client = client_for("pmo")
    url = reverse("mapping-page", args=[org.portfolio.pk])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    add_item(org, "A-1", ["To Do", "Parked"])
    few = queries()
    for n in range(20):
        add_item(org, f"B-{n}", [f"Status {n}", "Done"], source_type=f"Type {n}")
    StateMapping.objects.create(portfolio=org.portfolio, source_status="QA", flow_state="active")
    assert queries() == few
