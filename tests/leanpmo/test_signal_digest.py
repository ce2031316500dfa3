"""The weekly digest by e-mail: Monday morning in each portfolio's time zone, once per person and
week, to executives and the Lean PMO who did not opt out; a refused mail is tried again."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.core import mail

from leanpmo.models import DigestDelivery
from leanpmo.services.digests import digest_preference_set, digests_send
from leanpmo.services.signals import signals_evaluate
from tests.factories import PortfolioFactory, PortfolioMembershipFactory
from tests.leanpmo.signal_support import stale_key_result

MONDAY_0830_ZURICH = dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.UTC)


@pytest.fixture
def mailed(org):
    for who in ("executive", "pmo", "member"):
        user = org.users[who]
        user.email = f"{who}@harbour.example"
        user.save()
    stale_key_result(org, days=40)
    signals_evaluate(portfolio=org.portfolio, as_of=MONDAY_0830_ZURICH - dt.timedelta(hours=2))
    return org


def test_executives_and_the_pmo_get_the_digest_on_monday_morning_once(mailed, mailoutbox):
    assert digests_send(now=MONDAY_0830_ZURICH) == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["executive@harbour.example", "pmo@harbour.example"]  # fmt: skip
    message = mailoutbox[0]
    assert message.subject.startswith("Everyday Banking: ")
    assert "1 new and 0 resolved signals (the week of 2 Mar 2026)" in message.subject
    assert "Stale outcomes · Instant Payments" in message.body
    assert "http://127.0.0.1:8000/signals/" in message.body
    html = message.alternatives[0].content
    assert "Needs you" in html
    assert digests_send(now=MONDAY_0830_ZURICH + dt.timedelta(hours=1)) == 0  # once a week
    assert DigestDelivery.objects.filter(week="2026-W10").count() == 2


def test_nothing_is_sent_before_eight_or_on_another_day(mailed, mailoutbox):
    assert digests_send(now=MONDAY_0830_ZURICH - dt.timedelta(hours=1)) == 0  # 07:30 in Zurich
    assert digests_send(now=MONDAY_0830_ZURICH + dt.timedelta(days=1)) == 0  # Tuesday
    assert mailoutbox == []


def test_each_portfolio_is_sent_in_its_own_time_zone(mailed, mailoutbox):
    new_york = PortfolioFactory(name="Americas", time_zone="America/New_York")
    PortfolioMembershipFactory(portfolio=new_york, user=mailed.users["executive"], role="executive")
    digests_send(now=MONDAY_0830_ZURICH)  # 03:30 in New York
    assert {m.subject.split(":")[0] for m in mailoutbox} == {"Everyday Banking"}
    mailoutbox.clear()
    digests_send(now=dt.datetime(2026, 3, 2, 13, 5, tzinfo=dt.UTC))  # 08:05 in New York
    assert [m.subject.split(":")[0] for m in mailoutbox] == ["Americas"]


def test_a_person_who_opted_out_gets_nothing(mailed, mailoutbox):
    digest_preference_set(person=mailed.users["pmo"], weekly_digest=False)
    assert digests_send(now=MONDAY_0830_ZURICH) == 1
    assert [m.to[0] for m in mailoutbox] == ["executive@harbour.example"]


def test_a_mail_server_that_refuses_leaves_the_digest_to_be_sent_again(mailed, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2, "use_tls": False},
        }
    }
    assert digests_send(now=MONDAY_0830_ZURICH) == 0  # nothing listens on port 1
    assert not DigestDelivery.objects.exists()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    mail.outbox = []
    assert digests_send(now=MONDAY_0830_ZURICH + dt.timedelta(hours=1)) == 2


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({}, "django.core.mail.backends.console.EmailBackend"),
        ({"EMAIL_HOST": "smtp.example.com"}, "django.core.mail.backends.smtp.EmailBackend"),
    ],
)
def test_mail_goes_to_the_console_by_default_and_to_smtp_from_the_environment(environment, backend):
    code = "from django.conf import settings; print(settings.MAILERS['default']['BACKEND'])"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env.update(environment, DJANGO_SETTINGS_MODULE="config.settings")
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == backend
