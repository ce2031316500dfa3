"""DORA rows of an incremental run computed from the records that changed since the previous run
(the delivery change log written by triggers, :class:`~valuestreams.models.DeliveryChange`):
on the same local day an incremental run reads only the records of the rows a change can reach
and publishes exactly what a full run does, in every column of every table, whatever changed —
a back-dated incident linked to an earlier deployment, a re-sent, corrected or deleted record,
a team moved to another value stream, a record made known by time, a write behind the services'
back — and falls back to hashing every row when the DORA settings or the local day changed or a
scope gained its first record. One organisation with random deliveries is built for the module;
each test starts from a full run over whatever the tests before it left (their writes are rolled
back)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection

from teams.services.teams import team_update
from tests.conftest import make_org
from tests.factories import PortfolioFactory, ProductTeamFactory, ValueStreamFactory
from tests.valuestreams.test_recompute_dora import (
    AS_OF,
    START,
    assert_incremental_equals_full,
    dora_dataset,
)
from valuestreams import recompute
from valuestreams.models import (
    Change,
    DeliveryChange,
    Deployment,
    Incident,
    MetricRun,
    MetricSettings,
    RecomputeJob,
)
from valuestreams.recompute import (
    read,
    recompute_full_now,
    recompute_incremental_now,
    recompute_nightly,
)
from valuestreams.services.deliveries import (
    changes_ingest,
    deployments_ingest,
    incidents_ingest,
)

pytestmark = pytest.mark.django_db

# AS_OF is 13:00 in Zurich: every run up to 22:59 UTC is on the same local day
SAME_DAY = [AS_OF + dt.timedelta(hours=h) for h in (1, 2, 3, 4, 5, 6)]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """Five teams in two value streams (and records without a team) with two years of random
    deployments, changes and incidents, some incidents open for weeks; committed once."""
    with django_db_blocker.unblock():
        org = make_org()
        cards = ValueStreamFactory(portfolio=org.portfolio, name="Cards")
        teams = [
            org.team,
            org.other_team,
            ProductTeamFactory(value_stream=org.value_stream, name="Clearing"),
            ProductTeamFactory(value_stream=cards, name="Issuing"),
            ProductTeamFactory(value_stream=cards, name="Acquiring"),
        ]
        made = dora_dataset(org.portfolio, teams, seed=70, deployments=260)
        rng = random.Random(70)
        long_open = []
        for n, d in enumerate(rng.sample(made, 12)):
            created = d.finished_at + dt.timedelta(hours=rng.uniform(0, 10))
            long_open.append(
                Incident(
                    portfolio=org.portfolio,
                    source="pd",
                    external_key=f"LONG-{n}",
                    team=d.team,
                    created_at=created,
                    resolved_at=min(created + dt.timedelta(days=rng.uniform(20, 90)), AS_OF)
                    if n % 3
                    else None,
                    deployment=None,
                )
            )
        Incident.objects.bulk_create(long_open)
        yield {"org": org, "teams": teams, "cards": cards}
        call_command("flush", interactive=False, verbosity=0)


def run_and_compare(portfolio, *, as_of, team_ids=(), narrowed=True) -> dict:
    """An incremental run equals a full one at ``as_of`` in every table and column; with
    ``narrowed`` it read only the records of what changed (never every record), else every
    record. Returns how many DORA rows it computed and the portfolio publishes."""
    paths = []
    real_narrowed, real_every = read.narrowed_delivery_frames, recompute._every_record

    def narrowed_spy(*args, **kwargs):
        paths.append("narrowed")
        return real_narrowed(*args, **kwargs)

    def every_spy(*args, **kwargs):
        paths.append("every")
        return real_every(*args, **kwargs)

    read.narrowed_delivery_frames, recompute._every_record = narrowed_spy, every_spy
    try:
        cost = assert_incremental_equals_full(portfolio, as_of=as_of, team_ids=team_ids)
    finally:
        read.narrowed_delivery_frames, recompute._every_record = real_narrowed, real_every
    # the full run that follows reads every record: only the incremental run's reads count
    assert paths[-1] == "every"
    incremental = paths[:-1]
    if narrowed:
        assert "every" not in incremental, incremental
    else:
        assert "every" in incremental, incremental
    return cost


def unread(portfolio) -> int:
    """How many of the portfolio's delivery changes the latest run has not read."""
    latest = MetricRun.objects.filter(portfolio=portfolio).latest("computed_at")
    return len(read.delivery_log(portfolio, read_before=latest.delivery_log))


