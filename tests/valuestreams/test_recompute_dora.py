"""DORA recomputed incrementally: an incremental run computes and writes only the DORA rows whose
inputs changed, and publishes exactly what a full run does, in every column of every table."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest

from teams.services.teams import team_update
from tests.factories import ProductTeamFactory, ValueStreamFactory
from tests.valuestreams.test_recompute import published_rows
from valuestreams import recompute
from valuestreams.models import Change, Deployment, DoraMetric, Incident, RecomputeJob
from valuestreams.recompute import dora as recompute_dora
from valuestreams.recompute import recompute_full_now, recompute_incremental_now
from valuestreams.services.deliveries import deployments_ingest, incidents_ingest

AS_OF = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
START = dt.datetime(2025, 11, 3, tzinfo=dt.UTC)


def dora_dataset(portfolio, teams, *, seed: int, deployments: int = 120) -> list[Deployment]:
    """Deployments of ``teams`` (and a few without a team) from START to AS_OF, some failed or
    to staging or rework; a change or two per deployment; incidents naming a deployment, left
    to be linked to the latest earlier one, resolved or still open."""
    rng = random.Random(seed)
    span = (AS_OF - START).total_seconds()
    made = Deployment.objects.bulk_create(
        Deployment(
            portfolio=portfolio,
            source="ci",
            external_key=f"D-{n}",
            team=teams[n % len(teams)] if n % 13 else None,
            finished_at=START + dt.timedelta(seconds=rng.uniform(0, span)),
            successful=rng.random() > 0.1,
            environment="production" if rng.random() > 0.08 else "staging",
            is_rework=rng.random() < 0.15,
        )
        for n in range(deployments)
    )
    Change.objects.bulk_create(
        Change(
            portfolio=portfolio,
            source="git",
            external_key=f"C-{d.pk}-{k}",
            team=d.team,
            first_commit_at=d.finished_at - dt.timedelta(hours=rng.uniform(-2, 200)),
            deployment=d if rng.random() > 0.1 else None,
        )
        for d in made
        for k in range(rng.randint(0, 2))
    )
    incidents = []
    for n, d in enumerate(rng.sample(made, len(made) // 4)):
        created = d.finished_at + dt.timedelta(hours=rng.uniform(0, 72))
        resolved = created + dt.timedelta(hours=rng.uniform(0.2, 100))
        incidents.append(
            Incident(
                portfolio=portfolio,
                source="pd",
                external_key=f"I-{n}",
                team=d.team,
                created_at=created,
                resolved_at=resolved if rng.random() > 0.2 else None,
                deployment=d if rng.random() < 0.4 else None,
            )
        )
    Incident.objects.bulk_create(incidents)
    return made


def dora_published(portfolio) -> list[tuple]:
    """Every DoraMetric row of the portfolio, every column but the id."""
    return published_rows(portfolio)["DoraMetric"]


def assert_incremental_equals_full(portfolio, *, as_of, team_ids=()) -> dict:
    """Run incrementally, then fully: the two publish the same rows in every table and column.
    Returns how many DORA cells the incremental run computed and the portfolio publishes."""
    computed = []
    real = recompute_dora.dora_rows_of

    def spy(*args, cells, **kwargs):
        computed.append(len(cells))
        return real(*args, cells=cells, **kwargs)

    recompute_dora.dora_rows_of = spy
    try:
        run = recompute_incremental_now(portfolio=portfolio, team_ids=team_ids, as_of=as_of)
    finally:
        recompute_dora.dora_rows_of = real
    assert run.kind == "incremental"
    incremental = published_rows(portfolio)
    caveats = run.caveats
    full_run = recompute_full_now(portfolio=portfolio, as_of=as_of)
    full = published_rows(portfolio)
    for table in full:
        assert len(incremental[table]) == len(full[table]), table
        assert incremental[table] == full[table], table
    assert caveats == full_run.caveats
    return {"computed": sum(computed), "published": len(full["DoraMetric"])}


@pytest.fixture
def teams(org):
    return [org.team, org.other_team, ProductTeamFactory(value_stream=org.value_stream)]


@pytest.mark.django_db
def test_an_incremental_run_with_nothing_changed_computes_no_dora_row(org, teams):
    dora_dataset(org.portfolio, teams, seed=1)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    before = DoraMetric.objects.filter(portfolio=org.portfolio).values_list("pk", "row_hash")

    cost = assert_incremental_equals_full(org.portfolio, as_of=AS_OF)

    assert cost["computed"] == 0 < cost["published"]
    assert set(before) == set(
        DoraMetric.objects.filter(portfolio=org.portfolio).values_list("pk", "row_hash")
    )


@pytest.mark.django_db
def test_a_back_dated_incident_linked_to_an_earlier_deployment_rewrites_only_what_it_reaches(
    org, teams
):
    made = dora_dataset(org.portfolio, teams, seed=2)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    # stamped five weeks back, after one of the team's deployments: it is linked to it
    earlier = next(
        d
        for d in sorted(made, key=lambda d: d.finished_at, reverse=True)
        if d.team == org.team and d.successful and d.finished_at < AS_OF - dt.timedelta(weeks=5)
    )
    created = earlier.finished_at + dt.timedelta(minutes=5)
    incidents_ingest(
        portfolio=org.portfolio,
        records=[
            {
                "key": "LATE-1",
                "source": "pd",
                "team": org.team.pk,
                "created_at": created.isoformat(),
                "resolved_at": (created + dt.timedelta(hours=3)).isoformat(),
            }
        ],
    )
    job = RecomputeJob.objects.get(portfolio=org.portfolio, status="queued")

    cost = assert_incremental_equals_full(
        org.portfolio, as_of=AS_OF + dt.timedelta(hours=1), team_ids=job.team_ids
    )

    # its deployment's week and month of the team, value stream and portfolio, plus the
    # windows holding the hour that passed
    assert 0 < cost["computed"] < cost["published"] / 4


@pytest.mark.django_db
def test_a_re_sent_corrected_deployment_and_a_deleted_one_equal_a_full_run(org, teams):
    made = dora_dataset(org.portfolio, teams, seed=3)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    moved = next(d for d in made if d.team == org.team and d.successful)
    # the same deployment sent again: another time, team, rework flag
    deployments_ingest(
        portfolio=org.portfolio,
        records=[
            {
                "key": moved.external_key,
                "source": "ci",
                "team": org.other_team.pk,
                "finished_at": (moved.finished_at - dt.timedelta(days=9)).isoformat(),
                "is_rework": not moved.is_rework,
            }
        ],
    )
    # deleted behind the services' back (the Django admin): its changes and incidents lose it
    gone = next(d for d in made if d.incidents.exists() and d.pk != moved.pk)
    gone.delete()
    job = RecomputeJob.objects.get(portfolio=org.portfolio, status="queued")

    cost = assert_incremental_equals_full(
        org.portfolio, as_of=AS_OF + dt.timedelta(hours=2), team_ids=job.team_ids
    )

    assert 0 < cost["computed"] < cost["published"] / 2


@pytest.mark.django_db
def test_a_team_moved_to_another_value_stream_moves_its_dora_rows_as_a_full_run_would(org, teams):
    dora_dataset(org.portfolio, teams, seed=4)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    lending = ValueStreamFactory(portfolio=org.portfolio, name="Lending")

    team_update(team=org.other_team, value_stream=lending)

    job = RecomputeJob.objects.get(portfolio=org.portfolio, status="queued")
    cost = assert_incremental_equals_full(
        org.portfolio, as_of=AS_OF + dt.timedelta(hours=1), team_ids=job.team_ids
    )
    assert DoraMetric.objects.filter(scope_kind="value_stream", scope_id=lending.pk).exists()
    assert 0 < cost["computed"] < cost["published"]


@pytest.mark.django_db
def test_time_passing_over_week_and_month_ends_equals_a_full_run(org, teams):
    dora_dataset(org.portfolio, teams, seed=5)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF - dt.timedelta(days=3))
    # Friday → Saturday → Monday of the next month's second day: windows open, close and begin
    for as_of in (AS_OF - dt.timedelta(days=2), AS_OF - dt.timedelta(hours=30), AS_OF):
        assert_incremental_equals_full(org.portfolio, as_of=as_of)


def _mutate(portfolio, teams, rng: random.Random, step: int, as_of: dt.datetime) -> None:
    """One random day of DORA events: new deployments with changes, late and back-dated
    incidents (named or inferred), re-sent corrected deployments, resolutions, a deletion."""
    deployments = list(Deployment.objects.filter(portfolio=portfolio))
    for n in range(rng.randint(1, 4)):
        d = Deployment.objects.create(
            portfolio=portfolio,
            source="ci",
            external_key=f"N-{step}-{n}",
            team=rng.choice([*teams, None]),
            finished_at=as_of - dt.timedelta(hours=rng.uniform(0, 30)),
            is_rework=rng.random() < 0.3,
        )
        Change.objects.create(
            portfolio=portfolio,
            source="git",
            external_key=f"NC-{step}-{n}",
            team=d.team,
            first_commit_at=d.finished_at - dt.timedelta(hours=rng.uniform(1, 90)),
            deployment=d,
        )
    for n in range(rng.randint(1, 3)):
        target = rng.choice(deployments)
        created = target.finished_at + dt.timedelta(hours=rng.uniform(0, 48))
        Incident.objects.create(
            portfolio=portfolio,
            source="pd",
            external_key=f"NI-{step}-{n}",
            team=rng.choice([target.team, rng.choice(teams)]),
            created_at=min(created, as_of),
            resolved_at=min(created + dt.timedelta(hours=rng.uniform(1, 20)), as_of)
            if rng.random() < 0.7
            else None,
            deployment=target if rng.random() < 0.5 else None,
        )
    for d in rng.sample(deployments, 2):
        d.finished_at = min(d.finished_at + dt.timedelta(hours=rng.uniform(-240, 240)), as_of)
        d.team = rng.choice([*teams, None])
        d.successful = rng.random() > 0.2
        d.save()
    open_incidents = list(Incident.objects.filter(portfolio=portfolio, resolved_at=None))
    for incident in rng.sample(open_incidents, min(2, len(open_incidents))):
        incident.resolved_at = as_of - dt.timedelta(minutes=rng.uniform(0, 600))
        if incident.resolved_at > incident.created_at:
            incident.save()
    if rng.random() < 0.5:
        rng.choice(deployments).delete()


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [11, 12])
def test_randomized_days_of_dora_events_give_incremental_runs_equal_to_full_runs(org, teams, seed):
    rng = random.Random(seed)
    dora_dataset(org.portfolio, teams, seed=seed, deployments=150)
    as_of = AS_OF - dt.timedelta(days=6)
    recompute_full_now(portfolio=org.portfolio, as_of=as_of)
    lending = ValueStreamFactory(portfolio=org.portfolio, name="Lending")
    for step in range(4):
        as_of += dt.timedelta(hours=rng.uniform(10, 40))
        _mutate(org.portfolio, teams, rng, step, as_of)
        moved = []
        if step == 2:  # a team moves, the others keep going
            team_update(team=teams[2], value_stream=lending)
            moved = [teams[2].pk]
        cost = assert_incremental_equals_full(org.portfolio, as_of=as_of, team_ids=moved)
        assert cost["computed"] < cost["published"]


@pytest.mark.django_db(transaction=True)
def test_records_read_aside_while_the_flow_part_runs_give_a_full_runs_rows(org, teams, monkeypatch):
    """Outside a transaction an incremental run reads the DORA records on a connection of its
    own, in a thread, while the flow part runs on the run's connection; what it publishes is
    what a full run publishes, after days of random DORA events and a team move."""
    reads = []
    real = recompute._read_records

    def spy(portfolio, plan, *, aside=False, **kwargs):
        reads.append((threading.current_thread().name, aside))
        return real(portfolio, plan, aside=aside, **kwargs)

    monkeypatch.setattr(recompute, "_read_records", spy)
    rng = random.Random(13)
    dora_dataset(org.portfolio, teams, seed=13, deployments=100)
    as_of = AS_OF - dt.timedelta(days=4)
    recompute_full_now(portfolio=org.portfolio, as_of=as_of)
    lending = ValueStreamFactory(portfolio=org.portfolio, name="Lending")
    for step in range(2):
        as_of += dt.timedelta(hours=rng.uniform(10, 40))
        _mutate(org.portfolio, teams, rng, step, as_of)
        moved = []
        if step == 1:
            team_update(team=teams[2], value_stream=lending)
            moved = [teams[2].pk]
        assert_incremental_equals_full(org.portfolio, as_of=as_of, team_ids=moved)
    # the incremental runs' reads went aside, the full runs' stayed on the run's connection
    assert [aside for _, aside in reads] == [False, True, False, True, False]
    assert all(name.startswith("recompute-dora-read") == aside for name, aside in reads)
