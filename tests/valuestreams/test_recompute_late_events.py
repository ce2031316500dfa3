"""The carry path decides per item: a late event inserted into an item's history, a re-sent
history, a team move, rows inserted, corrected or deleted in any number (the previous history
rebuilt from the rows kept when they were superseded) are carried forward by the item's old and
new contributions (only the changed items are read), and the result equals a full run's in
every column of every table."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest

from teams.services.teams import team_update
from tests.factories import ProductTeamFactory, ValueStreamFactory
from tests.valuestreams.recompute_data import append_changes, mapped_dataset
from tests.valuestreams.test_recompute import published_rows
from valuestreams.models import StatusChange, SupersededStatusChange, WorkItem
from valuestreams.recompute import recompute_full_now, recompute_incremental_now
from valuestreams.recompute import rows as rr
from valuestreams.recompute.plan import _history_growth, plan_incremental

STATUSES = ["To Do", "In Progress", "Review", "Done", "Won't Do"]


def _settled(portfolio, before: dt.datetime) -> list[WorkItem]:
    """Items with at least two status changes, all stamped well before ``before``."""
    settled = []
    for item in WorkItem.objects.filter(portfolio=portfolio).order_by("pk"):
        rows = list(item.status_changes.order_by("at", "seq"))
        if len(rows) >= 2 and rows[-1].at < before - dt.timedelta(hours=2):
            settled.append(item)
    return settled


def _late_row(item: WorkItem, rng: random.Random) -> StatusChange | None:
    """A status change stamped between two of the item's rows (arrived late), unsaved."""
    rows = list(item.status_changes.order_by("at", "seq"))
    k = rng.randrange(1, len(rows))
    a, b = rows[k - 1].at, rows[k].at
    if b - a < dt.timedelta(minutes=10):
        return None
    return StatusChange(
        item=item,
        at=a + (b - a) * rng.uniform(0.2, 0.8),
        seq=0,
        status=rng.choice(STATUSES),
        source_type=rows[k - 1].source_type,
    )


def _resend(item: WorkItem, late: StatusChange | None = None) -> None:
    """The item's history sent again, as the ingest writes it: every row deleted and written
    anew (new ids), with ``late`` among them if given."""
    rows = [
        StatusChange(
            item=item,
            at=r.at,
            seq=r.seq,
            status=r.status,
            source_type=r.source_type,
            blocked=r.blocked,
        )
        for r in item.status_changes.order_by("at", "seq")
    ]
    item.status_changes.all().delete()
    StatusChange.objects.bulk_create([*rows, *([late] if late else [])])


def typical_day(
    portfolio, teams, *, since: dt.datetime, rng: random.Random, step: int
) -> list[int]:
    """One day of work as a real organisation sends it: appended changes, ~5 % late events
    (one row inserted among an item's known rows, written in place or by a re-sent history),
    a history re-sent unchanged and an item moved to another team. Returns the items named."""
    touched = append_changes(portfolio, since=since, seed=100 + step, count=30)
    settled = _settled(portfolio, since)
    chosen = rng.sample(settled, 6)
    for item in chosen[:2]:  # late rows written as they come
        late = _late_row(item, rng)
        if late is not None:
            late.save()
            touched.append(item.pk)
    for item in chosen[2:4]:  # late rows in a re-sent history
        late = _late_row(item, rng)
        if late is not None:
            _resend(item, late)
            touched.append(item.pk)
    _resend(chosen[4])  # re-sent unchanged
    touched.append(chosen[4].pk)
    moved = chosen[5]  # to another team, history unchanged
    moved.team = next(t for t in teams if t.pk != moved.team_id)
    moved.save()
    touched.append(moved.pk)
    return touched


def assert_equals_full(portfolio, *, as_of) -> None:
    """The rows published now are those a full run at ``as_of`` publishes."""
    incremental = published_rows(portfolio)
    recompute_full_now(portfolio=portfolio, as_of=as_of)
    full = published_rows(portfolio)
    for table in full:
        assert len(incremental[table]) == len(full[table]), table
        assert incremental[table] == full[table], table


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [41, 42])
def test_typical_days_with_late_events_a_resent_history_and_team_moves_are_carried_exactly(
    org, seed
):
    rng = random.Random(seed)
    teams = [org.team, org.other_team, ProductTeamFactory(value_stream=org.value_stream)]
    start = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    mapped_dataset(org.portfolio, teams, items=300, start=start, days=150, seed=seed)
    as_of = dt.datetime(2026, 2, 26, 15, 30, tzinfo=dt.UTC)
    recompute_full_now(portfolio=org.portfolio, as_of=as_of)
    lending = ValueStreamFactory(portfolio=org.portfolio, name="Lending")
    for step in range(3):
        since, as_of = as_of, as_of + dt.timedelta(hours=rng.uniform(14, 40))
        touched = typical_day(org.portfolio, teams, since=since, rng=rng, step=step)
        moved_teams = []
        if step == 1:  # a team moves to another value stream, with all its items
            team_update(team=teams[2], value_stream=lending)
            moved_teams = [teams[2].pk]

        plan = plan_incremental(org.portfolio, as_of=as_of, item_ids=touched, team_ids=moved_teams)

        assert plan.carry, step
        assert plan.read_items.tolist() == plan.changed_items.tolist()
        assert len(plan.inserted) >= 2  # late rows found among the old ones
        run = recompute_incremental_now(
            portfolio=org.portfolio, item_ids=touched, team_ids=moved_teams, as_of=as_of
        )
        assert (run.kind, run.items_read) == ("incremental", len(plan.changed_items))
        assert_equals_full(org.portfolio, as_of=as_of)


