"""The demo bank's outcomes: enough real content for every outcome section, seeded idempotently."""

import datetime as dt
from collections import Counter

import pytest
from django.db.models import Count

from leanpmo.demo.funding import seed_funding
from leanpmo.models import StrategicTheme, ValueStreamBudget
from teams.demo.seed import WHOLE_UNITS, seed_outcomes, seed_theme_links
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
from tests.demo_database import DEMO_TODAY

TODAY = DEMO_TODAY


@pytest.fixture
def seeded(demo, db):
    """The whole demo, seeded once per run (tests/demo_database.py); the outcomes step's line."""
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
    assert seeded.startswith("Outcomes ready: 44 objectives")


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


@pytest.fixture
def funded(seeded):
    """The theme-links step as on a first seed: the portfolio objectives serve no theme yet."""
    seed_funding(today=TODAY)
    Objective.objects.filter(level="portfolio").update(strategic_theme=None)
    return seed_theme_links(today=TODAY)


def _theme_of(objective: Objective):
    while objective.parent_id:
        objective = objective.parent
    return objective.strategic_theme


def test_every_theme_has_portfolio_objectives_with_key_results_that_teams_serve(funded):
    assert (
        funded
        == "Strategic themes served by portfolio objectives: 6 of 6 (6 objectives linked now)."
    )
    for theme in StrategicTheme.objects.all():
        objectives = Objective.objects.filter(strategic_theme=theme, level="portfolio")
        assert objectives.exists(), theme
        assert KeyResult.objects.filter(objective__in=objectives).exists(), theme
        streams = Objective.objects.filter(parent__in=objectives, level="value_stream")
        assert streams.exists(), theme
        assert Objective.objects.filter(parent__in=streams, level="team").exists(), theme
        assert OutcomeUpdate.objects.filter(key_result__objective__in=objectives).exists(), theme
    # nothing hangs loose: every team objective reaches a theme
    for objective in Objective.objects.filter(level="team").select_related("parent__parent"):
        assert _theme_of(objective) is not None, objective
    assert seed_theme_links(today=TODAY) == (
        "Strategic themes served by portfolio objectives: 6 of 6."
    )


def test_a_value_streams_objectives_serve_the_themes_its_money_is_split_over(funded):
    names = {str(t.pk): t.name for t in StrategicTheme.objects.all()}
    for budget in ValueStreamBudget.objects.filter(
        period__starts_on__lte=TODAY, period__ends_on__gte=TODAY
    ):
        split = {names[key]: percent for key, percent in budget.theme_split.items()}
        served = {
            _theme_of(o).name
            for o in Objective.objects.filter(
                value_stream=budget.value_stream, level="value_stream"
            )
        }
        assert served == set(split), budget.value_stream
        stream_objectives = Objective.objects.filter(
            value_stream=budget.value_stream, level="value_stream"
        )
        # the stream's largest theme has most of its teams
        biggest = max(split, key=split.get)
        teams_per_theme = Counter(
            _theme_of(o).name
            for o in Objective.objects.filter(value_stream=budget.value_stream, level="team")
        )
        assert teams_per_theme[biggest] == max(teams_per_theme.values()), budget.value_stream
        assert stream_objectives.count() == len(split)


def test_counted_key_results_are_checked_in_as_whole_numbers(seeded):
    counted = OutcomeUpdate.objects.filter(key_result__unit__in=WHOLE_UNITS)
    assert counted.exists()
    assert all(update.value == update.value.to_integral_value() for update in counted)


def test_leavers_have_successors_and_capacity_is_what_the_seats_hold_today(seeded):
    for team in ProductTeam.objects.all():
        seated = sum(
            s.allocation_percent for s in TeamMembership.objects.current(TODAY).filter(team=team)
        )
        assert team.capacity_fte * 100 == seated, team
    ended = TeamMembership.objects.filter(end_date__isnull=False)
    for seat in ended:
        successor = TeamMembership.objects.filter(
            team=seat.team,
            start_date__gt=seat.end_date,
            person__username__startswith="harbour.hire",
        )
        assert successor.exists(), seat


def test_experiments_and_not_doing_items_are_about_the_teams_own_customers(seeded):
    from teams.demo.learning import EXPERIMENTS, NOT_DOING

    for experiment in Experiment.objects.select_related("team__value_stream"):
        stream = experiment.team.value_stream.name
        assert experiment.hypothesis in {e[0] for e in EXPERIMENTS[stream]}, experiment
    for item in NotDoingItem.objects.select_related("team__value_stream"):
        assert item.what in {what for what, _ in NOT_DOING[item.team.value_stream.name]}, item
