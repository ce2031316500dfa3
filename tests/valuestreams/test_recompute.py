"""The recompute pipeline: frames from rows, a full run checked by hand, incremental == full."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from teams.services.teams import team_update
from tests.factories import ProductTeamFactory, ValueStreamFactory
from tests.valuestreams.recompute_data import (
    add_item,
    append_changes,
    at,
    generated_dataset,
    map_statuses,
    mapped_dataset,
    small_dataset,
)
from valuestreams.models import (
    Deployment,
    DoraMetric,
    FlowMetric,
    Incident,
    MetricRun,
    MetricSettings,
    RecomputeJob,
    StatusChange,
    StatusTime,
    WorkItem,
    WorkItemFact,
)
from valuestreams.recompute import dora as recompute_dora
from valuestreams.recompute import read, recompute_full_now, recompute_incremental_now, rows
from valuestreams.recompute.plan import plan_incremental
from valuestreams.recompute.rows import History

AS_OF = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)


def published_rows(portfolio) -> dict[str, list[tuple]]:
    """Every published row of the portfolio, without ids, sorted: what two runs must agree on."""
    tables = {}
    for model in (FlowMetric, StatusTime, DoraMetric):
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        tables[model.__name__] = sorted(
            model.objects.filter(portfolio=portfolio).values_list(*fields), key=repr
        )
    fields = [f.attname for f in WorkItemFact._meta.concrete_fields]
    tables["WorkItemFact"] = sorted(
        WorkItemFact.objects.filter(portfolio=portfolio).values_list(*fields), key=repr
    )
    return tables


@pytest.mark.django_db
def test_an_incremental_run_after_a_day_of_changes_publishes_exactly_what_a_full_run_does(org):
    teams = [org.team, org.other_team, ProductTeamFactory(value_stream=org.value_stream)]
    start = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    map_statuses(org.portfolio)
    generated_dataset(org.portfolio, teams, items=400, start=start, days=180, seed=7)
    first = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    touched = append_changes(org.portfolio, since=AS_OF, seed=8, count=40)
    later = AS_OF + dt.timedelta(days=1)

    plan = plan_incremental(org.portfolio, as_of=later, item_ids=touched)
    assert plan is not None
    assert plan.carry  # histories only grew: the previous rows are carried forward
    # no open item is read: only those touched and those with rows stamped since the last run
    assert plan.read_items.tolist() == plan.changed_items.tolist()
    assert set(touched) <= set(plan.changed_items.tolist())
    recompute_incremental_now(portfolio=org.portfolio, item_ids=touched, as_of=later)
    incremental = published_rows(org.portfolio)
    recompute_full_now(portfolio=org.portfolio, as_of=later)
    full = published_rows(org.portfolio)

    assert first.kind == "full"
    for table in full:
        assert len(incremental[table]) == len(full[table]), table
        assert incremental[table] == full[table], table
    runs = list(MetricRun.objects.filter(portfolio=org.portfolio).order_by("computed_at"))
    assert [r.kind for r in runs] == ["full", "incremental", "full"]
    assert runs[1].caveats == runs[2].caveats


def _late_rows(portfolio, *, before: dt.datetime, seed: int, count: int) -> list[int]:
    """Status changes that arrive late: stamped before ``before`` (the previous run's as_of) but
    after each item's last known row, so its history still only grew."""
    rng = random.Random(seed)
    touched = []
    for item in rng.sample(list(WorkItem.objects.filter(portfolio=portfolio)), count):
        last = item.status_changes.order_by("-at", "-seq").first()
        if last is None or last.at >= before - dt.timedelta(hours=2):
            continue
        when = last.at + (before - last.at) * rng.uniform(0.3, 0.9)
        item.status_changes.create(
            at=when, seq=last.seq + 1, status=rng.choice(["Review", "Done"]), source_type="Story"
        )
        touched.append(item.pk)
    return touched


@pytest.mark.django_db
def test_chained_incremental_runs_across_week_and_month_ends_equal_a_full_run(org):
    teams = [org.team, org.other_team, ProductTeamFactory(value_stream=org.value_stream)]
    start = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    mapped_dataset(org.portfolio, teams, items=300, start=start, days=150, seed=11)
    first = dt.datetime(2026, 2, 26, 15, 30, tzinfo=dt.UTC)  # a Thursday in February
    recompute_full_now(portfolio=org.portfolio, as_of=first)
    # Friday; Sunday 1 March (a new month); Tuesday 3 March (a new week); Tuesday evening
    steps = [
        dt.datetime(2026, 2, 27, 9, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 22, 45, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 3, 7, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 3, 19, tzinfo=dt.UTC),
    ]
    previous = first
    for n, as_of in enumerate(steps):
        touched = append_changes(org.portfolio, since=previous, seed=20 + n, count=25)
        touched += _late_rows(org.portfolio, before=previous, seed=30 + n, count=6)
        plan = plan_incremental(org.portfolio, as_of=as_of, item_ids=touched)
        assert plan.carry, as_of
        run = recompute_incremental_now(portfolio=org.portfolio, item_ids=touched, as_of=as_of)
        assert (run.kind, run.exact_sums) == ("incremental", True)
        previous = as_of
    incremental = published_rows(org.portfolio)
    recompute_full_now(portfolio=org.portfolio, as_of=previous)
    full = published_rows(org.portfolio)
    for table in full:
        assert incremental[table] == full[table], table
    assert StatusTime.objects.filter(portfolio=org.portfolio, time_us__gt=0).exists()


@pytest.mark.django_db
def test_when_only_time_passes_the_carried_rows_equal_a_full_run(org):
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    mapped_dataset(
        org.portfolio, [org.team, org.other_team], items=80, start=start, days=50, seed=5
    )
    StatusChange.objects.filter(at__gt=AS_OF - dt.timedelta(days=1)).delete()  # quiet since
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    later = AS_OF + dt.timedelta(days=2, hours=3)  # no item changes; nothing is done since

    plan = plan_incremental(org.portfolio, as_of=later)
    assert plan.carry
    assert plan.changed_items.tolist() == plan.read_items.tolist() == []
    recompute_incremental_now(portfolio=org.portfolio, as_of=later)
    incremental = published_rows(org.portfolio)
    recompute_full_now(portfolio=org.portfolio, as_of=later)
    assert incremental == published_rows(org.portfolio)


def _zurich_midnight(day: int, month: int = 3) -> dt.datetime:
    """00:00 in Europe/Zurich (the org's time zone) on ``day`` 2026, in UTC."""
    return dt.datetime(2026, month, day, tzinfo=ZoneInfo("Europe/Zurich")).astimezone(dt.UTC)


@pytest.mark.django_db
def test_incremental_equals_full_with_midnight_changes_and_items_created_in_done(org):
    """SPEC §4 edges through the carried path: changes stamped exactly at a local midnight
    (also at the previous run's as_of, itself a midnight) count for the day starting there, and
    an item created in done is done without start, not truncated."""
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    mapped_dataset(
        org.portfolio, [org.team, org.other_team], items=60, start=start, days=50, seed=13
    )
    StatusChange.objects.filter(at__gt=_zurich_midnight(1) - dt.timedelta(days=1)).delete()
    previous = _zurich_midnight(3)  # Tuesday 3 March 00:00 in Zurich
    # a team of its own: in its load from the midnight the previous run's day ended at
    # (stamped at its as_of), and one item open since February
    quiet = ProductTeamFactory(value_stream=org.value_stream)
    at_previous = add_item(
        org.portfolio, quiet, "M-1", "Story", [(at(20), "To Do"), (previous, "In Progress")]
    )
    add_item(org.portfolio, quiet, "M-2", "Story", [(at(21), "In Progress")])
    add_item(org.portfolio, org.other_team, "D-1", "Story", [(_zurich_midnight(1), "Done")])
    run = recompute_full_now(portfolio=org.portfolio, as_of=previous)
    assert run.caveats["done_without_start"] >= 1

    later = _zurich_midnight(5) + dt.timedelta(hours=9)
    touched = [
        add_item(org.portfolio, org.team, "D-2", "Bug", [(_zurich_midnight(4), "Done")]).pk,
        add_item(
            org.portfolio, org.other_team, "M-3", "Story",
            [(_zurich_midnight(3) + dt.timedelta(hours=8), "To Do"),
             (_zurich_midnight(4), "Review"), (_zurich_midnight(5), "In Progress")],
        ).pk,
    ]  # fmt: skip
    m2 = WorkItem.objects.get(external_key="M-2")
    noon = _zurich_midnight(4) + dt.timedelta(hours=12)
    m2.status_changes.create(at=noon, seq=1, status="Done", source_type="Story")
    touched.append(m2.pk)

    plan = plan_incremental(org.portfolio, as_of=later, item_ids=touched)
    assert plan.carry
    assert at_previous.pk in plan.changed_items.tolist()  # its row at the previous as_of
    step = recompute_incremental_now(portfolio=org.portfolio, item_ids=touched, as_of=later)
    incremental = published_rows(org.portfolio)
    full_run = recompute_full_now(portfolio=org.portfolio, as_of=later)
    full = published_rows(org.portfolio)
    for table in full:
        assert incremental[table] == full[table], table
    assert step.caveats == full_run.caveats
    facts = WorkItemFact.objects.filter(item__external_key__in=["D-1", "D-2"])
    assert [(f.truncated, f.done_without_start) for f in facts] == [(False, True)] * 2
    # M-1 entered the load at 00:00 on Tuesday, so not at the end of Monday 2 March: day ends
    # Mon 1 (M-2), Tue 2, Wed 1 (M-2 done at noon), Thu 1 (measured at as_of)
    week = FlowMetric.objects.get(
        portfolio=org.portfolio, scope_kind="team", scope_id=quiet.pk, grain="week",
        item_type="All", window_start=_zurich_midnight(2),
    )  # fmt: skip
    assert (week.load_mean, week.load_end) == (1.25, 1)
    # D-2, created in done, adds to the items done without start, not to the truncated ones
    assert full_run.caveats["truncated_histories"] == run.caveats["truncated_histories"]
    assert full_run.caveats["done_without_start"] == run.caveats["done_without_start"] + 1


@pytest.mark.django_db
def test_a_run_without_exact_sums_is_not_carried_forward(org):
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    mapped_dataset(
        org.portfolio, [org.team, org.other_team], items=80, start=start, days=50, seed=3
    )
    run = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    MetricRun.objects.filter(pk=run.pk).update(exact_sums=False)  # as written before time_us
    touched = append_changes(org.portfolio, since=AS_OF, seed=4, count=10)
    later = AS_OF + dt.timedelta(hours=22)

    assert not plan_incremental(org.portfolio, as_of=later, item_ids=touched).carry
    run = recompute_incremental_now(portfolio=org.portfolio, item_ids=touched, as_of=later)
    assert not run.exact_sums  # and the runs built on it are not either, until a full one
    incremental = published_rows(org.portfolio)
    assert recompute_full_now(portfolio=org.portfolio, as_of=later).exact_sums
    assert incremental == published_rows(org.portfolio)


@pytest.mark.django_db
def test_the_transitions_frame_is_built_from_rows_in_utc_with_mappings_and_scopes(org):
    map_statuses(org.portfolio)
    zurich = dt.timezone(dt.timedelta(hours=1))
    item = add_item(
        org.portfolio,
        org.team,
        "Z-1",
        "Bug",
        [
            (dt.datetime(2026, 2, 2, 10, tzinfo=zurich), "To Do"),
            (dt.datetime(2026, 2, 2, 10, tzinfo=zurich), "Review"),  # same instant: seq orders
            (dt.datetime(2026, 2, 3, 10, tzinfo=zurich), "Parked"),
        ],
    )
    loose = add_item(org.portfolio, None, "Z-2", "Gadget", [(at(4), "In Progress")])

    history = read.read_history(org.portfolio)
    scopes = read.item_scopes(org.portfolio)
    frame, counts = read.transitions_frame(history, scopes, read.portfolio_mappings(org.portfolio))

    assert frame["item_id"].tolist() == [item.pk, item.pk, item.pk, loose.pk]
    assert frame["entered_at"].iloc[0] == pd.Timestamp("2026-02-02 09:00", tz="UTC")
    assert frame["status"].astype(str).tolist() == ["To Do", "Review", "Parked", "In Progress"]
    assert frame["flow_state"].astype(str).tolist() == ["new", "waiting", "waiting", "active"]
    assert frame["unmapped"].tolist() == [False, False, True, False]
    assert frame["item_type"].astype(str).tolist() == ["Defect"] * 3 + ["Feature"]
    assert frame["team_id"].tolist() == [org.team.pk] * 3 + [-1]
    assert frame["value_stream_id"].tolist() == [org.value_stream.pk] * 3 + [-1]
    assert counts == {"unmapped_type_changes": 1}


@pytest.mark.django_db
def test_a_full_run_on_a_small_dataset_gives_the_figures_worked_out_by_hand(org):
    items = small_dataset(org)
    run = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)

    def flow(scope_kind, scope_id, label, item_type="All"):
        return FlowMetric.objects.get(
            scope_kind=scope_kind, scope_id=scope_id, label=label, item_type=item_type
        )

    # Team A, ISO week 6 (Mon 2 Feb 00:00 Zurich = 1 Feb 23:00 UTC): A-1 (3 days, 2 active) and
    # A-2 (1 day, all active) are done.
    week = flow("team", org.team.pk, "2026-W06")
    assert week.window_start == dt.datetime(2026, 2, 1, 23, tzinfo=dt.UTC)
    assert week.velocity == 2
    assert week.flow_time_p50_s == 2 * 86400  # halfway between 1 and 3 days
    assert week.flow_time_mean_s == 2 * 86400
    assert week.flow_efficiency == 3 / 4
    assert week.load_mean == 4 / 7  # day ends: 0, 1, 2, 1, 0, 0, 0
    assert week.load_end == 0
    assert flow("team", org.team.pk, "2026-W06", "Defect").share == 0.5
    # A-3 is active from 11 Feb: in the load on 5 of week 7's 7 days
    week7 = flow("team", org.team.pk, "2026-W07")
    assert (week7.velocity, week7.load_mean, week7.load_end) == (0, 5 / 7, 1)
    # B-1 (other team) is done in week 7 after 6 days, 0 of them active
    other = flow("team", org.other_team.pk, "2026-W07")
    assert (other.velocity, other.flow_time_p50_s, other.flow_efficiency) == (1, 6 * 86400, 0)
    # the portfolio's February, B-1; the value stream holds both teams
    assert flow("portfolio", org.portfolio.pk, "2026-02").velocity == 3
    assert flow("value_stream", org.value_stream.pk, "2026-02").velocity == 3
    # no row where nothing happened (sparse)
    assert not FlowMetric.objects.filter(scope_id=org.other_team.pk, label="2026-W09").exists()

    in_progress = StatusTime.objects.get(
        scope_kind="team", scope_id=org.team.pk, label="2026-W06", status="In Progress"
    )
    assert (in_progress.items, in_progress.time_s, in_progress.flow_state) == (
        2,
        3 * 86400,
        "active",
    )
    assert in_progress.share == 3 / 4

    fact = WorkItemFact.objects.get(item=items["a1"])
    assert (fact.item_type, fact.state, fact.flow_time_s, fact.active_s) == (
        "Feature",
        "done",
        3 * 86400,
        2 * 86400,
    )
    assert WorkItemFact.objects.get(item=items["loose"]).truncated
    assert run.caveats["unmapped_statuses"] == ["Parked"]
    assert run.caveats["unmapped_status_changes"] == 1
    assert run.caveats["truncated_histories"] == 1
    assert run.windows["week"][0] == "2026-02-01T23:00:00+00:00"


