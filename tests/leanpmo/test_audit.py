"""Every write path leaves exactly one history entry per change, naming who made it."""

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.urls import reverse

from leanpmo.models import FundingPeriod, Guardrail, ValueStreamBudget
from leanpmo.plan_text import Change
from leanpmo.selectors.audit import budget_history
from leanpmo.services.budgets import budget_apply
from leanpmo.services.periods import period_transition
from leanpmo.services.structure import guardrail_save
from tests.leanpmo.support import NOW, funding_for, grid_post


@pytest.fixture
def budget(org):
    return funding_for(org).budget


def _events(budget):
    return list(budget.events.select_related("pgh_context").order_by("pgh_id"))


def _last_actor(budget):
    context = _events(budget)[-1].pgh_context
    return context.metadata.get("user") if context else None


def test_creating_a_budget_leaves_one_insert_entry(budget):
    assert [event.pgh_label for event in _events(budget)] == ["insert"]


def test_the_funding_grid_leaves_one_entry_naming_the_lean_pmo(org, client_for, budget):
    response = client_for("pmo").post(
        reverse("funding-editor", args=[org.portfolio.pk, budget.period.pk]),
        grid_post([budget], **{"0-amount_run": "650000"}),
    )
    assert response.status_code == 302
    events = _events(budget)
    assert len(events) == 2
    assert events[-1].amount_run == Decimal("650000.00")
    assert _last_actor(budget) == org.users["pmo"].pk


def test_the_api_leaves_one_entry_naming_the_caller(org, client_for, budget):
    response = client_for("pmo").patch(
        reverse("api:budget-detail", args=[budget.pk]),
        json.dumps({"amount_grow": "310000.00"}),
        content_type="application/json",
        headers={"If-Match": f'"{budget.version}"'},
    )
    assert response.status_code == 200, response.content
    assert len(_events(budget)) == 2
    assert _last_actor(budget) == org.users["pmo"].pk


def test_an_import_leaves_one_entry_per_changed_budget(org, client_for, budget):
    csv_text = (
        "value_stream,run,grow,transform,feature,defect,risk,debt\n"
        "Payments,600000,300000,150000,60,15,10,15\n"
    )
    response = client_for("pmo").post(
        reverse("budget-import", args=[org.portfolio.pk, budget.period.pk]),
        {"file": SimpleUploadedFile("budgets.csv", csv_text.encode())},
    )
    assert response.status_code == 302
    events = _events(budget)
    assert len(events) == 2
    assert events[-1].amount_transform == Decimal("150000.00")
    assert _last_actor(budget) == org.users["pmo"].pk


def test_the_admin_leaves_one_entry_naming_the_administrator(org, client_for, budget):
    url = reverse("admin:leanpmo_valuestreambudget_change", args=[budget.pk])
    data = {
        "period": budget.period.pk,
        "value_stream": budget.value_stream.pk,
        "amount_run": "600000.00",
        "amount_grow": "300000.00",
        "amount_transform": "100000.00",
        "fixed_scope_amount": "25000.00",
        "alloc_feature": 60,
        "alloc_defect": 15,
        "alloc_risk": 10,
        "alloc_debt": 15,
        "theme_split": "{}",
        "notes": "",
    }
    response = client_for("admin").post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    events = _events(budget)
    assert len(events) == 2
    assert events[-1].fixed_scope_amount == Decimal("25000.00")
    assert events[-1].version == 2
    assert _last_actor(budget) == org.users["admin"].pk


def test_a_bulk_queryset_update_leaves_one_entry_per_row(org, budget):
    ValueStreamBudget.objects.filter(pk=budget.pk).update(
        amount_run=F("amount_run") + 1, version=F("version") + 1
    )
    assert len(_events(budget)) == 2


def test_a_save_that_changes_nothing_leaves_no_entry(org, budget):
    budget_apply(
        budget=budget,
        expected_version=budget.version,
        user=org.users["pmo"],
        changes={"amount_run": budget.amount_run},
    )
    ValueStreamBudget.objects.filter(pk=budget.pk).update(notes=budget.notes)
    assert len(_events(budget)) == 1


def test_guardrail_and_period_changes_are_kept_too(org, budget):
    guardrail = Guardrail.objects.filter(portfolio=org.portfolio).first()
    guardrail_save(
        portfolio=org.portfolio, user=org.users["pmo"], guardrail=guardrail, max_percent=Decimal(75)
    )
    assert guardrail.events.count() == 2
    assert (
        guardrail.events.order_by("pgh_id").last().pgh_context.metadata["user"]
        == org.users["pmo"].pk
    )
    period = FundingPeriod.objects.get(pk=budget.period.pk)
    period_transition(period=period, status="approved", user=org.users["pmo"], now=NOW)
    assert period.events.count() == 2


def test_budget_page_shows_who_changed_what_from_old_to_new(org, client_for, budget):
    client_for("pmo").post(
        reverse("funding-editor", args=[org.portfolio.pk, budget.period.pk]),
        grid_post([budget], **{"0-amount_run": "650000"}),
    )
    response = client_for("executive").get(reverse("budget-detail", args=[budget.pk]))
    assert response.status_code == 200
    newest = response.context["history"][0]
    assert newest.who == org.users["pmo"].get_full_name()
    assert Change("Run", "600,000 EUR", "650,000 EUR") in newest.changes  # for people
    assert "/funding/" in newest.url
    assert newest.via == "the funding grid"
    assert "600,000 EUR" in response.content.decode()
    assert len(budget_history(budget)) == 2
