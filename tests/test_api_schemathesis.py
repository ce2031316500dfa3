"""Schemathesis over every operation of the OpenAPI schema, as each kind of caller: an executive, the
Lean PMO, a team member, an outsider and an integration token. Every answer must be no server error,
a documented status code and content type, and a body that matches its documented schema.

The requests go through Django's WSGI application to the real test database. One small world is
built once for the module (rolled back at the end); each example runs in a savepoint that is rolled
back, so examples do not depend on each other. Generated ids are often swapped for ids of objects
that exist (visible to the caller or not), so that operations reach their services instead of
stopping at "no such object". Deterministic (derandomised) and bounded: STEWARD_API_FUZZ_EXAMPLES
examples per operation and caller (default 3); raise it, and set STEWARD_API_FUZZ_COVERAGE=1 to add
schemathesis' coverage phase (every boundary of every field), for a deeper run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, models, transaction
from django.test import Client
from django.urls import resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from leanpmo.models import FundingDecision, FundingPeriod, Scenario, StrategicTheme
from portfolio.models import Portfolio
from portfolio.services import integration_token_issue
from teams.models import (
    KeyResult,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    RealisationMetric,
)
from tests.conftest import make_org
from tests.leanpmo.support import (
    NOW,
    funding_for,
    make_budget,
    make_period,
    review_for,
    scenario_for,
)
from tests.teams.factories import (
    ExperimentFactory,
    KeyResultFactory,
    NotDoingItemFactory,
    OutcomeUpdateFactory,
    RealisationMetricFactory,
    RealisationPointFactory,
    TeamInteractionFactory,
)
from valuestreams.models import ValueStream, WorkItem
from valuestreams.recompute import recompute_full_now, recompute_request
from valuestreams.services.imports import import_job_create
from valuestreams.services.work_items import work_items_ingest

pytestmark = pytest.mark.django_db

ROLES = ("executive", "pmo", "member", "outsider", "token")
EXAMPLES = int(os.environ.get("STEWARD_API_FUZZ_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# a path, query or body field of this name holds the id of such an object
ID_FIELDS: dict[str, type[models.Model]] = {
    "portfolio": Portfolio,
    "period__portfolio": Portfolio,
    "value_stream": ValueStream,
    "team": ProductTeam,
    "depends_on": ProductTeam,
    "objective": Objective,
    "parent": Objective,
    "key_result": KeyResult,
    "corrects": OutcomeUpdate,
    "period": FundingPeriod,
    "decision": FundingDecision,
    "supersedes": FundingDecision,
    "scenario": Scenario,
    "metric": RealisationMetric,
    "strategic_theme": StrategicTheme,
}


@dataclass
class World:
    """What the examples act on: each caller's headers and cookies, and the ids that exist."""

    credentials: dict[str, tuple[dict[str, str], dict[str, str]]]
    ids: dict[str, list[int]]  # ID_FIELDS name or path → existing ids


WORLD: dict[str, World] = {}


def _session(user) -> tuple[dict[str, str], dict[str, str]]:
    """A logged-in session with a CSRF token, as a browser would send them."""
    client = Client()
    client.force_login(user)
    csrf = "c" * 32  # an unmasked secret is a valid token
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
    return {"X-CSRFToken": csrf}, cookies


