"""The demo bank's outcomes: enough real content for every outcome section, seeded idempotently."""

import datetime as dt

import pytest
from django.db.models import Count

from portfolio.demo import demo_seed
from teams.demo import seed_outcomes
from teams.metrics import is_stale
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    PulseRound,
    RealisationPoint,
    TeamInteraction,
    TeamMembership,
)

TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def seeded(db):
    demo_seed(today=TODAY, password="demo-pass")
    return seed_outcomes(today=TODAY)


def _counts():
    return [
        model.objects.count()
        for model in (
            Objective,
            KeyResult,
            OutcomeUpdate,
            Experiment,
            NotDoingItem,
            TeamInteraction,
            PulseRound,
            RealisationPoint,
            TeamMembership,
        )
    ]


def test_seeding_twice_changes_nothing(seeded):
    before = _counts()
    assert seed_outcomes(today=TODAY) == seeded
    assert _counts() == before
    assert seeded.startswith("Outcomes ready: 34 objectives")


def test_every_team_has_a_key_result_with_a_year_of_check_ins(seeded):
    for team in ProductTeam.objects.all():
        updates = OutcomeUpdate.objects.filter(key_result__objective__team=team)
        assert updates.exists(), team
        first = updates.order_by("posted_at").first().posted_at.date()
        expected_from = max(team.formed_on, TODAY - dt.timedelta(days=364))
        assert (first - expected_from).days < 7, team
    chain = Objective.objects.get(team__name="Instant Payments")
    assert chain.parent.level == "value_stream"
    assert chain.parent.parent.level == "portfolio"


def test_some_key_results_are_stale_and_most_are_not(seeded):
    stale = []
    for kr in KeyResult.objects.filter(closed=False):
        last = kr.updates.order_by("-posted_at").first()
        stale.append(
            is_stale(
                last_check_in=last.posted_at.date() if last else None,
                starts_on=kr.starts_on,
                cadence_days=kr.cadence_days,
                as_of=TODAY,
            )
        )
    assert 3 <= sum(stale) < len(stale) / 2


def test_the_demo_member_has_open_key_results_to_update_and_a_closed_one(seeded):
    mine = KeyResult.objects.filter(objective__team__memberships__person__username="member")
    assert mine.filter(closed=False).count() == 2
    assert mine.filter(closed=True).count() == 1
    assert OutcomeUpdate.objects.filter(corrects__isnull=False).exists()


def test_experiments_of_every_result_and_pulse_rounds_some_hidden(seeded):
    assert set(Experiment.objects.values_list("result", flat=True)) == {
        "",
        "validated",
        "invalidated",
        "inconclusive",
    }
    assert NotDoingItem.objects.exists()
    assert TeamInteraction.objects.filter(blocking=True).exists()
    responses = [len(r.responses.all()) for r in PulseRound.objects.prefetch_related("responses")]
    assert any(0 < n < 3 for n in responses)
    assert any(n >= 3 for n in responses)


def test_stability_has_leavers_and_people_in_three_teams(seeded):
    assert TeamMembership.objects.filter(end_date__isnull=False).count() >= 4
    spread = (
        TeamMembership.objects.current(TODAY)
        .values("person")
        .annotate(teams=Count("team"))
        .filter(teams__gt=2)
    )
    assert spread.count() >= 2