def start(world) -> tuple:
    portfolio = world["org"].portfolio
    recompute_full_now(portfolio=portfolio, as_of=AS_OF)
    assert unread(portfolio) == 0
    # as stored: a test before may have moved one (its write rolled back, not its object)
    teams = world["teams"]
    for team in teams:
        team.refresh_from_db()
    return portfolio, teams


def pick(rng: random.Random, model, portfolio, **filters):
    return rng.choice(list(model.objects.filter(portfolio=portfolio, **filters).order_by("pk")))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_back_dated_incident_named_or_inferred_reaches_its_deployment(world, seed):
    portfolio, teams = start(world)
    rng = random.Random(seed)
    cause = pick(
        rng, Deployment, portfolio, successful=True, environment="production", team__isnull=False
    )
    created = cause.finished_at + dt.timedelta(minutes=rng.uniform(1, 60))
    incidents_ingest(
        portfolio=portfolio,
        records=[
            {  # no deployment named: linked to the team's latest deployment before it
                "key": f"BACK-{seed}-1",
                "source": "pd",
                "team": cause.team_id,
                "created_at": created.isoformat(),
                "resolved_at": (created + dt.timedelta(hours=5)).isoformat(),
            },
            {
                "key": f"BACK-{seed}-2",
                "source": "pd",
                "team": rng.choice(teams).pk,
                "created_at": (created + dt.timedelta(days=3)).isoformat(),
                "deployment": cause.external_key,
                "deployment_source": "ci",
            },
        ],
    )

    cost = run_and_compare(portfolio, as_of=SAME_DAY[0])

    assert 0 < cost["computed"] < cost["published"] / 4


@pytest.mark.parametrize("seed", [3, 4])
def test_a_re_sent_deployment_costs_nothing_and_a_corrected_one_equals_a_full_run(world, seed):
    portfolio, teams = start(world)
    rng = random.Random(seed)
    sent = pick(rng, Deployment, portfolio, team__isnull=False)
    record = {
        "key": sent.external_key,
        "source": sent.source,
        "team": sent.team_id,
        "environment": sent.environment,
        "successful": sent.successful,
        "is_rework": sent.is_rework,
        "finished_at": sent.finished_at.isoformat(),
    }
    deployments_ingest(portfolio=portfolio, records=[record])
    Deployment.objects.filter(pk=sent.pk).update(started_at=sent.finished_at)  # not a DORA input

    assert unread(portfolio) == 0
    quiet = run_and_compare(portfolio, as_of=SAME_DAY[0])
    assert quiet["computed"] == 0

    corrected = {
        **record,
        "team": rng.choice(teams).pk,
        "successful": not sent.successful,
        "is_rework": not sent.is_rework,
        "finished_at": (sent.finished_at + dt.timedelta(days=rng.uniform(-20, 20))).isoformat(),
    }
    deployments_ingest(portfolio=portfolio, records=[corrected])

    latest = MetricRun.objects.filter(portfolio=portfolio).latest("computed_at")
    runs = read.delivery_log(portfolio, read_before=latest.delivery_log)
    assert DeliveryChange.objects.filter(id__gte=runs[0][0], id__lte=runs[-1][1]).count() == 2
    cost = run_and_compare(portfolio, as_of=SAME_DAY[1])
    assert 0 < cost["computed"] < cost["published"] / 2


@pytest.mark.parametrize("seed", [5, 6])
def test_deleted_deployments_changes_and_incidents_equal_a_full_run(world, seed):
    portfolio, _ = start(world)
    rng = random.Random(seed)
    pick(rng, Deployment, portfolio, incidents__isnull=False).delete()  # its incidents lose it
    pick(rng, Change, portfolio, deployment__isnull=False).delete()
    pick(rng, Incident, portfolio).delete()

    cost = run_and_compare(portfolio, as_of=SAME_DAY[0])

    assert 0 < cost["computed"] < cost["published"] / 2