def _rewritten_history(item: WorkItem, rng: random.Random) -> None:
    """The ways a history is rewritten that leave its old rows unknown from the rows now: two
    rows inserted (late), a row corrected in place, a row deleted, or — as the ingest writes a
    re-sent history with a late status change — a row inserted and the type and blocked flag of
    every later row rewritten (every row deleted and written anew)."""
    rows = list(item.status_changes.order_by("at", "seq"))
    how = rng.choice(["two late", "corrected", "deleted", "type and blocked"])
    if how == "two late":
        for a, b in ((rows[0], rows[1]), (rows[-2], rows[-1])):
            StatusChange.objects.create(
                item=item,
                at=a.at + (b.at - a.at) / 2,
                seq=0,
                status=rng.choice(STATUSES),
                source_type=a.source_type,
            )
    elif how == "corrected":
        row = rows[rng.randrange(len(rows))]
        row.status = next(s for s in STATUSES if s != row.status)
        row.save()
    elif how == "deleted":
        rows[rng.randrange(1, len(rows))].delete()
    else:
        k = rng.randrange(1, len(rows))
        a, b = rows[k - 1], rows[k]
        late = StatusChange(item=item, at=a.at + (b.at - a.at) / 2, seq=0, status="Review")
        late.source_type, late.blocked = a.source_type, a.blocked
        for row in rows[k:]:
            row.source_type = "Defect" if row.source_type != "Defect" else "Story"
            row.blocked = not row.blocked
        fresh = [
            StatusChange(
                item=item,
                at=r.at,
                seq=r.seq,
                status=r.status,
                source_type=r.source_type,
                blocked=r.blocked,
            )
            for r in [*rows[:k], late, *rows[k:]]
        ]
        item.status_changes.all().delete()
        StatusChange.objects.bulk_create(fresh)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [7, 8])
def test_rewritten_histories_cost_only_their_items_and_equal_a_full_run(org, seed):
    """Two late rows in one history, a corrected row, a deleted row, type and blocked rows
    rewritten after an inserted change — mixed into typical days: only the changed items are
    read, and every table equals a full run's."""
    rng = random.Random(seed)
    teams = [org.team, org.other_team]
    start = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    mapped_dataset(org.portfolio, teams, items=250, start=start, days=150, seed=seed)
    as_of = dt.datetime(2026, 2, 26, 15, 30, tzinfo=dt.UTC)
    recompute_full_now(portfolio=org.portfolio, as_of=as_of)
    for step in range(3):
        since, as_of = as_of, as_of + dt.timedelta(hours=rng.uniform(14, 40))
        touched = typical_day(org.portfolio, teams, since=since, rng=rng, step=step)
        candidates = [i for i in _settled(org.portfolio, since) if i.status_changes.count() >= 3]
        rewritten = rng.sample(candidates, 8)
        for item in rewritten:
            _rewritten_history(item, rng)
        rewritten[0].status_changes.filter(pk=rewritten[0].status_changes.last().pk).update(
            blocked=True
        )  # and one rewritten twice: the row as the previous run read it counts
        touched += [item.pk for item in rewritten]

        plan = plan_incremental(org.portfolio, as_of=as_of, item_ids=touched)

        assert plan.carry, step
        assert plan.read_items.tolist() == plan.changed_items.tolist()
        assert set(np.unique(plan.rebuilt.item_id)) >= {i.pk for i in rewritten[:1]}
        run = recompute_incremental_now(portfolio=org.portfolio, item_ids=touched, as_of=as_of)
        assert (run.kind, run.items_read) == ("incremental", len(plan.changed_items))
        assert_equals_full(org.portfolio, as_of=as_of)


@pytest.mark.django_db
def test_two_late_rows_in_one_history_read_only_that_item_and_equal_a_full_run(org):
    teams = [org.team, org.other_team]
    start = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    mapped_dataset(org.portfolio, teams, items=120, start=start, days=60, seed=5)
    as_of = dt.datetime(2026, 2, 26, 15, 30, tzinfo=dt.UTC)
    recompute_full_now(portfolio=org.portfolio, as_of=as_of)
    rng = random.Random(6)
    item = next(i for i in _settled(org.portfolio, as_of) if i.status_changes.count() >= 4)
    rows = list(item.status_changes.order_by("at", "seq"))
    for a, b in ((rows[0], rows[1]), (rows[-2], rows[-1])):
        StatusChange.objects.create(
            item=item,
            at=a.at + (b.at - a.at) / 2,
            seq=0,
            status=rng.choice(STATUSES),
            source_type=a.source_type,
        )
    later = as_of + dt.timedelta(hours=5)

    plan = plan_incremental(org.portfolio, as_of=later, item_ids=[item.pk])

    assert plan.carry  # its previous history: the rows the previous run read, still there
    assert plan.read_items.tolist() == [item.pk]
    recompute_incremental_now(portfolio=org.portfolio, item_ids=[item.pk], as_of=later)
    assert_equals_full(org.portfolio, as_of=later)