def _build_world() -> World:
    org = make_org()
    funding_for(org, approved=True)
    scenario_for(org)
    review_for(org)
    draft = make_period(org, name="2026 Q3", starts=dt.date(2026, 7, 1), ends=dt.date(2026, 9, 30))
    make_budget(draft, org.value_stream)
    stream_objective = Objective.objects.create(
        portfolio=org.portfolio,
        level=Objective.Level.VALUE_STREAM,
        value_stream=org.value_stream,
        title="Payments customers never think about",
    )
    team_key_result = KeyResultFactory(objective__team=org.team, objective__parent=stream_objective)
    KeyResultFactory(objective=stream_objective, metric="Settled in 10 s")  # its team is null
    KeyResultFactory(objective__team=org.foreign_team)
    OutcomeUpdateFactory(key_result=team_key_result, posted_by=org.users["member"])
    ExperimentFactory(team=org.team, created_by=org.users["member"])
    NotDoingItemFactory(team=org.team, recorded_by=org.users["member"])
    TeamInteractionFactory(team=org.team, depends_on=org.other_team)
    RealisationPointFactory(metric=RealisationMetricFactory(value_stream=org.value_stream))
    history = [("To Do", "02"), ("In Progress", "03"), ("Done", "05")]
    work_items_ingest(
        portfolio=org.portfolio,
        source="jira",
        records=[
            {
                "key": f"STW-{n}",
                "type": "Story",
                "team": org.team.pk,
                "created_at": "2026-03-02T09:00:00Z",
                "status_history": [
                    {"at": f"2026-03-{day}T09:00:00Z", "status": status}
                    for status, day in history[: n + 1]
                ],
            }
            for n in range(3)
        ],
    )
    recompute_full_now(portfolio=org.portfolio, as_of=NOW)
    recompute_request(portfolio=org.portfolio, full=True, requested_by=org.users["pmo"])
    import_job_create(
        portfolio=org.portfolio, created_by=org.users["pmo"], format="jira", payload=b"{}"
    )
    token = integration_token_issue(portfolio=org.portfolio, name="ci", days=30, now=timezone.now())
    credentials = {role: _session(org.users[role]) for role in ROLES if role != "token"}
    credentials["token"] = ({"Authorization": f"Bearer {token.text}"}, {})
    ids = {
        name: list(model.objects.values_list("pk", flat=True)) for name, model in ID_FIELDS.items()
    }
    for path in _paths_with_ids():
        ids[path] = list(_model_of(path).objects.values_list("pk", flat=True))
    ids["item_ids"] = list(WorkItem.objects.values_list("pk", flat=True))
    ids["team_ids"] = ids["team"]
    return World(credentials=credentials, ids=ids)


def _openapi() -> dict[str, Any]:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


def _paths_with_ids() -> list[str]:
    return [path for path in _openapi()["paths"] if "{id}" in path]


def _model_of(path: str) -> type[models.Model]:
    """The model whose ids fill the path's {id}: the serializer's, or (a viewset over another
    model's rows, such as each portfolio's signal thresholds) the queryset's."""
    view = resolve(path.replace("{id}", "1")).func
    meta = getattr(view.cls.serializer_class, "Meta", None)
    if meta is not None:
        return meta.model
    viewset = view.cls(request=None, format_kwarg=None)
    viewset.request = type("Anonymous", (), {"user": get_user_model()(is_superuser=True)})()
    return viewset.get_queryset().model


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The world, built once in a transaction that is rolled back when the module is done."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            WORLD["current"] = _build_world()
            yield WORLD["current"]
        finally:
            WORLD.pop("current", None)
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def wsgi_in_this_transaction():
    """Django closes the connection around each WSGI request; the examples share the test's
    transaction, so (as Django's test client does) it is kept open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _known_ids(values: dict[str, Any], ids_for) -> st.SearchStrategy:
    """`values` with ids swapped, half of the time, for ids of objects that exist."""
    if not isinstance(values, dict):
        return st.just(values)
    choices = {}
    for name, value in values.items():
        known = ids_for(name)
        if not known:
            continue
        if isinstance(value, list):
            choices[name] = st.one_of(st.just(value), st.lists(st.sampled_from(known), max_size=3))
        elif isinstance(value, int | str) and not isinstance(value, bool):
            choices[name] = st.one_of(st.just(value), st.sampled_from(known))
    return st.fixed_dictionaries(choices).map(lambda picked: {**values, **picked})


def flatmap_path_parameters(context, path_parameters):
    ids = WORLD["current"].ids
    return _known_ids(path_parameters, lambda name: ids.get(context.operation.path))


def flatmap_query(context, query):
    ids = WORLD["current"].ids
    return _known_ids(query, lambda name: ids.get("team" if name == "id" else name))


def flatmap_body(context, body):
    ids = WORLD["current"].ids
    return _known_ids(body, ids.get)


def _schema() -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_dict(_openapi())
    loaded.app = application
    # the coverage phase (every boundary of every field) takes minutes: for a deeper run only
    deep = os.environ.get("STEWARD_API_FUZZ_COVERAGE") == "1"
    loaded.config.phases.update(phases=["examples", "fuzzing", *(["coverage"] if deep else [])])
    for hook in (flatmap_path_parameters, flatmap_query, flatmap_body):
        loaded.hook(hook)
    return loaded


schema = _schema()


@pytest.fixture(scope="module", params=ROLES)
def role(request) -> str:
    """Who calls: each caller runs every operation."""
    return request.param


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_every_operation_answers_within_its_schema(case, role, world, wsgi_in_this_transaction):
    headers, cookies = world.credentials[role]
    with transaction.atomic():
        response = case.call(headers=headers, cookies=cookies)
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)
