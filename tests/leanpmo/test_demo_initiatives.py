"""Harbour Bank's demo initiatives: believable, spread over states, shapes and months; idempotent."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from leanpmo.demo.initiatives import seed_initiatives
from leanpmo.models import (
    DecisionKind,
    FundingDecision,
    Guardrail,
    Initiative,
    InitiativeTransition,
)
from leanpmo.selectors.initiatives import strategic_in_progress
from portfolio.models import Portfolio
from tests.demo_database import DEMO_NOON, DEMO_TODAY

TODAY = DEMO_TODAY
NOON = DEMO_NOON


pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(demo, db):
    """The whole demo, seeded once per run (tests/demo_database.py); the initiatives step's line."""
    with time_machine.travel(NOON, tick=False):
        return seed_initiatives(today=TODAY)


def _snapshot():
    return (
        sorted(Initiative.objects.values_list("portfolio__name", "title", "state")),
        InitiativeTransition.objects.count(),
        FundingDecision.objects.count(),
        Guardrail.objects.count(),
    )


def test_about_25_bets_in_every_state_and_shape_with_fixed_scope_ones(seeded):
    assert seeded.startswith("Initiatives ready: 28")
    initiatives = list(Initiative.objects.prefetch_related("teams"))
    assert {i.state for i in initiatives} == {
        "funnel", "reviewing", "analysing", "ready", "implementing", "done", "stopped"
    }  # fmt: skip
    shapes = [i.work_shape for i in initiatives]
    assert {"team_mission", "product_group", "strategic_initiative"} <= set(shapes)
    assert shapes.count("team_mission") > shapes.count("strategic_initiative")  # the pyramid
    running = [i.work_shape for i in initiatives if i.state == "implementing"]
    assert running.count("team_mission") > running.count("strategic_initiative")
    assert sum(i.is_fixed_scope for i in initiatives) >= 3
    assert sum(i.wsjf.score is not None for i in initiatives) >= 15
    assert any(i.wsjf.score is None for i in initiatives)  # some without a job size yet


def test_stops_carry_their_learning_and_starts_and_stops_are_decisions(seeded):
    stopped = Initiative.objects.filter(state="stopped")
    assert 3 <= stopped.count() <= 5
    for initiative in stopped:
        stop = initiative.transitions.get(to_state="stopped")
        assert len(stop.reason) > 60
        assert stop.decision.kind == DecisionKind.STOP
    started = InitiativeTransition.objects.filter(to_state="implementing")
    assert all(t.decision.kind == DecisionKind.START for t in started)
    moved = InitiativeTransition.objects.order_by("moved_at")
    assert moved.first().moved_at.date() <= TODAY - dt.timedelta(days=200)
    assert (TODAY - moved.last().moved_at.date()).days < 30


def test_each_portfolio_has_a_cap_it_keeps_and_one_exception_waits(seeded):
    for portfolio in Portfolio.objects.all():
        cap = Guardrail.objects.get(portfolio=portfolio, kind="max_strategic_wip")
        assert len(strategic_in_progress(portfolio)) <= cap.max_count
    waiting = FundingDecision.objects.get(kind="exception", initiative__isnull=False)
    assert waiting.initiative.title == "Virtual cards in the app"
    assert not hasattr(waiting, "approval")


def test_seeding_again_changes_nothing(seeded):
    before = _snapshot()
    with time_machine.travel(NOON + dt.timedelta(days=3), tick=False):
        seed_initiatives(today=TODAY + dt.timedelta(days=3))
    assert _snapshot() == before


def test_the_demo_board_and_pyramid_render(seeded):
    client = Client()
    client.force_login(get_user_model().objects.get(username="pmo"))
    portfolio = Portfolio.objects.get(name="Everyday Banking")
    with time_machine.travel(NOON, tick=False):
        board = client.get(reverse("initiative-board", args=[portfolio.pk]))
        assert board.status_code == 200
        assert "2 of 2" in board.content.decode()
        mix = client.get(reverse("investment-mix", args=[portfolio.pk]))
    rows = mix.context["pyramid"]["charts"]["pyramid"]["rows"]
    counts = {row[0]: row[1] for row in rows}
    assert counts["Strategic initiative"] == "2"
    assert int(counts["Team mission"]) >= 1
