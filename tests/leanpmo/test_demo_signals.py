"""After `seed_demo`, the steward has believable things to say about the demo bank."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from leanpmo.demo.signals import seed_signals
from leanpmo.models import Signal
from portfolio.models import Portfolio
from tests.demo_database import DEMO_NOON

pytestmark = pytest.mark.django_db
NOON = DEMO_NOON


@pytest.fixture
def seeded(demo, db):
    """The whole demo, seeded once per run (tests/demo_database.py)."""


def _open():
    return Signal.objects.filter(state="open").select_related("portfolio")


def test_most_detectors_have_something_believable_to_say(seeded):
    detectors = set(_open().values_list("detector", flat=True))
    assert {
        "stale_outcomes",
        "review_overdue",
        "guardrail_breach",
        "project_economics",
        "unstable_team",
        "money_flow_disagree",
        "dependency_hotspot",
    } <= detectors
    assert len(detectors) >= 8
    breach = _open().get(detector="guardrail_breach")
    assert (
        "Mobile & Online Banking: 5 % for Risk — below the minimum of 10 %"
        in breach.explanation(show_money=False)
    )
    hotspot = _open().get(detector="dependency_hotspot")
    assert hotspot.explanation(show_money=False) == (
        "3 teams depend on Payment Rails, 2 of them blocked by it."
    )


def test_no_signal_blames_a_team_for_learning(seeded):
    # the demo has invalidated experiments, stopped bets and pulse rounds: none is a signal
    text = " ".join(s.explanation(show_money=True) for s in _open())
    for word in ("experiment", "invalidated", "pulse", "stopped"):
        assert word not in text.lower()


def test_seeding_the_signals_again_changes_nothing(seeded):
    before = list(
        Signal.objects.order_by("pk").values("pk", "detector", "key", "state", "severity")
    )
    with time_machine.travel(NOON + dt.timedelta(minutes=5), tick=False):
        seed_signals(today=NOON.date())
    after = list(Signal.objects.order_by("pk").values("pk", "detector", "key", "state", "severity"))
    assert after == before


def test_the_demo_executive_sees_the_exception_waiting_first(seeded):
    client = Client()
    with time_machine.travel(NOON + dt.timedelta(minutes=10), tick=False):
        client.force_login(Portfolio.objects.get(name="Everyday Banking").memberships.get(role="executive").user)  # fmt: skip
        page = client.get("/")
    groups = {group.portfolio.name: group for group in page.context["attention"]}
    first = groups["Everyday Banking"].items[0]
    assert first.kind == "approval"
    assert first.title.startswith("Exception for ")
    assert first.url.endswith("/approval/")
