"""Two people editing one budget at the same moment: one wins, the other is told, nothing is lost."""

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from leanpmo.models import ValueStreamBudget
from tests.leanpmo.support import funding_for

ROUNDS = 15
STEP = Decimal("1000.00")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_two_clients_editing_one_budget_get_one_success_and_one_conflict_each_round(org):
    budget = funding_for(org).budget
    start = ValueStreamBudget.objects.get(pk=budget.pk)
    url = reverse("api:budget-detail", args=[budget.pk])
    clients = [_client(org.users["pmo"]), _client(org.users["admin"])]
    barrier = threading.Barrier(2)
    outcomes: list[list[int]] = [[], []]

    def edit(index: int) -> None:
        client = clients[index]
        try:
            for _ in range(ROUNDS):
                read = client.get(url)
                etag, data = read["ETag"], read.json()
                # each client moves money from Run to Grow, starting from what it read
                body = {
                    "amount_run": str(Decimal(data["amount_run"]) - STEP),
                    "amount_grow": str(Decimal(data["amount_grow"]) + STEP),
                }
                barrier.wait(timeout=30)
                response = client.patch(
                    url,
                    json.dumps(body),
                    content_type="application/json",
                    headers={"If-Match": etag},
                )
                outcomes[index].append(response.status_code)
                barrier.wait(timeout=30)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    rounds = list(zip(*outcomes, strict=True))
    assert len(rounds) == ROUNDS
    assert all(sorted(pair) == [200, 412] for pair in rounds), rounds
    end = ValueStreamBudget.objects.get(pk=budget.pk)
    assert end.version == start.version + ROUNDS
    assert end.amount_run == start.amount_run - STEP * ROUNDS  # zero lost updates
    assert end.amount_grow == start.amount_grow + STEP * ROUNDS
    assert end.total == start.total  # money conserved
    assert end.events.count() == 1 + ROUNDS
