"""Page sections kept per data version (portfolio.sections): the version moves with every committed
write to a table the pages read and with nothing else, a kept section is built again after a write,
at the next acknowledgement expiry and after MAX_AGE, never inside a transaction, and the pages
that keep sections show a write at once."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leanpmo.models import FundingPeriod, SignalAcknowledgement, ValueStreamBudget
from portfolio import sections
from portfolio.models import DataChange
from portfolio.sections import (
    KEPT,
    MAX_AGE,
    SHARED,
    UNTRACKED,
    data_version,
    kept,
    prune_data_changes,
)
from tests.conftest import make_org
from tests.factories import PortfolioFactory
from valuestreams.models import ValueStream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty():
    KEPT.clear()
    yield
    KEPT.clear()
    SHARED._paused_until = 0.0


class Builds:
    """A section builder that counts its builds."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return self.count


def test_every_table_but_the_untracked_ones_has_the_trigger():
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor, include_views=False))
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s",
            [sections.TRIGGER],
        )
        triggered = {row[0] for row in cursor.fetchall()}
    assert triggered == tables - UNTRACKED
    assert "leanpmo_valuestreambudget" in triggered
    assert "teams_outcomeupdate" in triggered


def _save_then_fail(portfolio) -> None:
    portfolio.save()
    raise RuntimeError("rolled back")


def test_the_version_moves_with_a_committed_write_and_with_nothing_else():
    now = timezone.now()
    first = data_version(now).key
    assert data_version(now).key == first  # reading changes nothing
    portfolio = PortfolioFactory(name="Cards")
    after_write = data_version(now).key
    assert after_write != first
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=now)
    assert data_version(now).key == after_write  # an untracked table
    portfolio.name = "Cards and Payments"
    with pytest.raises(RuntimeError), transaction.atomic():
        _save_then_fail(portfolio)
    assert data_version(now).key == after_write
    with transaction.atomic():  # one transaction, many statements: one change
        for name in ("A", "B", "C"):
            ValueStream.objects.create(portfolio=portfolio, name=name)
    assert data_version(now).key[2] == after_write[2] + 1


def test_pruning_forgets_old_changes_and_starts_a_new_version():
    PortfolioFactory(name="Cards")
    now = timezone.now()
    before = data_version(now).key
    assert prune_data_changes(now) == 0  # nothing is an hour old yet
    pruned_nothing = data_version(now).key
    assert pruned_nothing != before  # a new epoch all the same
    changes = DataChange.objects.count()
    assert changes > 0
    assert prune_data_changes(now + dt.timedelta(hours=2)) == changes
    assert DataChange.objects.count() == 0
    assert data_version(now).key not in {before, pruned_nothing}


def test_a_kept_section_is_built_again_after_a_write_only():
    build = Builds()
    now = timezone.now()
    assert kept("s", (1,), build, now=now) == 1
    assert kept("s", (1,), build, now=now + dt.timedelta(seconds=1)) == 1
    assert kept("s", (2,), build, now=now) == 2  # another key
    PortfolioFactory(name="Cards")
    assert kept("s", (1,), build, now=now + dt.timedelta(seconds=2)) == 3


def test_a_kept_section_lasts_until_max_age_and_the_next_acknowledgement_expiry():
    org = make_org()
    build = Builds()
    now = timezone.now()
    assert kept("s", (), build, now=now) == 1
    assert kept("s", (), build, now=now + MAX_AGE - dt.timedelta(seconds=1)) == 1
    assert kept("s", (), build, now=now + MAX_AGE) == 2
    expires = now + dt.timedelta(minutes=2)
    SignalAcknowledgement.objects.create(
        portfolio=org.portfolio, detector="stale_outcomes", key="k", severity=2,
        reason="seen", expires_at=expires, acknowledged_at=now,
    )  # fmt: skip
    assert data_version(now).next_clock == expires
    assert kept("s", (), build, now=now) == 3  # the write
    assert kept("s", (), build, now=expires - dt.timedelta(seconds=1)) == 3
    assert kept("s", (), build, now=expires) == 4  # the acknowledgement ran out


def test_a_section_built_by_one_process_is_read_by_the_others():
    build = Builds()
    now = timezone.now()
    assert kept("s", (1,), build, now=now) == 1
    KEPT.clear()  # another gunicorn worker: its own memory, the same Redis
    assert kept("s", (1,), build, now=now + dt.timedelta(seconds=1)) == 1
    KEPT.clear()  # ... and it ends when the first one's did
    assert kept("s", (1,), build, now=now + MAX_AGE) == 2


