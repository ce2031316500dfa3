"""A full run over published results writes only what differs, and publishes what a fresh run does."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.db import connection, transaction
from psycopg import sql as psycopg_sql

from tests.factories import ProductTeamFactory
from tests.valuestreams.recompute_data import append_changes, generated_dataset, map_statuses
from tests.valuestreams.test_recompute import published_rows
from valuestreams.models import FlowMetric, StateMapping, StatusTime, WorkItemFact
from valuestreams.recompute import publish, recompute_full_now, recompute_incremental_now
from valuestreams.recompute.plan import plan_incremental, rewritten_condition
from valuestreams.recompute.publish import row_hashes, updated_counts

AS_OF = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)


def _clear_published(portfolio) -> None:
    for model in (WorkItemFact, FlowMetric, StatusTime):
        model.objects.filter(portfolio=portfolio).delete()


@pytest.mark.django_db
def test_a_full_run_after_changes_keeps_unchanged_rows_and_equals_a_run_into_empty_tables(org):
    teams = [org.team, org.other_team, ProductTeamFactory(value_stream=org.value_stream)]
    map_statuses(org.portfolio)
    generated_dataset(
        org.portfolio,
        teams,
        items=300,
        start=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
        days=180,
        seed=7,
    )
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    flow_before = _versions(FlowMetric, org.portfolio)
    status_before = _versions(StatusTime, org.portfolio)
    facts = WorkItemFact.objects.filter(portfolio=org.portfolio)
    assert facts.filter(unmapped_count__gt=0).exists()
    append_changes(org.portfolio, since=AS_OF, seed=8, count=30)
    # a mapping edit changes facts without changing any history digest
    StateMapping.objects.create(
        portfolio=org.portfolio, source_status="Parked", flow_state="active"
    )
    later = AS_OF + dt.timedelta(days=1)

    recompute_full_now(portfolio=org.portfolio, as_of=later)
    over_published = published_rows(org.portfolio)
    assert not facts.filter(unmapped_count__gt=0).exists()
    flow_after = _versions(FlowMetric, org.portfolio)
    kept_flow = flow_before.items() & flow_after.items()
    kept_status = status_before.items() & _versions(StatusTime, org.portfolio).items()
    # changed rows of a key still published were updated in place (primary key kept)
    assert any(
        flow_before[k][0] == pk and flow_before[k] != (pk, version)
        for k, (pk, version) in flow_after.items()
        if k in flow_before
    )
    _clear_published(org.portfolio)
    recompute_full_now(portfolio=org.portfolio, as_of=later)
    fresh = published_rows(org.portfolio)

    for table in fresh:
        assert over_published[table] == fresh[table], table
    assert 0 < len(kept_flow) < len(flow_before)
    assert 0 < len(kept_status) < len(status_before)


def _versions(model, portfolio) -> dict[tuple, tuple[int, str]]:
    """Stored rows by their natural key → (primary key, xmin): the transaction that wrote the
    row's current version (a savepoint of its own inside a test), so a row updated in place
    keeps its primary key but not its xmin."""
    key = ["scope_kind", "scope_id", "grain", "window_start"]
    key.append("item_type" if model is FlowMetric else "status")
    rows = (
        model.objects.filter(portfolio=portfolio)
        .extra(select={"version": "xmin::text"})
        .values_list(*key, "pk", "version")
    )
    return {tuple(row[:-2]): (row[-2], row[-1]) for row in rows}


@pytest.mark.django_db
def test_an_incremental_run_rewrites_only_the_rows_that_changed_and_equals_a_full_run(org):
    teams = [org.team, org.other_team]
    map_statuses(org.portfolio)
    generated_dataset(
        org.portfolio,
        teams,
        items=250,
        start=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
        days=180,
        seed=3,
    )
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    before = {model: _versions(model, org.portfolio) for model in (FlowMetric, StatusTime)}
    touched = append_changes(org.portfolio, since=AS_OF, seed=4, count=12)
    later = AS_OF + dt.timedelta(days=1)

    plan = plan_incremental(org.portfolio, as_of=later, item_ids=touched)
    covered = {
        model: set(
            model.objects.filter(portfolio=org.portfolio)
            .extra(where=[rewritten_condition(org.portfolio.pk, plan).as_string()])
            .values_list("pk", flat=True)
        )
        for model in (FlowMetric, StatusTime)
    }
    run = recompute_incremental_now(portfolio=org.portfolio, item_ids=touched, as_of=later)
    incremental = published_rows(org.portfolio)
    after = {model: _versions(model, org.portfolio) for model in (FlowMetric, StatusTime)}
    recompute_full_now(portfolio=org.portfolio, as_of=later)

    assert run.kind == "incremental"
    assert incremental == published_rows(org.portfolio)
    for model in (FlowMetric, StatusTime):
        kept = {k for k, version in after[model].items() if before[model].get(k) == version}
        rewritten = set(after[model]) - kept
        assert rewritten, model
        # a changed row is updated in place: same key, same primary key, a new version
        assert any(before[model].get(k, (None,))[0] == after[model][k][0] for k in rewritten)
        # rows the run covered but found unchanged were not written at all
        unchanged = {pk for k, (pk, _) in after[model].items() if k in kept}
        assert covered[model] & unchanged, model
    assert not FlowMetric.objects.filter(portfolio=org.portfolio, row_hash__isnull=True).exists()


@pytest.mark.django_db
def test_rows_stored_without_a_hash_are_rewritten_by_the_next_full_run(org):
    map_statuses(org.portfolio)
    generated_dataset(
        org.portfolio,
        [org.team],
        items=80,
        start=dt.datetime(2025, 11, 1, tzinfo=dt.UTC),
        days=90,
        seed=5,
    )
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    published = published_rows(org.portfolio)
    legacy = list(
        FlowMetric.objects.filter(portfolio=org.portfolio)
        .order_by("pk")
        .values_list("pk", flat=True)[:10]
    )
    FlowMetric.objects.filter(pk__in=legacy).update(row_hash=None)

    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)

    # rewritten in place: the same rows (primary keys), now with their hash
    assert FlowMetric.objects.filter(pk__in=legacy, row_hash__isnull=False).count() == len(legacy)
    assert not FlowMetric.objects.filter(portfolio=org.portfolio, row_hash__isnull=True).exists()
    assert published_rows(org.portfolio) == published


def _flow_frame(portfolio, rows: list[tuple[int, str, int]]) -> pd.DataFrame:
    """FlowMetric rows of team windows: (team id, week start, velocity)."""
    starts = pd.to_datetime([start for _, start, _ in rows], utc=True)
    frame = pd.DataFrame(
        {
            "scope_kind": "team",
            "scope_id": [team for team, _, _ in rows],
            "grain": "week",
            "window_start": starts,
            "window_end": starts + pd.Timedelta(days=7),
            "label": "2026-W10",
            "item_type": "All",
            "velocity": [velocity for _, _, velocity in rows],
        }
    )
    return publish.with_row_hash(FlowMetric, frame)


def _stored(portfolio) -> dict[tuple, tuple[int, int]]:
    rows = FlowMetric.objects.filter(portfolio=portfolio).values_list(
        "scope_id", "window_start", "pk", "velocity"
    )
    return {(team, start.date().isoformat()): (pk, velocity) for team, start, pk, velocity in rows}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_place_max_rows", [50_000, 0])
def test_a_diff_updates_changed_rows_in_place_inserts_new_keys_and_deletes_gone_ones(
    org, monkeypatch, in_place_max_rows
):
    monkeypatch.setattr(publish, "IN_PLACE_MAX_ROWS", in_place_max_rows)
    where = psycopg_sql.SQL("portfolio_id = {}").format(psycopg_sql.Literal(org.portfolio.pk))
    first = _flow_frame(
        org.portfolio, [(1, "2026-03-02", 1), (2, "2026-03-02", 2), (3, "2026-03-02", 3)]
    )
    with transaction.atomic():
        publish.copy_rows(FlowMetric, first, portfolio_id=org.portfolio.pk)
    before = _stored(org.portfolio)
    # team 1 unchanged, team 2 changed, team 3 gone, team 4 new
    computed = _flow_frame(
        org.portfolio, [(1, "2026-03-02", 1), (2, "2026-03-02", 5), (4, "2026-03-02", 4)]
    )
    diff = publish.diff_rows(FlowMetric, computed, where=where)
    assert len(diff.insert) == 2
    assert len(diff.delete_pks) == 2
    with transaction.atomic():
        publish.apply(FlowMetric, diff, where=where, portfolio_id=org.portfolio.pk)
    after = _stored(org.portfolio)

    assert sorted(after) == [(1, "2026-03-02"), (2, "2026-03-02"), (4, "2026-03-02")]
    assert after[(1, "2026-03-02")] == before[(1, "2026-03-02")]
    assert after[(2, "2026-03-02")][1] == 5
    if in_place_max_rows:  # updated in place: same primary key
        assert after[(2, "2026-03-02")][0] == before[(2, "2026-03-02")][0]
    else:  # too many rows to stage: deleted and inserted
        assert after[(2, "2026-03-02")][0] not in {pk for pk, _ in before.values()}
    assert after[(4, "2026-03-02")][1] == 4
    stored_hashes = set(
        FlowMetric.objects.filter(portfolio=org.portfolio).values_list("row_hash", flat=True)
    )
    assert stored_hashes == set(computed["row_hash"])
    # the staging table lived for its transaction only
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%%_staged_%%'")
        assert cursor.fetchone()[0] == 0


def test_a_row_hash_changes_with_any_published_value_and_only_with_it():
    frame = pd.DataFrame(
        {
            "scope_kind": ["team", "team"],
            "scope_id": [1, 1],
            "grain": ["week", "week"],
            "window_start": pd.to_datetime(["2026-03-02", "2026-03-09"], utc=True),
            "window_end": pd.to_datetime(["2026-03-09", "2026-03-16"], utc=True),
            "label": ["2026-W10", "2026-W11"],
            "item_type": ["All", "All"],
            "velocity": [3, 3],
            "flow_time_p50_s": [1.5, np.nan],
        }
    )
    base = row_hashes(FlowMetric, frame)
    assert base[0] != base[1]
    assert (base != 0).all()
    assert (row_hashes(FlowMetric, frame.copy()) == base).all()
    # a NaN is a NaN whatever its bits; the same instant in another zone is the same value
    other_nan = np.array([0x7FF8000000000001], dtype=np.uint64).view(np.float64)[0]
    same = frame.assign(
        flow_time_p50_s=[1.5, other_nan],
        window_start=frame["window_start"].dt.tz_convert("Europe/Oslo"),
    )
    assert (row_hashes(FlowMetric, same) == base).all()
    for column, values in {
        "velocity": [4, 3],
        "flow_time_p50_s": [1.5000000000000002, np.nan],
        "label": ["2026-W1O", "2026-W11"],
        "window_start": frame["window_start"] + pd.to_timedelta([1, 0], unit="us"),
    }.items():
        changed = row_hashes(FlowMetric, frame.assign(**{column: values}))
        assert changed[0] != base[0], column
        assert changed[1] == base[1], column
    # NULL is not zero
    nulls = frame.assign(flow_time_p50_s=[1.5, 0.0])
    assert row_hashes(FlowMetric, nulls)[1] != base[1]


def test_caveat_counts_are_updated_by_the_changed_items_or_not_at_all():
    old = pd.DataFrame(
        {
            "unmapped_count": [2, 0],
            "unmapped_type_count": [0, 1],
            "truncated": [True, False],
            "done_without_start": [False, False],
            "reopen_count": [1, 0],
        }
    )
    new = old.assign(unmapped_count=[0, 0], reopen_count=[2, 1]).iloc[[0, 1, 1]]
    previous = {
        "items": 10,
        "unmapped_status_changes": 5,
        "unmapped_type_changes": 1,
        "truncated_histories": 3,
        "done_without_start": 0,
        "reopened_items": 4,
    }
    assert updated_counts(previous, old, new) == {
        "items": 11,
        "unmapped_status_changes": 3,
        "unmapped_type_changes": 2,
        "truncated_histories": 3,
        "done_without_start": 0,
        "reopened_items": 6,
    }
    # counts written by an older version are not trusted: the caller sums the stored facts
    assert updated_counts({"items": 10}, old, new) is None
