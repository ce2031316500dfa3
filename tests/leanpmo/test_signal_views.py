"""The signal pages: who gets what, filters, CSV, acknowledging, thresholds, the digest preview,
money hidden from members, and query counts that do not grow with the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leanpmo.models import Signal, SignalAcknowledgement, SignalThresholds
from leanpmo.services.signals import signals_evaluate
from tests.access import EDITORS, READERS, AccessContract
from tests.factories import ProductTeamFactory
from tests.leanpmo.signal_support import AS_OF, signal_for, stale_key_result, weekly_rows
from tests.leanpmo.support import funding_for

STEWARDS = {**READERS, "member": 403}


class SignalPortfolioPage(AccessContract):
    expected = READERS

    def url_kwargs(self, org):
        signal_for(org)
        return {"pk": org.portfolio.pk}


class TestInboxAccess(SignalPortfolioPage):
    url_name = "signal-inbox"


class TestInboxCsvAccess(SignalPortfolioPage):
    url_name = "signal-inbox-csv"


class TestThresholdsAccess(SignalPortfolioPage):
    url_name = "signal-thresholds"


class TestThresholdsPostAccess(SignalPortfolioPage):
    url_name = "signal-thresholds"
    method = "post"
    expected = {**EDITORS, "pmo": 400, "admin": 400}  # an empty form is refused


class TestDigestAccess(SignalPortfolioPage):
    url_name = "signal-digest"
    expected = STEWARDS


class TestScorecardCsvAccess(SignalPortfolioPage):
    url_name = "scorecard-csv"


class TestSignalDetailAccess(AccessContract):
    url_name = "signal-detail"
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": signal_for(org).pk}


class TestAcknowledgePostAccess(TestSignalDetailAccess):
    url_name = "signal-acknowledge"
    method = "post"
    expected = {**EDITORS, "pmo": 400, "admin": 400}


class TestPortfolioSignalsAreNotReadFromAnotherPortfolio:
    def test_the_inbox_of_a_foreign_portfolio_is_404_even_for_its_own_pmo(self, org, client_for):
        signal_for(org)
        url = reverse("signal-inbox", args=[org.other_portfolio.pk])
        assert client_for("pmo").get(url).status_code == 404


# --- the inbox ----------------------------------------------------------------------------------


@pytest.fixture
def signals(org):
    """Two open signals (stale outcomes of org.team, an output-only other team) as of AS_OF."""
    stale_key_result(org, days=200)
    weekly_rows(org.portfolio, "team", org.other_team.pk, weeks=12, velocity=4)
    signals_evaluate(portfolio=org.portfolio, as_of=AS_OF)  # the weekly rows end then
    return Signal.objects.filter(portfolio=org.portfolio)


def test_the_inbox_lists_signals_with_their_sentence_and_counts_per_detector(
    org, client_for, signals
):
    response = client_for("pmo").get(reverse("signal-inbox", args=[org.portfolio.pk]))
    assert response.status_code == 200
    page = response.content.decode().replace("\xa0", " ")  # figures keep their units (nobreak)
    assert (
        "Instant Payments&#x27; only open key result, “Payments settled within 10 s”, has had no check-in"
        in page
    )
    assert "7. Output-only team" in page
    assert "#acknowledge" in page
    assert "Open signals over the last 12 weeks" in page
    counts = {c.code: c for c in response.context["inbox"].counts}
    assert counts["stale_outcomes"].open == 1


def test_inbox_filters_by_detector_team_and_state(org, client_for, signals):
    url = reverse("signal-inbox", args=[org.portfolio.pk])
    client = client_for("executive")
    by_detector = client.get(url, {"detector": "stale_outcomes"}).context["inbox"].rows
    assert [row.signal.detector for row in by_detector] == ["stale_outcomes"]
    by_team = client.get(url, {"team": org.other_team.pk, "state": "all"}).context["inbox"].rows
    assert {row.signal.team_id for row in by_team} == {org.other_team.pk}
    resolved = client.get(url, {"state": "resolved"}).context["inbox"].rows
    assert resolved == []
    assert "#acknowledge" not in client.get(url).content.decode()  # executives read


def test_a_bad_filter_is_refused_on_its_field_and_the_others_still_apply(org, client_for, signals):
    url = reverse("signal-inbox", args=[org.portfolio.pk])
    response = client_for("pmo").get(url, {"severity": "9", "detector": "stale_outcomes"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert [row.signal.detector for row in response.context["inbox"].rows] == ["stale_outcomes"]


def test_the_csv_has_the_filtered_signals_with_formula_cells_neutralised(org, client_for, signals):
    org.team.name = "=HYPERLINK(evil)"
    org.team.save()
    signals_evaluate(portfolio=org.portfolio, as_of=timezone.now())
    response = client_for("executive").get(
        reverse("signal-inbox-csv", args=[org.portfolio.pk]), {"detector": "stale_outcomes"}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Detector", "Severity", "State"]
    assert len(rows) == 2
    assert rows[1][4] == "'=HYPERLINK(evil)"
    assert rows[1][5].startswith("'=HYPERLINK(evil)'s only open key result")


def test_the_inbox_takes_the_same_queries_with_many_more_signals(org, client_for, signals):
    client = client_for("pmo")
    url = reverse("signal-inbox", args=[org.portfolio.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    for _ in range(8):
        team = ProductTeamFactory(value_stream=org.value_stream)
        stale_key_result(org, team=team, days=200)
    signals_evaluate(portfolio=org.portfolio, as_of=timezone.now())
    assert Signal.objects.filter(detector="stale_outcomes").count() == 9
    assert count() == before


# --- a signal and its acknowledgement -----------------------------------------------------------


def test_the_pmo_acknowledges_a_signal_until_a_day_and_it_leaves_the_inbox(org, client_for):
    signal = signal_for(org)
    client = client_for("pmo")
    until = timezone.localdate() + dt.timedelta(days=14)
    response = client.post(
        reverse("signal-acknowledge", args=[signal.pk]),
        {"reason": "Team on a planned break.", "until": until.isoformat()},
    )
    assert response.status_code == 302
    inbox = client.get(reverse("signal-inbox", args=[org.portfolio.pk])).context["inbox"]
    assert signal.pk not in {row.signal.pk for row in inbox.rows}
    detail = client.get(reverse("signal-detail", args=[signal.pk])).content.decode()
    assert "Team on a planned break." in detail
    assert "Acknowledged until" in detail


def test_an_acknowledgement_without_reason_or_in_the_past_says_why_and_changes_nothing(
    org, client_for
):
    signal = signal_for(org)
    url = reverse("signal-acknowledge", args=[signal.pk])
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client_for("pmo").post(url, {"reason": " ", "until": tomorrow})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = client_for("pmo").post(url, {"reason": "Known.", "until": yesterday})
    assert response.status_code == 400
    assert "Choose a day after today." in response.content.decode()
    assert not SignalAcknowledgement.objects.exists()


# --- thresholds ---------------------------------------------------------------------------------


def _threshold_post(**changes) -> dict:
    from leanpmo.detectors.thresholds import DEFAULTS, THRESHOLD_NAMES

    data = {name: str(getattr(DEFAULTS, name)) for name in THRESHOLD_NAMES}
    data.update({name: str(value) for name, value in changes.items()})
    return data


def test_the_pmo_changes_a_threshold_and_the_history_says_who_and_what(org, client_for):
    url = reverse("signal-thresholds", args=[org.portfolio.pk])
    response = client_for("pmo").post(url, _threshold_post(churn_max_percent=35))
    assert response.status_code == 302
    assert SignalThresholds.objects.get(portfolio=org.portfolio).churn_max_percent == 35
    page = client_for("member").get(url).content.decode()
    assert "Highest churn per quarter: 20 → 35" in page
    assert 'name="churn_max_percent"' not in page  # members read, not edit


def test_a_threshold_out_of_bounds_names_the_field_and_saves_nothing(org, client_for):
    url = reverse("signal-thresholds", args=[org.portfolio.pk])
    response = client_for("pmo").post(url, _threshold_post(min_items=0))
    assert response.status_code == 400
    assert "At least 5 items." in response.content.decode()
    assert not SignalThresholds.objects.exists()


# --- money --------------------------------------------------------------------------------------


def test_a_member_sees_shares_never_amounts_and_no_money_links(org, client_for):
    funding = funding_for(org, approved=True)
    funding.budget.__class__.objects.filter(pk=funding.budget.pk).update(fixed_scope_amount=120000)
    from tests.teams.factories import KeyResultFactory

    KeyResultFactory(objective__team=org.team, starts_on=dt.date(2026, 5, 1))
    signals_evaluate(portfolio=org.portfolio, as_of=dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC))
    signal = Signal.objects.get(detector="project_economics")
    member = client_for("member").get(reverse("signal-detail", args=[signal.pk])).content.decode()
    executive = (
        client_for("executive").get(reverse("signal-detail", args=[signal.pk])).content.decode()
    )
    assert "12 % of Payments&#x27; budget in 2026 Q2" in member
    assert "€" not in member
    assert reverse("budget-detail", args=[funding.budget.pk]) not in member
    assert "€120,000 (12 %) of Payments&#x27; €1,000,000 budget" in executive
    assert reverse("budget-detail", args=[funding.budget.pk]) in executive
    org.portfolio.funding_transparency = True
    org.portfolio.save()
    member = client_for("member").get(reverse("signal-detail", args=[signal.pk])).content.decode()
    assert "€120,000" in member


# --- the digest preview -------------------------------------------------------------------------


def test_the_digest_preview_shows_what_the_mail_would_say_and_lets_one_opt_out(org, client_for):
    signal_for(org)
    url = reverse("signal-digest", args=[org.portfolio.pk])
    client = client_for("executive")
    page = client.get(url).content.decode()
    assert "Needs you" in page
    assert "New this week (1)" in page
    assert "Stale outcomes" in page
    response = client.post(url, {})  # the box unticked
    assert response.status_code == 302
    from leanpmo.services.digests import receives_digest

    assert not receives_digest(org.users["executive"])
