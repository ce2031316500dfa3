"""The signals that read the initiatives on the kanban: the top-heavy pyramid (strategic work in
progress above the cap fires it; a stop brings it back under the cap and resolves it), and project
economics at initiative level (a fixed-scope project expected to move key results)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from leanpmo.models import Signal
from leanpmo.selectors.signals import fixed_scope_initiatives, work_shape_inputs
from leanpmo.services.initiative_moves import initiative_move
from leanpmo.services.signals import signals_evaluate
from tests.leanpmo.initiative_support import T0, set_cap, start, strategic

pytestmark = pytest.mark.django_db
LATER = T0 + dt.timedelta(days=10)


def _pyramid_signal(org):
    return Signal.objects.filter(portfolio=org.portfolio, detector="top_heavy_pyramid").first()


def test_initiatives_in_progress_are_the_detectors_shaped_work_with_the_cap(org):
    set_cap(org, 2)
    running = start(org, strategic(org, "Open banking"))
    strategic(org, "Still in the funnel")
    work, cap = work_shape_inputs(org.portfolio, LATER)
    assert cap == 2
    assert [(w.id, w.shape, w.ended_on) for w in work] == [
        (running.pk, "strategic_initiative", None)
    ]
    assert work[0].started_on is not None


def test_strategic_work_above_the_cap_fires_and_a_stop_resolves_it(org):
    set_cap(org, 2)
    first = start(org, strategic(org, "Open banking"))
    start(org, strategic(org, "Instant everything"))
    set_cap(org, 1)  # the cap was lowered while two run
    signals_evaluate(portfolio=org.portfolio, as_of=LATER)
    signal = _pyramid_signal(org)
    assert signal is not None
    assert signal.resolved_at is None
    assert (signal.facts["in_progress"], signal.facts["cap"]) == (2, 1)
    assert [e["url_name"] for e in signal.evidence] == ["initiative-board"]

    initiative_move(
        initiative=first,
        to_state="stopped",
        reason="Customers did not want it: we learned the market is not ready.",
        user=org.users["pmo"],
        now=LATER,
    )
    signals_evaluate(portfolio=org.portfolio, as_of=LATER + dt.timedelta(days=1))
    signal.refresh_from_db()
    assert signal.resolved_at is not None


def test_a_fixed_scope_initiative_with_key_results_fires_project_economics_until_it_is_done(org):
    from tests.teams.factories import KeyResultFactory

    open_kr = KeyResultFactory(objective__team=org.team)
    closed_kr = KeyResultFactory(objective__team=org.team, closed=True)
    project = strategic(
        org,
        "Card controls rebuild",
        funding_mode="fixed_scope",
        scope_budget=Decimal("450000"),
        end_date=dt.date(2026, 9, 30),
        leading_indicators=[open_kr, closed_kr],
    )
    strategic(org, "Capacity-funded bet", leading_indicators=[open_kr])  # no project money
    found = fixed_scope_initiatives(org.portfolio)
    assert [(i.id, i.key_results, i.implementing) for i in found] == [(project.pk, 1, False)]
    assert found[0].state == "Funnel"

    signals_evaluate(portfolio=org.portfolio, as_of=LATER)
    signal = Signal.objects.get(
        portfolio=org.portfolio, detector="project_economics", key=f"initiative:{project.pk}"
    )
    assert signal.facts["initiative"] == "Card controls rebuild"
    assert signal.facts["key_results"] == 1

    start(org, project, now=LATER)
    initiative_move(
        initiative=project,
        to_state="done",
        reason="Shipped on the date.",
        user=org.users["pmo"],
        now=LATER + dt.timedelta(days=8),
    )
    signals_evaluate(portfolio=org.portfolio, as_of=LATER + dt.timedelta(days=9))
    signal.refresh_from_db()
    assert signal.resolved_at is not None