def test_a_failing_cache_never_fails_a_page(settings, client_for, org, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nobody listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    build = Builds()
    now = timezone.now()
    assert kept("s", (), build, now=now) == 1
    assert "not shared" in caplog.text
    KEPT.clear()
    assert kept("s", (), build, now=now) == 2  # paused: built here, without waiting on Redis
    html, _ = _get(client_for("executive"), reverse("portfolio-detail", args=[org.portfolio.pk]))
    assert "Payments" in html


def test_nothing_is_kept_inside_a_transaction():
    build = Builds()
    now = timezone.now()
    with transaction.atomic():
        assert kept("s", (), build, now=now) == 1
        assert kept("s", (), build, now=now) == 2
    assert len(KEPT) == 0


def test_a_kept_section_that_reads_an_untracked_table_fails_in_the_tests():
    with pytest.raises(AssertionError, match="django_session"):
        kept("s", (), lambda: list(Session.objects.all()), now=timezone.now())


def _get(client, url: str) -> tuple[str, int]:
    """The page (its CSRF tokens, different per response, left out) and its query count."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return html, len(queries)


def test_the_pages_that_keep_sections_show_a_write_at_once(org, client_for):
    today = timezone.localdate()
    period = FundingPeriod.objects.create(
        portfolio=org.portfolio, name="This quarter", starts_on=today - dt.timedelta(days=10),
        ends_on=today + dt.timedelta(days=80),
    )  # fmt: skip
    budget = ValueStreamBudget.objects.create(
        period=period, value_stream=org.value_stream, amount_run=Decimal(100000),
        amount_grow=Decimal(50000), amount_transform=Decimal(0),
    )  # fmt: skip
    client = client_for("executive")
    pages = {
        "portfolio": reverse("portfolio-detail", args=[org.portfolio.pk]),
        "investment": reverse("investment-mix", args=[org.portfolio.pk]) + f"?period={period.pk}",
        "funding editor": reverse("funding-editor", args=[org.portfolio.pk, period.pk]),
    }
    for url in pages.values():
        first, built = _get(client, url)
        again, kept_queries = _get(client, url)
        assert again == first
        assert kept_queries < built
        assert "150,000" in first
        assert "Payments" in first
    ValueStreamBudget.objects.filter(pk=budget.pk).update(amount_grow=Decimal(70000))
    ValueStream.objects.filter(pk=org.value_stream.pk).update(name="Payments and Cards")
    for url in pages.values():
        html, _ = _get(client, url)
        assert "170,000" in html
        assert "150,000" not in html
        assert "Payments and Cards" in html


def test_a_new_local_day_builds_the_sections_again(org, client_for):
    client = client_for("executive")
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        _, built = _get(client, url)
        _, again = _get(client, url)
    with time_machine.travel(now + dt.timedelta(days=1), tick=False):
        _, next_day = _get(client, url)
    assert again < built
    assert next_day == built


def test_a_signal_evaluation_warms_the_portfolio_pages_for_every_process(org, client_for):
    from leanpmo.tasks import evaluate_signals

    client = client_for("executive")
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    outcomes = reverse("portfolio-outcomes", args=[org.portfolio.pk])
    _, built = _get(client, url)
    _, outcomes_built = _get(client, outcomes)
    PortfolioFactory(name="Cards")  # a write: nothing kept is current any more
    evaluate_signals(org.portfolio.pk)  # what the worker runs after a write
    KEPT.clear()  # a web process that built nothing itself
    html, warmed = _get(client, url)
    assert warmed < built
    assert "Value-stream scorecard" in html
    _, outcomes_warmed = _get(client, outcomes)
    assert outcomes_warmed < outcomes_built


def test_the_outcomes_page_kept_as_markup_for_readers_shows_a_check_in_at_once(org, client_for):
    from tests.teams.factories import KeyResultFactory, OutcomeUpdateFactory

    key_result = KeyResultFactory(objective__team=org.team, metric="Payments settled within 10 s")
    OutcomeUpdateFactory(key_result=key_result, value=Decimal("85.25"))
    client = client_for("executive")
    url = reverse("portfolio-outcomes", args=[org.portfolio.pk])
    first, built = _get(client, url)
    again, kept_queries = _get(client, url)
    assert again == first
    assert kept_queries < built
    assert "Payments settled within 10 s" in first
    assert "85.25" in first
    assert "&lt;" not in first  # kept markup, not escaped text
    OutcomeUpdateFactory(key_result=key_result, value=Decimal("91.75"))
    html, _ = _get(client, url)
    assert "91.75" in html
    editor, _ = _get(client_for("pmo"), url)  # the Lean PMO's page has its edit links
    assert "91.75" in editor
    assert reverse("key-result-edit", args=[key_result.pk]) in editor
    assert reverse("key-result-edit", args=[key_result.pk]) not in html