@pytest.mark.parametrize("seed", [7, 8])
def test_records_written_behind_the_services_back_equal_a_full_run(world, seed):
    portfolio, teams = start(world)
    rng = random.Random(seed)
    moved = pick(rng, Deployment, portfolio, successful=True)
    named = pick(rng, Incident, portfolio, deployment__isnull=False)
    change = pick(rng, Change, portfolio, deployment__isnull=False)
    other = pick(rng, Deployment, portfolio, successful=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE valuestreams_deployment SET finished_at = finished_at - interval '6 days',"
            " team_id = %s WHERE id = %s",
            [rng.choice(teams).pk, moved.pk],
        )
        cursor.execute(
            "UPDATE valuestreams_incident SET deployment_id = NULL, team_id = %s WHERE id = %s",
            [rng.choice(teams).pk, named.pk],
        )
        cursor.execute(
            "UPDATE valuestreams_change SET deployment_id = %s, first_commit_at = %s WHERE id = %s",
            [other.pk, other.finished_at - dt.timedelta(hours=30), change.pk],
        )

    cost = run_and_compare(portfolio, as_of=SAME_DAY[0])

    assert 0 < cost["computed"] < cost["published"] / 2


@pytest.mark.parametrize(("seed", "narrowed"), [(9, True), (10, True), (19, False)])
def test_a_team_moved_to_another_value_stream_and_a_new_deployment_equal_a_full_run(
    world, seed, narrowed, monkeypatch
):
    # the two value streams hold every deployment here: every record is read unless the
    # share allowed is raised
    if narrowed:
        monkeypatch.setattr(recompute, "MOVED_MAX_SHARE", 1.0)
    portfolio, teams = start(world)
    rng = random.Random(seed)
    team = rng.choice(teams)
    target = next(t.value_stream for t in teams if t.value_stream_id != team.value_stream_id)
    team_update(team=team, value_stream=target)
    deployments_ingest(
        portfolio=portfolio,
        records=[
            {
                "key": f"TODAY-{seed}",
                "source": "ci",
                "team": rng.choice(teams).pk,
                "finished_at": (AS_OF + dt.timedelta(minutes=30)).isoformat(),
            }
        ],
    )
    job = RecomputeJob.objects.filter(portfolio=portfolio, status="queued").latest("created_at")

    cost = run_and_compare(portfolio, as_of=SAME_DAY[0], team_ids=job.team_ids, narrowed=narrowed)

    # both value streams' rows in every window, the new deployment's open windows
    assert 0 < cost["computed"] < cost["published"] / 2


def test_records_known_only_later_in_the_day_are_taken_into_account_when_they_are(world):
    portfolio, teams = start(world)
    soon = AS_OF + dt.timedelta(hours=2)
    deployments_ingest(
        portfolio=portfolio,
        records=[
            {"key": "SOON", "source": "ci", "team": teams[0].pk, "finished_at": soon.isoformat()}
        ],
    )
    changes_ingest(
        portfolio=portfolio,
        records=[
            {
                "key": "SOON-C",
                "source": "git",
                "team": teams[1].pk,
                "first_commit_at": (soon + dt.timedelta(minutes=40)).isoformat(),
                "deployment": "SOON",
                "deployment_source": "ci",
            }
        ],
    )
    old = pick(random.Random(11), Incident, portfolio, resolved_at__isnull=True)
    Incident.objects.filter(pk=old.pk).update(resolved_at=soon + dt.timedelta(hours=1))
    incidents_ingest(
        portfolio=portfolio,
        records=[
            {
                "key": "SOON-I",
                "source": "pd",
                "team": teams[3].pk,
                "created_at": (soon + dt.timedelta(hours=2)).isoformat(),
            }
        ],
    )

    # and a resolution corrected, known at once
    done = pick(random.Random(18), Incident, portfolio, resolved_at__isnull=False)
    Incident.objects.filter(pk=done.pk).update(resolved_at=done.created_at + dt.timedelta(hours=1))

    # the writes are read by this run, the records not known yet
    run_and_compare(portfolio, as_of=SAME_DAY[0])
    assert unread(portfolio) == 0
    recompute_full_now(portfolio=portfolio, as_of=SAME_DAY[0])
    # known now: the deployment, then the change, the resolution, the incident
    for as_of in SAME_DAY[2:5]:
        run_and_compare(portfolio, as_of=as_of)


