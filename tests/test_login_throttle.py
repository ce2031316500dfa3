"""Sign-in throttling: 30 wrong passwords then the right one is refused; the pause ends after the
cool-off; other people and addresses are not caught; every failure and the lockout are on record."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from config.login_throttle import client_address

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's


def sign_in(username: str, password: str, *, address: str = "203.0.113.7", path: str = "login"):
    client = Client(REMOTE_ADDR=address)
    url = reverse(path) if path == "login" else path
    response = client.post(url, {"username": username, "password": password})
    return client, response


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused(org):
    for _ in range(30):
        _, response = sign_in("pmo", "wrong")
        assert response.status_code in {200, 429}
    client, response = sign_in("pmo", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert "Too many failed sign-ins" in page
    assert "Try again in 15 minutes" in page
    assert response["Retry-After"] == "900"
    assert "Content-Security-Policy" in response


def test_the_fifth_failure_locks_and_the_first_four_only_say_the_password_is_wrong(org):
    for _ in range(4):
        _, response = sign_in("pmo", "wrong")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    _, response = sign_in("pmo", "wrong")
    assert response.status_code == 429


def test_after_the_cool_off_the_right_password_works(org):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            sign_in("pmo", "wrong")
        assert sign_in("pmo", PASSWORD)[1].status_code == 429
        clock.shift(dt.timedelta(minutes=14))
        assert sign_in("pmo", PASSWORD)[1].status_code == 429
        clock.shift(dt.timedelta(minutes=16))
        client, response = sign_in("pmo", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_the_account_is_paused_from_every_address_and_the_address_for_every_account(org):
    for _ in range(5):
        sign_in("pmo", "wrong", address="203.0.113.7")
    assert sign_in("pmo", PASSWORD, address="198.51.100.20")[1].status_code == 429
    assert sign_in("executive", PASSWORD, address="203.0.113.7")[1].status_code == 429
    client, response = sign_in("executive", PASSWORD, address="198.51.100.20")
    assert response.status_code == 302
    assert signed_in(client)


def test_a_lockout_does_not_tell_whether_the_account_exists(org):
    answers = {}
    for username, address in (("pmo", "203.0.113.7"), ("nobody-here", "203.0.113.8")):
        for _ in range(4):
            first = sign_in(username, "wrong", address=address)[1]
            assert first.status_code == 200
        locked = sign_in(username, "wrong", address=address)[1]
        answers[username] = (locked.status_code, locked.content, locked["Retry-After"])
    assert answers["pmo"] == answers["nobody-here"]


def test_every_failure_and_the_lockout_are_recorded(org):
    for _ in range(6):
        sign_in("pmo", "wrong")
    failures = AccessFailureLog.objects.filter(username="pmo", ip_address="203.0.113.7")
    assert failures.count() >= 5
    assert failures.filter(locked_out=True).exists()
    assert AccessAttempt.objects.get(username="pmo").failures_since_start >= 5
    assert "wrong" not in str(AccessAttempt.objects.get(username="pmo").post_data)
    sign_in("executive", PASSWORD, address="198.51.100.20")
    assert AccessLog.objects.filter(username="executive", ip_address="198.51.100.20").exists()


def test_the_admin_sign_in_is_throttled_the_same(org):
    for _ in range(5):
        sign_in("admin", "wrong", path="/admin/login/")
    client, response = sign_in("admin", PASSWORD, path="/admin/login/")
    assert response.status_code == 429
    assert not signed_in(client)


def test_there_is_no_other_password_sign_in_on_the_api():
    with pytest.raises(NoReverseMatch):
        reverse("rest_framework:login")


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),  # no proxy: a client's header is never believed
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the left part is the client's invention
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.2"),  # fewer hops than proxies: not our header
    ],
)
def test_the_client_address_believes_only_our_proxies(settings, rf, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.post("/accounts/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