@pytest.mark.django_db
def test_dora_rows_carry_tiers_and_the_portfolio_benchmark_and_unlinked_incidents_are_caveats(org):
    MetricSettings.objects.create(portfolio=org.portfolio, dora_benchmark="dora-2021")
    for day in (2, 3, 4, 5, 6):
        Deployment.objects.create(
            portfolio=org.portfolio,
            source="ci",
            external_key=f"D-{day}",
            team=org.team,
            finished_at=at(day, 15),
        )
    Incident.objects.create(
        portfolio=org.portfolio,
        source="pd",
        external_key="I-1",
        team=org.other_team,
        created_at=at(1),
        resolved_at=at(1, 12),
    )
    run = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    week = DoraMetric.objects.get(scope_kind="team", scope_id=org.team.pk, label="2026-W06")
    assert (week.deployments, week.deployment_days, week.benchmark) == (5, 5, "dora-2021")
    assert week.deployment_frequency_tier == "elite"
    assert run.caveats["incidents_unlinked"] == 1  # no deployment before it


def test_the_rows_a_run_computes_have_the_columns_of_their_tables():
    """The pure rows name their columns themselves (no Django there); they are the tables'."""
    for model, fields in (
        (FlowMetric, rows.FLOW_FIELDS),
        (StatusTime, rows.STATUS_FIELDS),
        (DoraMetric, recompute_dora.DORA_FIELDS),
    ):
        stored = [f.name for f in model._meta.concrete_fields]
        hashes = ("row_hash", "input_hash")
        assert [f for f in stored if f not in ("id", "portfolio", *hashes)] == fields
    assert [*rows.WINDOW_FIELDS, *DoraMetric.metric_fields()] == recompute_dora.DORA_FIELDS
    facts = [f.attname for f in WorkItemFact._meta.concrete_fields]
    assert sorted(f for f in facts if f not in ("portfolio_id", "row_hash")) == sorted(
        rows.FACT_FIELDS
    )


