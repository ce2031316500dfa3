"""The top-heavy pyramid signal reads the initiatives on the kanban: strategic work in progress
above the cap fires it; a stop (learning) brings it back under the cap and resolves it."""

from __future__ import annotations

import datetime as dt

import pytest

from leanpmo.models import Signal
from leanpmo.selectors.signals import work_shape_inputs
from leanpmo.services.initiatives import initiative_move
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
