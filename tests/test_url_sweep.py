"""Every URL pattern must be listed here with its access rule, so no new URL ships unprotected."""

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.leanpmo.initiative_support import initiative_for
from tests.leanpmo.signal_support import signal_for
from tests.leanpmo.support import funding_for, review_for, scenario_for
from tests.teams import outcome_sweep
from tests.valuestreams import recompute_data

PUBLIC = {"login", "health", "api-schema", "api-docs", "api-redoc"}
# single sign-on's start and callback need no login; with SSO off (as here) they answer 404
# (tests/portfolio/sso/ covers them with SSO on)
SIGN_IN = {"sso-login", "sso-callback"}

# name → kwargs to reverse it with, from the `org` fixture (object URLs point into org.portfolio)
OBJECT_KWARGS = {
    "portfolio-detail": lambda org: {"pk": org.portfolio.pk},
    "value-stream-create": lambda org: {"portfolio_pk": org.portfolio.pk},
    "value-stream-detail": lambda org: {"pk": org.value_stream.pk},
    "value-stream-edit": lambda org: {"pk": org.value_stream.pk},
    "value-stream-flow-csv": lambda org: {"pk": org.value_stream.pk, "chart": "velocity"},
    "team-flow-csv": lambda org: {"pk": org.team.pk, "chart": "velocity"},
    "team-create": lambda org: {"value_stream_pk": org.value_stream.pk},
    "team-detail": lambda org: {"pk": org.team.pk},
    "team-edit": lambda org: {"pk": org.team.pk},
    "api:portfolio-detail": lambda org: {"pk": org.portfolio.pk},
    "api:value-stream-detail": lambda org: {"pk": org.value_stream.pk},
    "api:team-detail": lambda org: {"pk": org.team.pk},
    # recompute engineer: metrics read API
    "api:work-item-detail": lambda org: {"pk": recompute_data.sweep_work_item(org).pk},
    "api:metric-run-detail": lambda org: {"pk": recompute_data.sweep_metric_run(org).pk},
    "api:recompute-job-detail": lambda org: {"pk": recompute_data.sweep_recompute_job(org).pk},
    # ingest engineer: mappings, imports and the ingest API
    "mapping-page": lambda org: {"pk": org.portfolio.pk},
    "import-list": lambda org: {"pk": org.portfolio.pk},
    "import-detail": lambda org: {"pk": _import_job(org)},
    "import-progress": lambda org: {"pk": _import_job(org)},
    "import-errors": lambda org: {"pk": _import_job(org)},
    "api:ingest-import-detail": lambda org: {"pk": _import_job(org)},
    # teams engineer: outcomes, learning, pulse, realisation
    "outcome-update-create": lambda org: {"pk": org.team.pk},
    "experiment-create": lambda org: {"pk": org.team.pk},
    "experiment-edit": lambda org: {"pk": outcome_sweep.experiment(org).pk},
    "not-doing-create": lambda org: {"pk": org.team.pk},
    "pulse-answer": lambda org: {"pk": outcome_sweep.pulse_round(org).pk},
    "realisation-metrics": lambda org: {"pk": org.value_stream.pk},
    "realisation-point-create": lambda org: {"pk": org.value_stream.pk},
    "realisation-metric-create": lambda org: {"pk": org.value_stream.pk},
    "realisation-import": lambda org: {"pk": org.value_stream.pk},
    "portfolio-outcomes": lambda org: {"pk": org.portfolio.pk},
    "objective-branch": lambda org: {
        "pk": org.portfolio.pk,
        "objective_pk": outcome_sweep.value_stream_objective(org).pk,
    },
    "objective-create": lambda org: {"pk": org.portfolio.pk},
    "objective-edit": lambda org: {"pk": outcome_sweep.key_result(org).objective_id},
    "key-result-create": lambda org: {"pk": outcome_sweep.key_result(org).objective_id},
    "key-result-edit": lambda org: {"pk": outcome_sweep.key_result(org).pk},
    "key-result-closing": lambda org: {"pk": outcome_sweep.key_result(org).pk},
    "team-interactions": lambda org: {"pk": org.value_stream.pk},
    "team-interaction-edit": lambda org: {"pk": outcome_sweep.interaction(org).pk},
    "pulse-round-create": lambda org: {"pk": org.team.pk},
    # teams UX: seats (team memberships)
    "team-seat-create": lambda org: {"pk": org.team.pk},
    "team-seat-end": lambda org: {"pk": outcome_sweep.seat(org).pk},
    "team-seat-change": lambda org: {"pk": outcome_sweep.seat(org).pk},
    "api:team-seat-detail": lambda org: {"pk": outcome_sweep.seat(org).pk},
    "api:team-seat-end": lambda org: {"pk": outcome_sweep.seat(org).pk},
    "api:objective-detail": lambda org: {"pk": outcome_sweep.key_result(org).objective_id},
    "api:key-result-detail": lambda org: {"pk": outcome_sweep.key_result(org).pk},
    "api:outcome-update-detail": lambda org: {"pk": outcome_sweep.update(org).pk},
    "api:experiment-detail": lambda org: {"pk": outcome_sweep.experiment(org).pk},
    "api:not-doing-detail": lambda org: {"pk": outcome_sweep.not_doing(org).pk},
    "api:team-interaction-detail": lambda org: {"pk": outcome_sweep.interaction(org).pk},
    "api:realisation-metric-detail": lambda org: {"pk": outcome_sweep.point(org).metric_id},
    "api:realisation-point-detail": lambda org: {"pk": outcome_sweep.point(org).pk},
    # funding engineer: Lean PMO funding, decisions, investment mix
    "funding-periods": lambda org: {"pk": org.portfolio.pk},
    "funding-editor": lambda org: {"pk": org.portfolio.pk, "period_pk": funding_for(org).period.pk},
    "funding-preview": lambda org: {
        "pk": org.portfolio.pk,
        "period_pk": funding_for(org).period.pk,
    },
    "period-status": lambda org: {"pk": org.portfolio.pk, "period_pk": funding_for(org).period.pk},
    "budget-import": lambda org: {"pk": org.portfolio.pk, "period_pk": funding_for(org).period.pk},
    "budget-detail": lambda org: {"pk": funding_for(org).budget.pk},
    "guardrail-list": lambda org: {"pk": org.portfolio.pk},
    "decision-log": lambda org: {"pk": org.portfolio.pk},
    "decision-detail": lambda org: {"pk": funding_for(org).decision.pk},
    "decision-review": lambda org: {"pk": funding_for(org).decision.pk},
    "decision-approval": lambda org: {"pk": funding_for(org).decision.pk},
    "investment-mix": lambda org: {"pk": org.portfolio.pk},
    "investment-chart-csv": lambda org: {"pk": org.portfolio.pk, "chart": "horizons"},
    "funding-export": lambda org: {"pk": org.portfolio.pk, "what": "budgets", "fmt": "csv"},
    "api:funding-period-detail": lambda org: {"pk": funding_for(org).period.pk},
    "api:budget-detail": lambda org: {"pk": funding_for(org).budget.pk},
    "api:decision-detail": lambda org: {"pk": funding_for(org).decision.pk},
    "api:decision-review-detail": lambda org: {"pk": review_for(org).pk},
    "api:guardrail-detail": lambda org: {
        "pk": funding_for(org).budget.period.portfolio.guardrails.first().pk
    },
    # funding engineer: scenarios
    "scenario-list": lambda org: {"pk": org.portfolio.pk},
    "scenario-detail": lambda org: {"pk": scenario_for(org).pk},
    "scenario-preview": lambda org: {"pk": scenario_for(org).pk},
    "scenario-promote": lambda org: {"pk": scenario_for(org).pk},
    "scenario-refresh": lambda org: {"pk": scenario_for(org).pk},
    "scenario-compare-csv": lambda org: {"pk": scenario_for(org).pk, "table": "streams"},
    "api:scenario-detail": lambda org: {"pk": scenario_for(org).pk},
    "api:scenario-promote": lambda org: {"pk": scenario_for(org).pk},
    "api:scenario-line-detail": lambda org: {"pk": scenario_for(org).lines.first().pk},
    # initiatives engineer: the portfolio kanban
    "initiative-board": lambda org: {"pk": initiative_for(org).portfolio_id},
    "initiative-list": lambda org: {"pk": initiative_for(org).portfolio_id},
    "initiative-export": lambda org: {"pk": initiative_for(org).portfolio_id, "fmt": "csv"},
    "initiative-create": lambda org: {"pk": org.portfolio.pk},
    "initiative-flow-csv": lambda org: {"pk": org.portfolio.pk, "table": "lead-times"},
    "initiative-pyramid-csv": lambda org: {"pk": org.portfolio.pk, "chart": "trend"},
    "initiative-detail": lambda org: {"pk": initiative_for(org).pk},
    "initiative-edit": lambda org: {"pk": initiative_for(org).pk},
    "initiative-move": lambda org: {"pk": initiative_for(org).pk},
    "initiative-exception": lambda org: {"pk": initiative_for(org).pk},
    "api:initiative-detail": lambda org: {"pk": initiative_for(org).pk},
    "api:initiative-transitions": lambda org: {"pk": initiative_for(org).pk},
    "api:initiative-wsjf": lambda org: {"pk": initiative_for(org).pk},
    # signals engineer: inbox, thresholds, digest, scorecard
    "signal-inbox": lambda org: {"pk": org.portfolio.pk},
    "signal-inbox-csv": lambda org: {"pk": org.portfolio.pk},
    "signal-thresholds": lambda org: {"pk": org.portfolio.pk},
    "signal-digest": lambda org: {"pk": org.portfolio.pk},
    "scorecard-csv": lambda org: {"pk": org.portfolio.pk},
    "signal-detail": lambda org: {"pk": signal_for(org).pk},
    "signal-acknowledge": lambda org: {"pk": signal_for(org).pk},
    "api:signal-detail": lambda org: {"pk": signal_for(org).pk},
    "api:signal-acknowledge": lambda org: {"pk": signal_for(org).pk},
    "api:signal-thresholds-detail": lambda org: {"pk": org.portfolio.pk},
}
LISTS = {
    "home",
    "logout",
    "sso-settings",
    "api:api-root",
    "api:portfolio-list",
    "api:value-stream-list",
    "api:team-list",
    "api:team-seat-list",
    "api:ingest-work-items-list",
    "api:ingest-deployments-list",
    "api:ingest-incidents-list",
    "api:ingest-changes-list",
    "api:ingest-import-list",
    # recompute engineer: metrics read API
    "api:work-item-list",
    "api:flow-metric-list",
    "api:dora-metric-list",
    "api:status-time-list",
    "api:metric-run-list",
    "api:recompute-job-list",
    # teams engineer
    "api:objective-list",
    "api:key-result-list",
    "api:outcome-update-list",
    "api:experiment-list",
    "api:not-doing-list",
    "api:team-interaction-list",
    "api:realisation-metric-list",
    "api:realisation-point-list",
    # funding engineer
    "api:funding-period-list",
    "api:budget-list",
    "api:decision-list",
    "api:decision-review-list",
    "api:guardrail-list",
    "api:scenario-list",
    "api:scenario-line-list",
    # initiatives engineer
    "api:initiative-list",
    # signals engineer
    "api:signal-list",
    "api:signal-thresholds-list",
}