@pytest.mark.django_db
def test_an_incremental_run_after_a_team_change_and_a_rewritten_history_equals_a_full_run(org):
    items = small_dataset(org)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    a1 = items["a1"]
    a1.team = org.other_team
    a1.save()
    a1.status_changes.filter(status="Review").delete()  # history corrected, not appended
    later = AS_OF + dt.timedelta(hours=3)

    plan = plan_incremental(org.portfolio, as_of=later, item_ids=[a1.pk])
    # its old history is rebuilt from the deleted rows kept: only a1 is read
    assert plan.carry
    assert plan.read_items.tolist() == [a1.pk]
    recompute_incremental_now(portfolio=org.portfolio, item_ids=[a1.pk], as_of=later)
    incremental = published_rows(org.portfolio)
    recompute_full_now(portfolio=org.portfolio, as_of=later)
    assert incremental == published_rows(org.portfolio)


@pytest.mark.django_db
def test_a_team_moved_to_another_value_stream_is_recomputed_incrementally_as_a_full_run_would(
    org,
):
    small_dataset(org)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    lending = ValueStreamFactory(portfolio=org.portfolio, name="Lending")

    team_update(team=org.other_team, value_stream=lending)

    job = RecomputeJob.objects.get(portfolio=org.portfolio, status="queued")
    assert (job.kind, job.item_ids, job.team_ids) == ("incremental", [], [org.other_team.pk])
    later = AS_OF + dt.timedelta(hours=1)
    recompute_incremental_now(portfolio=org.portfolio, team_ids=job.team_ids, as_of=later)
    incremental = published_rows(org.portfolio)
    assert FlowMetric.objects.filter(scope_kind="value_stream", scope_id=lending.pk).exists()
    recompute_full_now(portfolio=org.portfolio, as_of=later)
    assert incremental == published_rows(org.portfolio)
    # renaming a team does not move its history: nothing to recompute
    team_update(team=org.team, name="Instant Payments EU")
    assert RecomputeJob.objects.filter(status="queued").count() == 1


def test_histories_read_in_any_order_are_sorted_by_item_time_and_seq():
    rng = np.random.default_rng(3)
    n = 5_000
    item = rng.integers(1, 400, n)
    at = rng.integers(0, 10**12, n)
    seq = np.arange(n) % 7
    at[::50] = at[1::50][: len(at[::50])]  # ties in time, broken by seq
    history = History(
        item_id=item.astype(np.int64),
        at_us=at.astype(np.int64),
        seq=seq.astype(np.int16),
        status=np.arange(n, dtype=np.int32),  # a row's identity, to follow it
        source_type=np.zeros(n, dtype=np.int32),
        blocked=np.zeros(n, dtype=bool),
        statuses=[str(i) for i in range(n)],
        types=["Story"],
    )
    expected = np.lexsort((seq, at, item))

    read._sort_history(history)

    assert history.status.tolist() == expected.tolist()
    read._sort_history(history)  # already sorted: unchanged
    assert history.status.tolist() == expected.tolist()