def test_changed_dora_settings_a_new_local_day_and_a_new_team_hash_every_row(world):
    portfolio, teams = start(world)
    settings, _ = MetricSettings.objects.get_or_create(portfolio=portfolio)
    settings.incident_max_gap_hours = 30
    settings.save()
    pick(random.Random(12), Deployment, portfolio, team__isnull=False).delete()

    run_and_compare(portfolio, as_of=SAME_DAY[0], narrowed=False)
    # the next change of the same day is read narrowed again, with the new gap
    pick(random.Random(13), Incident, portfolio, deployment__isnull=False).delete()
    run_and_compare(portfolio, as_of=SAME_DAY[1])

    newcomer = ProductTeamFactory(value_stream=teams[0].value_stream, name="Newcomer")
    deployments_ingest(
        portfolio=portfolio,
        records=[
            {
                "key": "FIRST",
                "source": "ci",
                "team": newcomer.pk,
                "finished_at": (START + dt.timedelta(days=3)).isoformat(),
            }
        ],
    )
    # its rows in every window: hashed as a full run's
    run_and_compare(portfolio, as_of=SAME_DAY[2], narrowed=False)

    pick(random.Random(14), Change, portfolio).delete()
    next_day = AS_OF + dt.timedelta(hours=12)  # 01:00 in Zurich
    run_and_compare(portfolio, as_of=next_day, narrowed=False)
    pick(random.Random(15), Deployment, portfolio, successful=True).delete()
    run_and_compare(portfolio, as_of=next_day + dt.timedelta(hours=1))


@pytest.mark.parametrize("seed", [16, 17])
def test_randomized_same_day_writes_equal_a_full_run_run_after_run(world, seed):
    portfolio, teams = start(world)
    rng = random.Random(seed)
    for step, as_of in enumerate(SAME_DAY):
        deployments = list(Deployment.objects.filter(portfolio=portfolio).order_by("pk"))
        for n in range(rng.randint(0, 3)):
            d = Deployment.objects.create(
                portfolio=portfolio,
                source="ci",
                external_key=f"R-{seed}-{step}-{n}",
                team=rng.choice([*teams, None]),
                finished_at=as_of - dt.timedelta(hours=rng.uniform(0, 24 * 40)),
                successful=rng.random() > 0.1,
                is_rework=rng.random() < 0.3,
            )
            Change.objects.create(
                portfolio=portfolio,
                source="git",
                external_key=f"RC-{seed}-{step}-{n}",
                team=rng.choice([d.team, rng.choice(teams)]),
                first_commit_at=d.finished_at - dt.timedelta(hours=rng.uniform(1, 90)),
                deployment=d,
            )
        for n in range(rng.randint(0, 2)):
            target = rng.choice(deployments)
            created = target.finished_at + dt.timedelta(hours=rng.uniform(0, 24 * 20))
            Incident.objects.create(
                portfolio=portfolio,
                source="pd",
                external_key=f"RI-{seed}-{step}-{n}",
                team=rng.choice([target.team, rng.choice(teams)]),
                created_at=min(created, as_of),
                resolved_at=min(created + dt.timedelta(hours=rng.uniform(1, 400)), as_of)
                if rng.random() < 0.7
                else None,
                deployment=target if rng.random() < 0.5 else None,
            )
        for d in rng.sample(deployments, rng.randint(0, 2)):
            d.finished_at = min(d.finished_at + dt.timedelta(days=rng.uniform(-30, 30)), as_of)
            d.successful = rng.random() > 0.2
            d.save()
        if rng.random() < 0.4:
            rng.choice(deployments).delete()

        cost = run_and_compare(portfolio, as_of=as_of)

        assert cost["computed"] < cost["published"]


def test_the_log_is_deleted_by_the_run_after_the_one_that_read_it_and_with_its_portfolio(world):
    portfolio, _ = start(world)
    gone = PortfolioFactory(name="Closed")
    made = [
        Deployment.objects.create(portfolio=p, source="ci", external_key=key, finished_at=AS_OF)
        for p, key in ((portfolio, "KEPT"), (gone, "GONE"))
    ]
    logged = DeliveryChange.objects.filter(record="deployment", record_id__in=[d.pk for d in made])
    assert sorted(logged.values_list("portfolio_id", flat=True)) == sorted([portfolio.pk, gone.pk])
    gone_pk = gone.pk
    gone.delete()  # its deployment goes with it: logged as deleted
    assert logged.filter(portfolio_id=gone_pk).count() == 2

    recompute_nightly(now=AS_OF)

    assert list(logged.values_list("portfolio_id", flat=True)) == [portfolio.pk]
    # read by the next run, kept for a run built on the same previous one (as the benchmark
    # does), deleted by the run after
    recompute_incremental_now(portfolio=portfolio, as_of=SAME_DAY[0])
    assert logged.count() == 1
    assert unread(portfolio) == 0
    recompute_full_now(portfolio=portfolio, as_of=SAME_DAY[1])
    assert not logged.exists()
