"""The flow dashboards of the value-stream and team pages, read from precomputed metric rows."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.access import NOBODY_BUT_ADMIN, READERS, AccessContract
from tests.factories import ProductTeamFactory
from tests.valuestreams.flow_pages_rows import AS_OF, metric_run, publish
from valuestreams.models import ScopeKind, WorkItem, WorkItemFact
from valuestreams.panels import value_stream_flow_section
from valuestreams.selectors.caveats import caveat_messages
from valuestreams.selectors.dashboard import (
    dora_tiles,
    team_dashboard,
    value_stream_dashboard,
)

pytestmark = pytest.mark.django_db


def publish_value_stream(org, *, weeks=8, months=3, caveats=None):
    metric_run(org.portfolio, caveats)
    publish(org.portfolio, ScopeKind.VALUE_STREAM, org.value_stream.pk, weeks=weeks, months=months)
    for team in org.value_stream.teams.all():
        publish(org.portfolio, ScopeKind.TEAM, team.pk, weeks=weeks, months=months)


def page(client, org, **params):
    return client.get(reverse("value-stream-detail", args=[org.value_stream.pk]), params)


# --- access -----------------------------------------------------------------------------------


class TestValueStreamFlowCsvAccess(AccessContract):
    url_name = "value-stream-flow-csv"
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": org.value_stream.pk, "chart": "velocity"}


class TestForeignValueStreamFlowCsvAccess(AccessContract):
    url_name = "value-stream-flow-csv"
    expected = NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.other_value_stream.pk, "chart": "velocity"}


class TestTeamFlowCsvAccess(AccessContract):
    url_name = "team-flow-csv"
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": org.team.pk, "chart": "flow-time"}


class TestForeignTeamFlowCsvAccess(AccessContract):
    url_name = "team-flow-csv"
    expected = NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.foreign_team.pk, "chart": "flow-time"}


# --- wording ----------------------------------------------------------------------------------


def test_unmapped_statuses_are_explained_in_plain_words():
    lines = caveat_messages(
        {"unmapped_items": 12, "unmapped_status_names": ["Awaiting Vendor"], "items": 400}
    )
    assert lines == [
        "12 items have an unmapped status (Awaiting Vendor) and count as waiting.",
    ]


def test_caveats_of_flow_and_dora_are_all_worded_and_zero_counts_are_left_out():
    lines = caveat_messages(
        {
            "flow": {
                "unmapped_status_changes": 3,
                "unmapped_status_names": "Awaiting Vendor, Parked",
                "truncated_histories": 2,
                "done_without_start": 0,
            },
            "dora": {"incidents_unlinked": 5},
        }
    )
    assert lines == [
        "3 status changes went into an unmapped status (Awaiting Vendor, Parked) and count as "
        "waiting.",
        "2 items have a history that starts mid-way (truncated); they are counted, but their "
        "flow time may be too short.",
        "5 incidents in this portfolio are not linked to a deployment; they do not count in the "
        "change failure rate or recovery time.",
    ]
    assert caveat_messages({}) == []


def test_dora_tiles_read_as_people_say_them_with_tier_and_benchmark():
    tiles = dora_tiles(
        {
            "benchmark": "dora-2023",
            "deployments": 20,
            "median_deployment_days_per_week": 4.0,
            "median_deployment_days_per_month": 16.0,
            "deployment_frequency_tier": "high",
            "changes_deployed": 50,
            "median_lead_time_minutes": 150.0,
            "lead_time_tier": "elite",
            "failed_deployments": 1,
            "change_failure_rate": 0.05,
            "change_failure_rate_tier": "elite",
            "incidents_recovered": 1,
            "median_recovery_time_minutes": 3 * 1440.0,
            "recovery_time_tier": "medium",
            "rework_deployments": 2,
            "deployment_rework_rate": 0.1,
        }
    )
    assert [(t.name, t.value, t.tier) for t in tiles] == [
        ("Deployment frequency", "4 days a week", "high"),
        ("Lead time for changes", "2.5 h", "elite"),
        ("Change failure rate", "5 %", "elite"),
        ("Recovery time", "3 days", "medium"),
        ("Rework rate", "10 %", ""),
    ]
    assert [t.detail for t in tiles] == [
        "20 deployments · 16 days a month",
        "median of 50 changes",
        "1 of 20 deployments failed",
        "median of 1 incident",
        "2 unplanned fix deployments",
    ]
    assert {t.benchmark for t in tiles} == {"dora-2023"}
    assert tiles[0].tier_label == "Between once per day and once per week"
    assert tiles[4].tier_label == "no benchmark tier"


# --- selectors --------------------------------------------------------------------------------


def test_value_stream_dashboard_reads_the_published_rows(org):
    publish_value_stream(org)
    teams = list(org.value_stream.teams.order_by("name"))
    dashboard = value_stream_dashboard(org.value_stream, teams=teams, grain="week")
    assert dashboard.has_data
    assert dashboard.flow["label"].nunique() == 8
    # 13 recent weeks cover all 8 published ones: 5 + 2 + 1 + 0 items a week.
    assert dashboard.distribution[["item_type", "done"]].to_numpy().tolist() == [
        ["Feature", 40],
        ["Defect", 16],
        ["Risk", 8],
        ["Debt", 0],
    ]
    assert dashboard.distribution["target"].tolist() == [0.5, 0.2, 0.1, 0.2]
    assert dashboard.status_times["status"].tolist()[0] == "In Progress"
    assert dashboard.status_times["time_s"].tolist()[0] == 8 * 3 * 86_400
    assert dashboard.status_times["share"].sum() == pytest.approx(1.0)
    assert dashboard.dora_label == "Feb 2026"  # the last complete month before 4 March
    # the DORA trend: every month read, the running one marked as such
    assert dashboard.dora_months["label"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert dashboard.dora_months["complete"].tolist() == [True, True, False]
    assert [row.team.name for row in dashboard.teams] == ["Instant Payments", "Payment Rails"]
    first = dashboard.teams[0]
    # The week of 4 March is still running: the breakdown shows the week before.
    assert (first.label, first.velocity, first.flow_time_p85_days) == ("2026-W09", 8, 11.0)
    assert first.period_start == dt.date(2026, 2, 23)
    assert first.dora_tiers[0] == ("DF", "Deployment frequency", "high")
    assert set(dashboard.team_velocity["team"]) == {"Instant Payments", "Payment Rails"}


def test_month_grain_reads_month_rows(org):
    publish_value_stream(org)
    dashboard = team_dashboard(org.team, grain="month")
    assert dashboard.flow["label"].unique().tolist() == ["2026-01", "2026-02", "2026-03"]


def test_nothing_computed_gives_an_empty_dashboard(org):
    dashboard = value_stream_dashboard(org.value_stream, teams=[], grain="week")
    assert not dashboard.has_data
    assert dashboard.flow.empty
    assert dashboard.teams == []


# --- pages ------------------------------------------------------------------------------------


def unmapped_items(org, count):
    """`count` items of org.team whose stored facts say they passed an unmapped status."""
    items = WorkItem.objects.bulk_create(
        WorkItem(
            portfolio=org.portfolio,
            source="jira",
            external_key=f"PAY-{n}",
            source_type="Story",
            team=org.team,
            created_at=AS_OF,
        )
        for n in range(count)
    )
    WorkItemFact.objects.bulk_create(
        WorkItemFact(
            item=item,
            item_type="Feature",
            state="waiting",
            unmapped_count=2,
            portfolio=org.portfolio,
            team_id=org.team.pk,
            value_stream_id=org.value_stream.pk,
        )
        for item in items
    )


def test_value_stream_page_shows_flow_charts_dora_tiles_caveats_and_teams(org, client_for):
    publish_value_stream(
        org,
        caveats={"unmapped_status_changes": 30, "unmapped_statuses": ["Awaiting Vendor"]},
    )
    unmapped_items(org, 12)
    response = page(client_for("executive"), org)
    html = response.content.decode()
    assert response.status_code == 200
    panels = {panel["title"]: panel for panel in response.context["flow_panels"]}
    assert list(panels) == [
        "Flow velocity",
        "Flow time",
        "Flow efficiency",
        "Flow load",
        "Flow distribution",
        "Velocity by team",
    ]
    velocity = panels["Flow velocity"]["figure"]["data"]
    assert {trace["name"] for trace in velocity} == {"Feature", "Defect", "Risk"}
    assert panels["Flow time"]["rows"][0][1:] == [8, 2.0, 5.0, 9.0]
    # findings name the last complete week (4 March 2026 is in the week of 2 March)
    assert panels["Flow velocity"]["finding"].startswith(
        "8 items done in the week of 23 Feb 2026; 8 a week on average"
    )
    assert panels["Flow time"]["finding"] == (
        "85 % of the items done in the week of 23 Feb 2026 took 11 days or less "
        "(half of them 8 days)"
    )
    assert "week of 23 Feb 2026" in html
    assert "2026-W09" not in html
    dora = response.context["dora_panel"]
    assert dora["title"] == "DORA metrics over the last twelve months"
    assert [row[0] for row in dora["rows"]] == ["Jan 2026", "Feb 2026"]
    assert dora["finding"].startswith("In Feb 2026: deployment frequency high")
    assert response.context["waits_panel"]["rows"][0][:2] == ["In Progress", "active"]
    assert 'class="dora-tile tier-high"' in html
    assert "tier-badge tier-elite" in html
    assert "tiers of the DORA 2023 benchmark" in html
    assert "dora-2023" not in html
    assert "DORA metrics for Feb 2026, the last complete month" in html
    assert "12 items have an unmapped status (Awaiting Vendor) and count as waiting." in html
    assert "As of 4 Mar 2026" in html
    assert "Instant Payments" in html
    assert "DF · high" in html
    csv_url = reverse("value-stream-flow-csv", args=[org.value_stream.pk, "velocity"])
    assert f'href="{csv_url}?grain=week"' in html
    assert "vendor/plotly.min.js" in html


def test_the_grain_switch_shows_months_and_ignores_nonsense(org, client_for):
    publish_value_stream(org)
    client = client_for("member")
    monthly = page(client, org, grain="month")
    assert monthly.context["flow"].grain == "month"
    assert monthly.context["flow_panels"][0]["figure"]["data"][0]["x"] == [
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
    ]
    assert 'class="active" aria-current="true">Monthly' in monthly.content.decode()
    assert page(client, org, grain="fortnight").context["flow"].grain == "week"


def test_a_value_stream_without_metrics_says_where_data_comes_from(org, client_for):
    response = page(client_for("pmo"), org)
    html = response.content.decode()
    assert "No flow data yet" in html
    assert "import work items or connect an integration" in html
    assert "dora-tile" not in html
    assert "vendor/plotly.min.js" not in html


def test_value_stream_page_query_count_does_not_grow_with_teams_items_or_weeks(
    org, client_for, django_assert_num_queries
):
    client = client_for("executive")
    publish_value_stream(org, weeks=3, months=2)
    with CaptureQueriesContext(connection) as small:
        assert page(client, org).status_code == 200
    for n in range(6):
        ProductTeamFactory(value_stream=org.value_stream, name=f"Extra team {n}")
    publish_value_stream(org, weeks=40, months=12)  # a newer run, many more rows
    with django_assert_num_queries(len(small.captured_queries)):
        response = page(client, org)
    assert len(response.context["flow"].teams) == 8
    assert response.context["flow"].flow["label"].nunique() == 40
    # The flow part itself: run, recompute state, flow, DORA, status times, caveats, team
    # flow, team DORA.
    teams = list(org.value_stream.teams.all())
    with django_assert_num_queries(8):
        value_stream_flow_section(org.value_stream, teams, "month")


def test_team_page_query_count_does_not_grow_with_weeks(org, client_for):
    from valuestreams.panels import team_flow_section

    publish_value_stream(org, weeks=2, months=1)
    with CaptureQueriesContext(connection) as small:
        team_flow_section(org.team, "week")
    publish_value_stream(org, weeks=30, months=8)
    with CaptureQueriesContext(connection) as large:
        context = team_flow_section(org.team, "week")
    assert len(small.captured_queries) == len(large.captured_queries) == 6
    assert context["team_flow"].flow["label"].nunique() == 30


# --- CSV --------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_each_chart_downloads_its_numbers_as_csv(org, client_for):
    publish_value_stream(org)
    client = client_for("member")
    url = reverse("value-stream-flow-csv", args=[org.value_stream.pk, "flow-time"])
    rows = read_csv(client.get(url, {"grain": "month"}))
    assert rows[0] == ["Month", "Items done", "p50 (days)", "p85 (days)", "p95 (days)"]
    assert rows[1] == ["Jan 2026", "8", "2.0", "5.0", "9.0"]
    weekly = read_csv(client.get(url))
    assert weekly[0][0] == "Week starting"
    assert weekly[1][0] == "2026-01-12"  # ISO dates in the CSV, "12 Jan 2026" on the page
    response = client.get(url)
    assert 'filename="payments-flow-time-week.csv"' in response["Content-Disposition"]
    assert len(read_csv(response)) == 1 + 8
    team_rows = read_csv(
        client.get(reverse("team-flow-csv", args=[org.team.pk, "velocity"]), {"grain": "month"})
    )
    assert team_rows[0] == ["Month", "Feature", "Defect", "Risk", "Debt", "Total"]
    dora_rows = read_csv(client.get(reverse("team-flow-csv", args=[org.team.pk, "dora"])))
    assert dora_rows[0][:3] == ["Month", "Deployment days a week", "Deployment frequency tier"]
    assert [row[0] for row in dora_rows[1:]] == ["Jan 2026", "Feb 2026"]


def test_csv_cells_that_look_like_formulas_are_neutralised(org, client_for):
    metric_run(org.portfolio)
    publish(org.portfolio, ScopeKind.VALUE_STREAM, org.value_stream.pk, status_prefix="=HYPERLINK")
    url = reverse("value-stream-flow-csv", args=[org.value_stream.pk, "time-in-status"])
    rows = read_csv(client_for("member").get(url))
    assert rows[1][0] == "'=HYPERLINKIn Progress"
    assert all(not row[0].startswith("=") for row in rows)


def test_csv_of_an_unknown_chart_is_404_and_empty_data_gives_a_header(org, client_for):
    client = client_for("member")
    missing = reverse("value-stream-flow-csv", args=[org.value_stream.pk, "horoscope"])
    assert client.get(missing).status_code == 404
    team_only = reverse("team-flow-csv", args=[org.team.pk, "distribution"])
    assert client.get(team_only).status_code == 404
    empty = reverse("value-stream-flow-csv", args=[org.value_stream.pk, "velocity"])
    assert read_csv(client.get(empty)) == [["no data yet"]]


def test_team_page_shows_the_teams_flow_and_dora_tiles(org, client_for):
    publish_value_stream(org)
    response = client_for("member").get(reverse("team-detail", args=[org.team.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert [panel["title"] for panel in response.context["team_flow_panels"]] == [
        "Flow velocity",
        "Flow time",
        "Flow efficiency",
        "Flow load",
    ]
    assert 'class="flow-section team-flow"' in html
    assert html.count("data-metric=") == 5
    assert response.context["team_dora_panel"]["rows"]
    assert 'id="team-dora-panel"' in html
    csv_url = reverse("team-flow-csv", args=[org.team.pk, "load"])
    assert f'href="{csv_url}?grain=week"' in html


def test_team_page_without_metrics_says_where_data_comes_from(org, client_for):
    html = client_for("member").get(reverse("team-detail", args=[org.team.pk])).content.decode()
    assert "No flow data yet" in html
    assert "dora-tile" not in html


# --- the flow part of a page is built once per published run --------------------------------


def test_a_second_view_of_the_same_run_reads_two_queries_and_shows_the_same(org):
    from valuestreams.panels import PUBLISHED

    PUBLISHED.clear()
    publish_value_stream(org)
    teams = list(org.value_stream.teams.order_by("name"))
    with CaptureQueriesContext(connection) as first:
        built = value_stream_flow_section(org.value_stream, teams, "week")
    with CaptureQueriesContext(connection) as second:
        again = value_stream_flow_section(org.value_stream, teams, "week")
    assert len(first.captured_queries) == 8
    assert len(second.captured_queries) == 2  # the latest run, a recompute failure since
    assert again["flow_panels"] == built["flow_panels"]
    assert again["dora_panel"] == built["dora_panel"]


def test_a_newly_published_run_a_renamed_team_and_a_failure_show_at_once(org):
    from valuestreams.models import JobStatus, MetricRun, RecomputeJob

    publish_value_stream(org)
    teams = list(org.value_stream.teams.order_by("name"))
    value_stream_flow_section(org.value_stream, teams, "week")
    # a recompute publishes a new run with more items done
    metric_run(org.portfolio)
    publish(org.portfolio, ScopeKind.VALUE_STREAM, org.value_stream.pk, weeks=8, scale=3)
    velocity = value_stream_flow_section(org.value_stream, teams, "week")["flow_panels"][0]
    assert velocity["rows"][0][-1] == 24  # 8 items a week, three times as many
    # a team renamed since: its new name, with the same run
    teams[0].name = "Instant Payments EU"
    teams[0].save()
    context = value_stream_flow_section(org.value_stream, teams, "week")
    assert context["flow"].teams[0].team.name == "Instant Payments EU"
    # a recompute that fails after the run: said at once, the figures those of the run
    assert context["flow"].recompute_failure is None
    RecomputeJob.objects.create(
        portfolio=org.portfolio,
        kind=MetricRun.Kind.FULL,
        status=JobStatus.FAILED,
        error="the database went away",
        finished_at=MetricRun.objects.latest("computed_at").computed_at + dt.timedelta(minutes=1),
    )
    failed = value_stream_flow_section(org.value_stream, teams, "week")["flow"]
    assert failed.recompute_failure.error == "the database went away"