def _import_job(org) -> int:
    """An import job of org.portfolio (created on first use)."""
    from tests.factories import ImportJobFactory

    return ImportJobFactory(portfolio=org.portfolio).pk


def url_names(resolver=None, namespace=""):
    """Every named pattern in the project (the admin's own rules are tested by Django)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"unnamed URL pattern {pattern.pattern}"
            yield namespace + pattern.name


ALL_NAMES = sorted(set(url_names()))


def test_every_url_has_an_access_rule():
    unknown = set(ALL_NAMES) - PUBLIC - SIGN_IN - set(OBJECT_KWARGS) - LISTS
    assert not unknown, f"add these URLs to the sweep with their access rule: {sorted(unknown)}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_anonymous_is_sent_to_login_or_refused(org, client, name):
    url = reverse(name, kwargs=OBJECT_KWARGS.get(name, lambda _: {})(org))
    response = client.get(url)
    if name in PUBLIC:
        assert response.status_code == 200
    elif name in SIGN_IN:
        assert response.status_code == 404
    elif name.startswith("api:"):
        assert response.status_code in {401, 403}
    elif name == "logout":
        assert response.status_code in {302, 405}
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))


@pytest.mark.parametrize("name", sorted(OBJECT_KWARGS))
def test_outsider_gets_404_on_every_object_url(org, client_for, name):
    url = reverse(name, kwargs=OBJECT_KWARGS[name](org))
    assert client_for("outsider").get(url).status_code == 404


def test_admin_requires_staff(org, client_for):
    assert client_for("anonymous").get("/admin/").status_code == 302
    assert client_for("pmo").get("/admin/").status_code == 302
    assert client_for("admin").get("/admin/").status_code == 200


# Pages that only read: every other method answers 405 (nothing is rendered for a POST).
READ_ONLY_PAGES = {
    "health",
    "home",
    "portfolio-detail",
    "value-stream-detail",
    "value-stream-flow-csv",
    "team-flow-csv",
    "import-detail",
    "import-progress",
    "import-errors",
    "team-detail",
    "realisation-metrics",
    "portfolio-outcomes",
    "budget-detail",
    "decision-detail",
    "investment-mix",
    "investment-chart-csv",
    "funding-export",
    "scenario-compare-csv",
    "initiative-board",
    "initiative-detail",
    "initiative-list",
    "initiative-export",
    "initiative-flow-csv",
    "initiative-pyramid-csv",
    "sso-settings",
    "signal-inbox",
    "signal-inbox-csv",
    "signal-detail",
    "scorecard-csv",
    "objective-branch",
}
# Pages with a form: they take POST (and GET shows the form, or redirects to the page that does).
FORM_PAGES = {
    "login",
    "logout",
    "value-stream-create",
    "value-stream-edit",
    "mapping-page",
    "import-list",
    "team-create",
    "team-edit",
    "outcome-update-create",
    "experiment-create",
    "experiment-edit",
    "not-doing-create",
    "pulse-answer",
    "realisation-point-create",
    "realisation-metric-create",
    "realisation-import",
    "objective-create",
    "objective-edit",
    "key-result-create",
    "key-result-edit",
    "key-result-closing",
    "team-interactions",
    "team-interaction-edit",
    "pulse-round-create",
    "funding-periods",
    "funding-editor",
    "funding-preview",
    "period-status",
    "budget-import",
    "guardrail-list",
    "decision-log",
    "decision-review",
    "decision-approval",
    "scenario-list",
    "scenario-detail",
    "scenario-preview",
    "scenario-promote",
    "scenario-refresh",
    "initiative-create",
    "initiative-edit",
    "initiative-move",
    "initiative-exception",
    "signal-acknowledge",
    "signal-thresholds",
    "signal-digest",
    "team-seat-create",
    "team-seat-change",
    "team-seat-end",
}
PAGES = [name for name in ALL_NAMES if not name.startswith("api")]


def test_every_page_is_either_read_only_or_a_form():
    unknown = set(PAGES) - READ_ONLY_PAGES - FORM_PAGES - SIGN_IN
    assert not unknown, f"say whether these pages only read or take a form: {sorted(unknown)}"
    assert not READ_ONLY_PAGES & FORM_PAGES


@pytest.mark.parametrize("method", ["post", "put", "delete"])
@pytest.mark.parametrize("name", sorted(READ_ONLY_PAGES))
def test_read_only_pages_answer_405_to_writes(org, client_for, name, method):
    url = reverse(name, kwargs=OBJECT_KWARGS.get(name, lambda _: {})(org))
    response = getattr(client_for("admin"), method)(url)
    assert response.status_code == 405, f"{method.upper()} {url}"
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD"}
    admin = client_for("admin")
    assert admin.head(url).status_code == admin.get(url).status_code  # HEAD answers as GET does


@pytest.mark.parametrize("name", sorted(FORM_PAGES - {"logout", "login"}))
def test_form_pages_still_take_post(org, client_for, name):
    url = reverse(name, kwargs=OBJECT_KWARGS[name](org))
    assert client_for("admin").post(url).status_code != 405, url


# Form pages a team member writes to (their own team's records); every other one is Lean PMO's
# (or, for exception approval, an executive's).
MEMBER_FORM_PAGES = {
    "outcome-update-create",
    "experiment-create",
    "experiment-edit",
    "not-doing-create",
    "pulse-answer",
}
POSTED_PAGES = sorted(FORM_PAGES - {"login", "logout"})


@pytest.mark.parametrize("name", POSTED_PAGES)
def test_form_pages_check_access_before_the_form(org, client_for, name):
    """Access comes first: an outsider gets 404 and a reader 403 whatever they post (a clashing
    name, nothing at all), so the answer never says what exists."""
    url = reverse(name, kwargs=OBJECT_KWARGS[name](org))
    probes = [{}, {"name": org.value_stream.name}, {"name": "Nothing like it"}]
    outsider = client_for("outsider")
    assert {outsider.post(url, body).status_code for body in probes} == {404}, url
    reader = "executive" if name in MEMBER_FORM_PAGES else "member"
    answers = {client_for(reader).post(url, body).status_code for body in probes}
    assert answers == {403}, f"{reader} on {url}: {answers}"
