"""Realisation metrics (page, CSV import), and outcomes rolled up on the value-stream and
portfolio pages: staleness, stability and the dependency map."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from teams.models import OutcomeUpdate, RealisationMetric, RealisationPoint
from tests.access import EDITORS, READERS, AccessContract
from tests.factories import ProductTeamFactory
from tests.teams.factories import (
    KeyResultFactory,
    OutcomeUpdateFactory,
    RealisationPointFactory,
    TeamInteractionFactory,
)

POSTS = {**EDITORS, "pmo": 302, "admin": 302}


class TestRealisationPageAccess(AccessContract):
    url_name = "realisation-metrics"
    expected = READERS

    def url_kwargs(self, org):
        RealisationPointFactory(metric__value_stream=org.value_stream)
        return {"pk": org.value_stream.pk}


class TestRealisationPointPostAccess(AccessContract):
    url_name = "realisation-point-create"
    method = "post"
    expected = POSTS

    def url_kwargs(self, org):
        return {"pk": org.value_stream.pk}

    def payload(self, org):
        point = RealisationPointFactory(metric__value_stream=org.value_stream)
        return {"metric": point.metric_id, "on": "2025-04-30", "value": "33"}


class TestRealisationMetricPostAccess(AccessContract):
    url_name = "realisation-metric-create"
    method = "post"
    expected = POSTS

    def url_kwargs(self, org):
        return {"pk": org.value_stream.pk}

    def payload(self, org):
        return {"name": "Retention", "unit": "%", "higher_is_better": "on"}


class TestForeignRealisationPageAccess(AccessContract):
    url_name = "realisation-metrics"
    expected = {**READERS, "member": 404, "executive": 404, "pmo": 404}

    def url_kwargs(self, org):
        return {"pk": org.other_value_stream.pk}


def csv_upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("points.csv", text.encode(), content_type="text/csv")


def test_lean_pmo_imports_realisation_points_from_csv(org, client_for):
    RealisationPointFactory(metric__value_stream=org.value_stream, metric__name="NPS", value=20)
    response = client_for("pmo").post(
        reverse("realisation-import", args=[org.value_stream.pk]),
        {
            "file": csv_upload(
                "metric,unit,date,value\n"
                "NPS,points,2025-03-31,31\n"  # replaces the existing point
                "Retention,%,2025-03-31,91.5\n"
                "Retention,%,2025-04-30,92\n"
            )
        },
    )
    assert response.status_code == 302
    points = RealisationPoint.objects.filter(metric__value_stream=org.value_stream)
    assert sorted((p.metric.name, str(p.on), p.value) for p in points) == [
        ("NPS", "2025-03-31", Decimal("31.0000")),
        ("Retention", "2025-03-31", Decimal("91.5000")),
        ("Retention", "2025-04-30", Decimal("92.0000")),
    ]
    assert RealisationMetric.objects.get(name="Retention").unit == "%"


HEADER = "metric,unit,date,value\nNPS,points,2025-01-31,30\n"  # a good first row


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "NPS,points,31/03/2025,31\n", "Row 3, date: “31/03/2025” is not a date"),
        (HEADER + "NPS,points,2025-03-31,a lot\n", "Row 3, value: “a lot” is not a number."),
        (HEADER + ",points,2025-03-31,3\n", "Row 3, metric: the name is empty."),
        ("metric,date\nNPS,2025-03-31\n", "missing: unit, value"),
        ("metric,unit,date,value\n", "The CSV has no rows."),
    ],
)
def test_a_bad_csv_imports_nothing_and_says_which_row(org, client_for, text, message):
    response = client_for("pmo").post(
        reverse("realisation-import", args=[org.value_stream.pk]), {"file": csv_upload(text)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was imported" in response.content.decode()
    assert not RealisationPoint.objects.exists()
    assert not RealisationMetric.objects.exists()


def test_a_bad_value_on_the_entry_form_is_refused(org, client_for):
    point = RealisationPointFactory(metric__value_stream=org.value_stream)
    response = client_for("pmo").post(
        reverse("realisation-point-create", args=[org.value_stream.pk]),
        {"metric": point.metric_id, "on": "2025-04-30", "value": "ten"},
    )
    assert response.status_code == 400
    assert response.context["point_form"].errors == {"value": ["Enter a number."]}
    assert RealisationPoint.objects.count() == 1


def test_value_stream_page_shows_realisation_beside_the_flow(org, client_for):
    for month, value in ((1, 100), (5, 120)):
        RealisationPointFactory(
            metric__value_stream=org.value_stream,
            metric__name="Volume",
            metric__unit="",
            on=dt.date(2025, month, 28),
            value=value,
        ) if month == 1 else RealisationPoint.objects.create(
            metric=RealisationMetric.objects.get(name="Volume"),
            on=dt.date(2025, month, 28),
            value=value,
        )
    with time_machine.travel(dt.datetime(2025, 6, 1, tzinfo=dt.UTC), tick=False):
        page = client_for("member").get(reverse("value-stream-detail", args=[org.value_stream.pk]))
    html = page.content.decode()
    assert "Realisation" in html
    assert "Volume" in html
    assert "+20 %" in html


def test_staleness_rolls_up_to_the_value_stream_and_portfolio_pages(org, client_for, outcomes):
    OutcomeUpdateFactory(
        key_result=outcomes.key_result, posted_at=dt.datetime(2025, 5, 30, tzinfo=dt.UTC)
    )
    # org.team's open key result was checked in on 30 May; org.other_team's never (due since January)
    with time_machine.travel(dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC), tick=False):
        vs_page = client_for("executive").get(
            reverse("value-stream-detail", args=[org.value_stream.pk])
        )
        portfolio_page = client_for("executive").get(
            reverse("portfolio-detail", args=[org.portfolio.pk])
        )
    assert [(r["team"], r["open"], r["stale"]) for r in _staleness(vs_page)] == [
        ("Payment Rails", 1, 1),
        ("Instant Payments", 1, 0),
    ]
    assert '<span class="stale-badge">1</span>' in vs_page.content.decode()
    text = portfolio_page.content.decode()
    assert "Outcome check-ins" in text
    assert "1 of 2 open key results are stale" in text


def _staleness(response):
    from teams.panels.outcomes import value_stream_staleness

    value_stream = response.context["value_stream"]
    return value_stream_staleness(value_stream, as_of=dt.date(2025, 6, 2)).to_dict("records")


def test_value_stream_page_lists_dependencies_and_who_is_waited_on(org, client_for):
    third = ProductTeamFactory(value_stream=org.value_stream, name="Cloud Platform")
    TeamInteractionFactory(team=org.team, depends_on=org.other_team, blocking=True, note="Rails")
    TeamInteractionFactory(team=third, depends_on=org.other_team, mode="collaboration")
    TeamInteractionFactory(team=org.team, depends_on=org.foreign_team)  # not visible to members
    html = client_for("member").get(reverse("value-stream-detail", args=[org.value_stream.pk]))
    text = html.content.decode()
    assert "Dependencies between teams" in text
    assert "Most waited on:" in text
    assert 'Payment Rails</a> (2 teams, <span class="blocking-text">1 blocking</span>)' in text
    assert org.foreign_team.name not in text


def test_value_stream_outcome_sections_keep_their_query_count(org, client_for, outcomes):
    client = client_for("executive")
    url = reverse("value-stream-detail", args=[org.value_stream.pk])
    KeyResultFactory(objective=outcomes.stream_objective)
    RealisationPointFactory(metric__value_stream=org.value_stream, on=dt.date(2024, 12, 1))
    TeamInteractionFactory(team=org.team, depends_on=org.other_team)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(4):
        team = ProductTeamFactory(value_stream=org.value_stream, name=f"Extra {n}")
        kr = KeyResultFactory(objective__team=team, objective__parent=outcomes.stream_objective)
        OutcomeUpdateFactory.create_batch(3, key_result=kr)
        TeamInteractionFactory(team=team, depends_on=org.team)
        RealisationPointFactory(metric__value_stream=org.value_stream, on=dt.date(2025, 1, n + 1))
    KeyResultFactory(objective=outcomes.stream_objective)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    portfolio_url = reverse("portfolio-detail", args=[org.portfolio.pk])
    with CaptureQueriesContext(connection) as portfolio_many:
        client.get(portfolio_url)
    OutcomeUpdateFactory.create_batch(5, key_result=outcomes.other)
    with CaptureQueriesContext(connection) as portfolio_more:
        client.get(portfolio_url)
    assert len(portfolio_more.captured_queries) == len(portfolio_many.captured_queries)


def test_the_database_refuses_to_change_or_delete_a_check_in(org, outcomes):
    update = OutcomeUpdate.objects.get(key_result=outcomes.key_result)
    with pytest.raises(Exception, match="append_only"), transaction.atomic():
        OutcomeUpdate.objects.filter(pk=update.pk).update(value=1)
    with pytest.raises(Exception, match="append_only"), transaction.atomic():
        OutcomeUpdate.objects.filter(pk=update.pk).delete()
    update.refresh_from_db()
    assert update.value == Decimal("85")


def test_the_database_refuses_a_target_on_the_wrong_side(org, outcomes):
    with pytest.raises(IntegrityError), transaction.atomic():
        KeyResultFactory(objective=outcomes.key_result.objective, baseline=10, target=5)