@pytest.mark.django_db
def test_a_history_rewritten_without_its_old_rows_kept_reads_every_item_reaching_it(org):
    """Superseded rows lost (or stale): the rebuilt history does not have the stored digest, so
    the run reads every item reaching the item's windows, and still equals a full run."""
    teams = [org.team, org.other_team]
    start = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    mapped_dataset(org.portfolio, teams, items=120, start=start, days=60, seed=5)
    as_of = dt.datetime(2026, 2, 26, 15, 30, tzinfo=dt.UTC)
    recompute_full_now(portfolio=org.portfolio, as_of=as_of)
    item = next(i for i in _settled(org.portfolio, as_of) if i.status_changes.count() >= 4)
    row = item.status_changes.order_by("at", "seq")[1]
    row.status = "Parked" if row.status != "Parked" else "Review"
    row.save()
    SupersededStatusChange.objects.filter(item_id=item.pk).delete()
    later = as_of + dt.timedelta(hours=5)

    plan = plan_incremental(org.portfolio, as_of=later, item_ids=[item.pk])

    assert not plan.carry
    assert len(plan.read_items) > 1
    recompute_incremental_now(portfolio=org.portfolio, item_ids=[item.pk], as_of=later)
    assert_equals_full(org.portfolio, as_of=later)


@pytest.mark.django_db
def test_superseded_rows_are_kept_by_any_write_and_forgotten_once_no_run_needs_them(org):
    teams = [org.team, org.other_team]
    start = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    mapped_dataset(org.portfolio, teams, items=20, start=start, days=30, seed=5)
    as_of = dt.datetime(2026, 2, 26, 15, 30, tzinfo=dt.UTC)
    recompute_full_now(portfolio=org.portfolio, as_of=as_of)
    item = WorkItem.objects.filter(portfolio=org.portfolio).order_by("pk").first()
    old = list(item.status_changes.order_by("pk").values_list("pk", "status"))
    item.status_changes.update(status="Review")
    kept = SupersededStatusChange.objects.filter(item_id=item.pk).order_by("status_change_id")
    assert list(kept.values_list("status_change_id", "status")) == old
    assert set(kept.values_list("portfolio_id", flat=True)) == {org.portfolio.pk}

    recompute_incremental_now(
        portfolio=org.portfolio, item_ids=[item.pk], as_of=as_of + dt.timedelta(hours=1)
    )
    assert kept.exists()  # the run built on the full one, which had not seen them
    recompute_full_now(portfolio=org.portfolio, as_of=as_of + dt.timedelta(hours=2))
    assert not kept.exists()


# --- finding the inserted row (pure) --------------------------------------------------------------


def _history(rows: list[tuple[int, int, int]]) -> rr.History:
    """rows: (item, time in µs, status code), sorted by item and time."""
    item, at_us, status = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
    n = len(rows)
    return rr.History(
        item,
        at_us,
        np.zeros(n, dtype=np.int64),
        status,
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=bool),
        statuses=["a", "b", "c"],
        types=["Story"],
    )


AS_OF = pd.Timestamp("2026-01-01", tz="UTC")


def _digests(history: rr.History) -> pd.DataFrame:
    return rr.history_digests(history, AS_OF, lambda name: True).set_index("item_id")


def test_the_row_inserted_among_the_old_ones_is_found_and_left_out():
    old = [(1, 10, 0), (1, 20, 1), (1, 30, 2), (2, 10, 0), (2, 20, 1), (3, 5, 0), (3, 6, 1)]
    new = [
        (1, 10, 0), (1, 15, 2), (1, 20, 1), (1, 30, 2), (1, 40, 0),  # one late, one appended
        (2, 10, 0), (2, 20, 1), (2, 25, 2),  # appended only
        (3, 5, 0), (3, 6, 2),  # rewritten: no row of it can be left out
    ]  # fmt: skip
    stored = _digests(_history(old))

    growth = _history_growth(_history(new), AS_OF, stored["history_rows"], stored["history_digest"])

    assert growth["inserted"].tolist() == [1, -1, -1]
    assert growth["prefix_digest"].tolist()[1] == stored.loc[2, "history_digest"]
    recovered = rr.digested_history(
        _history(new), stored["history_rows"], AS_OF, growth["inserted"].loc[[1]].astype(int)
    )
    again = _digests(recovered)
    assert again.loc[1, "history_digest"] == stored.loc[1, "history_digest"]
    assert again.loc[2, "history_digest"] == stored.loc[2, "history_digest"]
    assert recovered.at_us[recovered.item_id == 1].tolist() == [10, 20, 30]
