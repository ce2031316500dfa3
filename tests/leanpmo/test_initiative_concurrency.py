"""Two moves racing for the last free strategic slot: exactly one passes, the other is refused."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from leanpmo.models import Initiative, InitiativeState
from tests.leanpmo.initiative_support import set_cap, strategic, to_ready

ROUNDS = 8


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _race(clients: list[Client], racers: list[Initiative]) -> list[int]:
    """Both clients move their initiative into implementing at the same moment."""
    barrier = threading.Barrier(2)
    answers = [0, 0]

    def move(index: int) -> None:
        try:
            url = reverse("api:initiative-transitions", args=[racers[index].pk])
            body = json.dumps({"to_state": "implementing", "reason": "Our turn."})
            barrier.wait(timeout=30)
            response = clients[index].post(url, body, content_type="application/json")
            answers[index] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_moves_for_the_last_slot_one_passes_one_is_refused_each_round(org):
    clients = [_client(org.users["pmo"]), _client(org.users["admin"])]
    for round_number in range(ROUNDS):
        set_cap(org, round_number + 1)  # exactly one slot is free
        racers = [to_ready(org, strategic(org, f"Bet {round_number}-{side}")) for side in "ab"]
        answers = _race(clients, racers)
        assert sorted(answers) == [201, 409], (round_number, answers)
    running = Initiative.objects.filter(portfolio=org.portfolio, state=InitiativeState.IMPLEMENTING)
    assert running.count() == ROUNDS
    assert running.filter(decisions__kind="start").distinct().count() == ROUNDS
