"""Initiative services: creation, shape from teams, moves, the strategic cap, exceptions, stops."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import ProgrammingError, transaction

from leanpmo.models import (
    DecisionKind,
    FundingDecision,
    Initiative,
    InitiativeTransition,
)
from leanpmo.services.exception_approvals import exception_decide
from leanpmo.services.initiative_cap import CapRefused
from leanpmo.services.initiative_edits import initiative_create, initiative_update
from leanpmo.services.initiative_moves import initiative_exception_request, initiative_move
from tests.factories import ProductTeamFactory
from tests.leanpmo.initiative_support import (
    HYPOTHESIS,
    T0,
    cards_team,
    set_cap,
    start,
    strategic,
    to_ready,
)
from tests.leanpmo.support import funding_for

LATER = T0 + dt.timedelta(days=30)


def _snapshot():
    return (
        list(Initiative.objects.values()),
        list(InitiativeTransition.objects.values()),
        FundingDecision.objects.count(),
    )


def test_a_new_initiative_enters_the_funnel_with_its_first_transition(org):
    funding_for(org)
    initiative = initiative_create(
        portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="One-tap pay",
        teams=[org.team], user_business_value=8, time_criticality=5, risk_reduction=3,
        job_size=5,
    )  # fmt: skip
    assert initiative.state == "funnel"
    assert initiative.work_shape == "team_mission"
    assert str(initiative.wsjf.score) == "3.20"
    assert list(initiative.value_streams.all()) == [org.value_stream]
    (first,) = initiative.transitions.all()
    assert (first.from_state, first.to_state, first.moved_by) == ("", "funnel", org.users["pmo"])


def test_the_shape_follows_the_teams_and_a_contradicting_label_is_refused(org):
    funding_for(org)
    before = _snapshot()
    with pytest.raises(ValidationError) as refused:
        initiative_create(
            portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Faster rails",
            teams=[org.team, org.other_team], declared_shape="team_mission",
        )  # fmt: skip
    message = refused.value.message_dict["work_shape"][0]
    assert "A team mission has exactly one team" in message
    assert "2 teams linked (Instant Payments, Payment Rails)" in message
    assert _snapshot() == before
    group = initiative_create(
        portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Faster rails",
        teams=[org.team, org.other_team], declared_shape="product_group",
    )  # fmt: skip
    assert group.work_shape == "product_group"
    group.teams.add(cards_team(org))
    assert Initiative.objects.with_shape().get(pk=group.pk).shape == "strategic_initiative"
    assert Initiative.objects.get(pk=group.pk).work_shape == "strategic_initiative"


def test_links_from_another_portfolio_are_refused(org):
    funding_for(org)
    with pytest.raises(ValidationError) as refused:
        initiative_create(
            portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Borrowed team",
            teams=[org.foreign_team],
        )  # fmt: skip
    assert "is not a team of Everyday Banking" in refused.value.message_dict["teams"][0]
    assert not Initiative.objects.exists()


def test_a_fixed_scope_project_needs_its_end_date_and_scope_budget(org):
    funding_for(org)
    with pytest.raises(ValidationError) as refused:
        initiative_create(
            portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Core swap",
            funding_mode="fixed_scope",
        )  # fmt: skip
    assert set(refused.value.message_dict) >= {"end_date", "scope_budget"}
    project = initiative_create(
        portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Core swap",
        funding_mode="fixed_scope", end_date=dt.date(2026, 12, 31),
        scope_budget=Decimal("450000"),
    )  # fmt: skip
    assert project.money == Decimal("450000")


def test_moves_follow_the_kanban_and_carry_a_reason(org):
    initiative = strategic(org, "Open banking")
    with pytest.raises(ValidationError) as skipping:
        initiative_move(
            initiative=initiative, to_state="implementing", reason="Urgent.",
            user=org.users["pmo"], now=T0,
        )  # fmt: skip
    assert "From Funnel an initiative moves to Reviewing or Stopped." in skipping.value.messages
    with pytest.raises(ValidationError) as silent:
        initiative_move(
            initiative=initiative, to_state="reviewing", reason="  ", user=org.users["pmo"], now=T0
        )
    assert silent.value.message_dict["reason"] == ["Say why: every move carries its reason."]
    assert initiative.transitions.count() == 1


def test_a_start_is_a_funding_decision_with_frozen_evidence_and_a_review_date(org):
    initiative = start(org, strategic(org, "Open banking", cost_estimate=Decimal("300000")))
    transition = initiative.transitions.order_by("moved_at").last()
    decision = transition.decision
    assert decision.kind == DecisionKind.START
    assert decision.initiative == initiative
    assert decision.value_stream is None
    assert decision.amount_after == Decimal("300000")
    assert decision.expected_outcome.startswith("Will result in more first payments")
    assert decision.evidence["initiative"]["shape"] == "strategic_initiative"
    assert set(decision.evidence["value_streams"]) == {"Payments", "Cards"}
    assert decision.review_due_on == (T0 + dt.timedelta(days=5 + 90)).date()
    assert str(decision) == f"Start Open banking ({decision.decided_at:%Y-%m-%d})"


def test_a_start_needs_teams_and_an_expected_outcome(org):
    funding_for(org)
    lonely = initiative_create(
        portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Nobody's bet"
    )
    to_ready(org, lonely)
    with pytest.raises(ValidationError) as refused:
        initiative_move(
            initiative=lonely, to_state="implementing", reason="Go.", user=org.users["pmo"],
            now=LATER,
        )  # fmt: skip
    assert refused.value.message_dict["to_state"] == [
        "Link the teams who will do the work before starting it."
    ]
    vague = initiative_create(
        portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Vague", teams=[org.team]
    )
    to_ready(org, vague)
    with pytest.raises(ValidationError) as no_outcome:
        initiative_move(
            initiative=vague, to_state="implementing", reason="Go.", user=org.users["pmo"],
            now=LATER,
        )  # fmt: skip
    assert "expected_outcome" in no_outcome.value.message_dict


def test_the_cap_refuses_a_third_strategic_start_naming_the_guardrail(org):
    set_cap(org, 2)
    first, second = start(org, strategic(org, "A")), start(org, strategic(org, "B"))
    third = to_ready(org, strategic(org, "C"))
    before = _snapshot()
    with pytest.raises(CapRefused) as refused:
        initiative_move(
            initiative=third, to_state="implementing", reason="Now.", user=org.users["pmo"],
            now=LATER,
        )  # fmt: skip
    assert str(refused.value).startswith(
        "Refused by the guardrail “At most 2 strategic initiatives in progress”: "
        "2 strategic initiatives are already in progress (A, B)."
    )
    assert _snapshot() == before
    # a team mission is not capped
    mission = to_ready(
        org,
        initiative_create(
            portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Mission",
            teams=[org.team], **HYPOTHESIS,
        ),
    )  # fmt: skip
    initiative_move(
        initiative=mission,
        to_state="implementing",
        reason="Ours.",
        user=org.users["pmo"],
        now=LATER,
    )
    assert {first.state, second.state, mission.state} == {"implementing"}


def test_an_approved_exception_makes_the_refused_move_linked_to_the_decision(org):
    set_cap(org, 1)
    start(org, strategic(org, "A"))
    waiting = to_ready(org, strategic(org, "B"))
    decision = initiative_exception_request(
        initiative=waiting, reason="The regulator's deadline.", user=org.users["pmo"], now=T0
    )
    assert decision.kind == DecisionKind.EXCEPTION
    assert decision.proposal["move"] == "implementing"
    assert "At most 1 strategic initiative in progress" in decision.rationale
    with pytest.raises(ValidationError):  # one request at a time
        initiative_exception_request(
            initiative=waiting, reason="Again.", user=org.users["pmo"], now=T0
        )
    waiting.refresh_from_db()
    assert waiting.state == "ready"
    with pytest.raises(PermissionError):
        exception_decide(decision=decision, user=org.users["pmo"], approved=True, note="", now=T0)
    exception_decide(
        decision=decision, user=org.users["executive"], approved=True, note="Go.", now=LATER
    )
    waiting.refresh_from_db()
    assert waiting.state == "implementing"
    moved = waiting.transitions.order_by("moved_at", "pk").last()
    assert moved.decision == decision
    assert moved.moved_by == org.users["executive"]
    assert moved.reason == "The regulator's deadline."


def test_no_exception_is_recorded_when_the_move_fits_under_the_cap(org):
    set_cap(org, 3)
    ready = to_ready(org, strategic(org, "A"))
    with pytest.raises(ValidationError) as refused:
        initiative_exception_request(
            initiative=ready, reason="Just in case.", user=org.users["pmo"], now=T0
        )
    assert "No exception is needed" in refused.value.messages[0]


def test_a_rejected_exception_moves_nothing(org):
    set_cap(org, 1)
    start(org, strategic(org, "A"))
    waiting = to_ready(org, strategic(org, "B"))
    decision = initiative_exception_request(
        initiative=waiting, reason="Please.", user=org.users["pmo"], now=T0
    )
    exception_decide(
        decision=decision, user=org.users["executive"], approved=False, note="Wait.", now=LATER
    )
    waiting.refresh_from_db()
    assert waiting.state == "ready"


def test_a_stop_needs_its_learning_and_frees_the_slot(org):
    set_cap(org, 1)
    running = start(org, strategic(org, "A", cost_estimate=Decimal("200000")))
    with pytest.raises(ValidationError) as silent:
        initiative_move(
            initiative=running, to_state="stopped", reason="", user=org.users["pmo"], now=LATER
        )
    assert silent.value.message_dict["reason"] == [
        "A stop needs its learning: say what you learned and why you stop."
    ]
    assert running.state == "implementing"
    stop = initiative_move(
        initiative=running, to_state="stopped", user=org.users["pmo"], now=LATER,
        reason="Customers already pay by card; the test showed no demand.",
    )  # fmt: skip
    assert stop.decision.kind == DecisionKind.STOP
    assert (stop.decision.amount_before, stop.decision.amount_after) == (Decimal("200000"), 0)
    assert "what we learned is kept" in stop.decision.expected_outcome
    start(org, strategic(org, "B"))  # the slot is free again


def test_relinking_teams_cannot_sneak_a_running_initiative_past_the_cap(org):
    set_cap(org, 1)
    start(org, strategic(org, "A"))
    funding_for(org)
    mission = initiative_create(
        portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Mission",
        teams=[org.team], **HYPOTHESIS,
    )  # fmt: skip
    start(org, mission)
    with pytest.raises(CapRefused):
        initiative_update(
            initiative=mission, user=org.users["pmo"], teams=[org.team, cards_team(org)]
        )
    assert Initiative.objects.get(pk=mission.pk).work_shape == "team_mission"
    extra = ProductTeamFactory(value_stream=org.value_stream, name="Payee Management")
    grown = initiative_update(initiative=mission, user=org.users["pmo"], teams=[org.team, extra])
    assert grown.work_shape == "product_group"


def test_transitions_and_decisions_are_append_only_in_the_database(org):
    initiative = start(org, strategic(org, "A"))
    with pytest.raises(ProgrammingError), transaction.atomic():
        InitiativeTransition.objects.filter(initiative=initiative).update(reason="rewritten")
    with pytest.raises(ProgrammingError), transaction.atomic():
        InitiativeTransition.objects.filter(initiative=initiative).delete()


def test_who_changed_a_wsjf_input_is_in_the_audit_history(org):
    from leanpmo.plan_text import Change
    from leanpmo.selectors.initiatives import initiative_history

    initiative = strategic(org, "A", job_size=5, user_business_value=8)
    initiative_update(initiative=initiative, user=org.users["admin"], job_size=8)
    entries = initiative_history(initiative, show_money=True)
    assert entries[0].who == org.users["admin"].get_full_name()
    assert Change("Job size", "5", "8") in entries[0].changes
    assert entries[-1].who == org.users["pmo"].get_full_name()


def test_money_history_is_left_out_for_those_who_may_not_see_money(org):
    from leanpmo.plan_text import Change
    from leanpmo.selectors.initiatives import initiative_history

    initiative = strategic(org, "A", cost_estimate=Decimal("1000"))
    initiative_update(initiative=initiative, user=org.users["pmo"], cost_estimate=Decimal("2000"))
    hidden = initiative_history(initiative, show_money=False)
    assert all(change.label != "Cost estimate" for entry in hidden for change in entry.changes)
    shown = initiative_history(initiative, show_money=True)
    assert Change("Cost estimate", "1,000 EUR", "2,000 EUR") in shown[0].changes


def test_the_owner_belongs_to_the_portfolio(org):
    funding_for(org)
    with pytest.raises(ValidationError) as refused:
        initiative_create(
            portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Orphan",
            owner=org.users["outsider"],
        )  # fmt: skip
    assert refused.value.message_dict["owner"] == [
        "The owner needs a role or a seat in a team of Everyday Banking."
    ]
    owned = initiative_create(
        portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Owned",
        owner=org.users["member"],
    )  # fmt: skip
    assert owned.owner == org.users["member"]


def test_a_move_cannot_be_dated_before_the_last_one(org):
    initiative = strategic(org, "A")
    with pytest.raises(ValidationError) as refused:
        initiative_move(
            initiative=initiative, to_state="reviewing", reason="Back in time.",
            user=org.users["pmo"], now=T0 - dt.timedelta(days=1),
        )  # fmt: skip
    assert "cannot come before" in refused.value.message_dict["to_state"][0]
