"""Work items with status histories for the recompute tests: a hand-checked set and a generator."""

from __future__ import annotations

import datetime as dt
import random

from valuestreams.models import StateMapping, StatusChange, TypeMapping, WorkItem

UTC = dt.UTC
STATES = {
    "To Do": "new",
    "In Progress": "active",
    "Review": "waiting",
    "Done": "done",
    "Won't Do": "canceled",
}
TYPES = {"Story": "Feature", "Bug": "Defect", "Spike": "Risk", "Chore": "Debt"}


def map_statuses(portfolio) -> None:
    """The portfolio's state and type mappings (everything but "Parked" is mapped)."""
    for status, state in STATES.items():
        StateMapping.objects.create(portfolio=portfolio, source_status=status, flow_state=state)
    for source_type, flow_type in TYPES.items():
        TypeMapping.objects.create(
            portfolio=portfolio, source_type=source_type, flow_item_type=flow_type
        )


def add_item(portfolio, team, key: str, source_type: str, history) -> WorkItem:
    """A work item with its status history: ``history`` is [(aware datetime, status), ...]."""
    item = WorkItem.objects.create(
        portfolio=portfolio,
        source="jira",
        external_key=key,
        source_type=source_type,
        team=team,
        created_at=history[0][0],
    )
    StatusChange.objects.bulk_create(
        StatusChange(item=item, at=at, seq=n, status=status, source_type=source_type)
        for n, (at, status) in enumerate(history)
    )
    return item


def at(day: int, hour: int = 9, month: int = 2) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def small_dataset(org) -> dict[str, WorkItem]:
    """Five items in February 2026 whose metrics are worked out by hand in the tests."""
    map_statuses(org.portfolio)
    p, team, other = org.portfolio, org.team, org.other_team
    return {
        "a1": add_item(
            p,
            team,
            "A-1",
            "Story",
            [
                (at(2), "To Do"),
                (at(3), "In Progress"),
                (at(5), "Review"),
                (at(6), "Done"),
            ],
        ),
        "a2": add_item(
            p,
            team,
            "A-2",
            "Bug",
            [
                (at(2), "To Do"),
                (at(4), "In Progress"),
                (at(5), "Done"),
            ],
        ),
        "a3": add_item(p, team, "A-3", "Story", [(at(10), "To Do"), (at(11), "In Progress")]),
        "b1": add_item(
            p,
            other,
            "B-1",
            "Story",
            [
                (at(2), "To Do"),
                (at(3), "Parked"),
                (at(9), "Done"),
            ],
        ),
        "loose": add_item(p, None, "L-1", "Chore", [(at(16), "In Progress")]),
    }


def generated_dataset(portfolio, teams, *, items: int, start: dt.datetime, days: int, seed: int):
    """``items`` work items spread over ``days`` from ``start`` with random walks through the
    states (reopenings, cancellations, blocked flags, a few unmapped statuses)."""
    rng = random.Random(seed)
    types = list(TYPES)
    created = []
    changes = []
    for n in range(items):
        team = teams[n % len(teams)] if n % 17 else None
        t = start + dt.timedelta(hours=rng.uniform(0, days * 24))
        item = WorkItem(
            portfolio=portfolio,
            source="jira",
            external_key=f"G-{n}",
            source_type=rng.choice(types),
            team=team,
            created_at=t,
        )
        created.append(item)
        path = _walk(rng)
        history = []
        for status in path:
            history.append((t, status))
            t += dt.timedelta(hours=rng.lognormvariate(3, 1.2))
        changes.append(history)
    WorkItem.objects.bulk_create(created)
    StatusChange.objects.bulk_create(
        StatusChange(
            item=item,
            at=when,
            seq=k,
            status=status,
            source_type=item.source_type,
            blocked=status == "In Progress" and k % 5 == 4,
        )
        for item, history in zip(created, changes, strict=True)
        for k, (when, status) in enumerate(history)
    )
    return created


def mapped_dataset(portfolio, teams, *, items: int, start: dt.datetime, days: int, seed: int):
    """The portfolio's mappings (:func:`map_statuses`) and a :func:`generated_dataset`."""
    map_statuses(portfolio)
    return generated_dataset(portfolio, teams, items=items, start=start, days=days, seed=seed)


def _walk(rng: random.Random) -> list[str]:
    path = ["To Do"] if rng.random() > 0.05 else []
    for _ in range(rng.randint(1, 6)):
        path.append(rng.choice(["In Progress", "Review", "In Progress", "Parked"]))
    end = rng.random()
    if end < 0.8:
        path.append("Done")
        if rng.random() < 0.15:
            path += ["In Progress", "Done"]
    elif end < 0.9:
        path.append("Won't Do")
    elif end < 0.93:
        path = ["To Do", "Done"]
    return path or ["To Do"]


def append_changes(portfolio, *, since: dt.datetime, seed: int, count: int) -> list[int]:
    """One more day of work: open items move on, a few done items reopen, new items arrive.
    Returns the ids of the items touched."""
    rng = random.Random(seed)
    touched = []
    new_rows = []
    items = list(WorkItem.objects.filter(portfolio=portfolio).order_by("pk"))
    recent = [i for i in items if i.created_at > since - dt.timedelta(days=20)]
    chosen = rng.sample(recent, min(count - 2, len(recent))) + rng.sample(items, 2)
    for item in chosen:
        last = item.status_changes.order_by("-at", "-seq").first()
        status = rng.choice(["In Progress", "Review", "Done", "Won't Do", "In Progress"])
        when = since + dt.timedelta(hours=rng.uniform(0, 20))
        if last is not None and last.at >= when:
            continue
        new_rows.append(
            StatusChange(
                item=item,
                at=when,
                seq=(last.seq + 1) if last else 0,
                status=status,
                source_type=item.source_type,
            )
        )
        touched.append(item.pk)
    StatusChange.objects.bulk_create(new_rows)
    return touched


def sweep_work_item(org) -> WorkItem:
    """A work item of org.portfolio for the URL sweep."""
    return WorkItem.objects.get_or_create(
        portfolio=org.portfolio,
        source="jira",
        external_key="SWEEP-1",
        defaults={"source_type": "Story", "created_at": at(2)},
    )[0]


def sweep_metric_run(org):
    """A published run of org.portfolio for the URL sweep."""
    from valuestreams.models import MetricRun

    return MetricRun.objects.create(portfolio=org.portfolio, kind="full", as_of=at(2))


def sweep_recompute_job(org):
    """A recompute job of org.portfolio for the URL sweep."""
    from valuestreams.models import RecomputeJob

    return RecomputeJob.objects.create(portfolio=org.portfolio, kind="full")
