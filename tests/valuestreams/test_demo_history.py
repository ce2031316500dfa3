"""The demo's two years of delivery history: believable, varied, deterministic and idempotent."""

import datetime as dt
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncMonth

from portfolio.demo import demo_seed
from portfolio.models import Portfolio
from teams.models import ProductTeam
from tests.factories import ProductTeamFactory, ValueStreamFactory
from valuestreams import demo
from valuestreams.models import (
    Change,
    Deployment,
    FlowMetric,
    Incident,
    MetricRun,
    StatusChange,
    WorkItem,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)
CUTOFF = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo bank with its history, seeded once for the module (and removed afterwards)."""
    with django_db_blocker.unblock():
        demo_seed(today=TODAY, password="secret-pass-123")
        started = time.monotonic()
        first = demo.seed_history(today=TODAY)
        seconds = time.monotonic() - started
        yield first, seconds
        call_command("flush", interactive=False, verbosity=0)


def test_the_seed_reports_what_it_wrote_and_stays_fast(seeded):
    line, seconds = seeded
    assert line.startswith("Demo delivery history: ")
    assert "work items" in line
    assert "metrics computed for 2 portfolios" in line
    assert seconds < 45


def test_a_second_run_adds_nothing(seeded):
    counts = [m.objects.count() for m in (WorkItem, StatusChange, Deployment, Change, Incident)]
    runs = MetricRun.objects.count()
    assert (
        demo.seed_history(today=TODAY) == "Demo delivery history: already present, nothing added."
    )
    assert [m.objects.count() for m in (WorkItem, StatusChange, Deployment, Change, Incident)] == (
        counts
    )
    assert MetricRun.objects.count() == runs


def test_every_team_gets_eight_to_twenty_five_items_a_month(seeded):
    monthly = list(
        WorkItem.objects.filter(source="demo")
        .annotate(month=TruncMonth("created_at", tzinfo=dt.UTC))
        .values("team", "month")
        .annotate(n=Count("pk"))
    )
    months = sorted({row["month"] for row in monthly})
    assert len(months) == 25  # two years, the first and last month partly
    whole = [row["n"] for row in monthly if row["month"] not in (months[0], months[-1])]
    assert ProductTeam.objects.count() == len({row["team"] for row in monthly}) == 22
    assert min(whole) >= 4  # a struggling team's December
    assert max(whole) <= 25
    assert 8 <= sum(whole) / len(whole) <= 25


def type_shares(team_name: str) -> dict[str, float]:
    types = Counter(
        WorkItem.objects.filter(team__name=team_name).values_list("source_type", flat=True)
    )
    total = sum(types.values())
    return {name: count / total for name, count in types.items()}


def test_teams_have_their_own_mix_of_work_types(seeded):
    rails, mobile, cloud = (
        type_shares("Payment Rails"),
        type_shares("Mobile App"),
        type_shares("Cloud Platform"),
    )
    assert rails["Bug"] > mobile["Bug"] + 0.05
    assert cloud["Tech Debt"] > 0.2 > mobile.get("Tech Debt", 0)
    assert mobile["Story"] > 0.55
    assert type_shares("Credit Risk Models")["Risk"] > 0.25


def test_histories_look_like_jira_with_reopenings_cancellations_blocks_and_open_items(seeded):
    statuses = Counter(StatusChange.objects.values_list("status", flat=True))
    assert set(statuses) == {
        "To Do",
        "Selected for Development",
        "In Progress",
        "In Review",
        "Testing",
        "Done",
        "Won't Do",
        "Awaiting Vendor",
    }
    reopened = (
        StatusChange.objects.filter(status="Done")
        .values("item")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    assert reopened > 50
    assert statuses["Won't Do"] > 100
    assert StatusChange.objects.filter(blocked=True).count() > 100
    last_status = {}
    for item, status in StatusChange.objects.order_by("item", "at", "seq").values_list(
        "item", "status"
    ):
        last_status[item] = status
    still_open = sum(status not in {"Done", "Won't Do"} for status in last_status.values())
    assert still_open > 100
    assert not StatusChange.objects.filter(at__gte=CUTOFF).exists()
    assert not WorkItem.objects.filter(created_at__gte=CUTOFF).exists()


def test_strong_teams_deploy_several_times_a_week_and_weak_ones_about_monthly(seeded):
    def deployments_per_week(team_name: str) -> float:
        count = Deployment.objects.filter(team__name=team_name, successful=True).count()
        return count / (demo.HISTORY_DAYS / 7)

    assert deployments_per_week("Instant Payments") > 3
    assert deployments_per_week("Payment Rails") < 0.6
    assert deployments_per_week("Payee Management") > 1


def test_changes_ship_with_deployments_and_incidents_follow_some_of_them(seeded):
    assert not Change.objects.filter(deployment__isnull=True).exists()
    changes = Change.objects.select_related("deployment")[:500]
    assert all(change.first_commit_at < change.deployment.finished_at for change in changes)
    assert Incident.objects.filter(deployment__isnull=False).count() > 100
    assert Incident.objects.filter(deployment__isnull=True).count() > 30
    resolved = Incident.objects.filter(resolved_at__isnull=False)
    spans = [i.resolved_at - i.created_at for i in resolved]
    assert min(spans) < dt.timedelta(hours=1)
    assert max(spans) > dt.timedelta(days=2)
    assert Deployment.objects.filter(is_rework=True).count() > 50
    assert Deployment.objects.filter(successful=False).exists()


def test_metrics_are_computed_with_the_caveats_a_first_import_has(seeded):
    for portfolio in Portfolio.objects.all():
        run = MetricRun.objects.filter(portfolio=portfolio).latest()
        assert run.caveats["unmapped_statuses"] == ["Awaiting Vendor"]
        assert run.caveats["unmapped_status_changes"] > 0
        assert FlowMetric.objects.filter(portfolio=portfolio, item_type="All").count() > 100
    unlinked = sum(run.caveats["incidents_unlinked"] for run in MetricRun.objects.all())
    assert unlinked > 0


def test_the_same_day_generates_the_same_history():
    portfolio = Portfolio.objects.create(name="Twin", time_zone="UTC", currency="EUR")
    ProductTeamFactory(value_stream=ValueStreamFactory(portfolio=portfolio), name="Mobile App")
    start = CUTOFF - dt.timedelta(days=90)
    first = demo._generate(portfolio, start=start, cutoff=CUTOFF)
    second = demo._generate(portfolio, start=start, cutoff=CUTOFF)
    assert first.changes_of == second.changes_of
    assert [d.finished_at for d in first.deployments] == [d.finished_at for d in second.deployments]
    assert len(first.items) > 30
