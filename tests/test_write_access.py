"""Access before validation on every write of the API: one contract class per resource and action
(tests.access.WriteAccessContract). The refused bodies are what an outsider would probe with: a
name that already exists, or data the editor is told is wrong."""

from __future__ import annotations

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from leanpmo.models import (
    DecisionReview,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    Scenario,
    ScenarioLine,
    ValueStreamBudget,
)
from leanpmo.services.scenarios import scenario_line_change
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    RealisationMetric,
    RealisationPoint,
)
from tests.access import WriteAccessContract
from tests.leanpmo.support import funding_for, scenario_for
from tests.teams import outcome_sweep
from valuestreams.models import Deployment, ImportJob, RecomputeJob

MONEY_HIDDEN = ("outsider", "member")  # members see no money without funding transparency
TEAM_READERS = ("executive", "pmo")  # they read a team's records; only its members write them


# --- funding ------------------------------------------------------------------------------------


class TestFundingPeriodCreate(WriteAccessContract):
    url_name = "api:funding-period-list"
    model = FundingPeriod
    parent_field = "portfolio"

    def good_body(self, org):
        funding_for(org)
        return {"portfolio": org.portfolio.pk, "name": "2026 Q3",
                "starts_on": "2026-07-01", "ends_on": "2026-09-30"}  # fmt: skip

    def refused_body(self, org):  # the name of the period that exists
        return {**self.good_body(org), "name": funding_for(org).period.name}


class TestGuardrailCreate(WriteAccessContract):
    url_name = "api:guardrail-list"
    model = Guardrail
    parent_field = "portfolio"

    def good_body(self, org):
        funding_for(org)
        return {"portfolio": org.portfolio.pk, "kind": "horizon_share", "horizon": "grow",
                "min_percent": "10", "max_percent": "40"}  # fmt: skip

    def refused_body(self, org):  # the rule that exists (run share)
        return {**self.good_body(org), "horizon": "run"}


class TestGuardrailChange(WriteAccessContract):
    url_name = "api:guardrail-detail"
    method = "patch"
    model = Guardrail
    hidden_from = MONEY_HIDDEN
    readers = ("executive",)
    accepted = 200

    def url_kwargs(self, org):
        return {"pk": Guardrail.objects.filter(portfolio=funding_for(org).period.portfolio)[0].pk}

    def good_body(self, org):
        return {"active": False}

    def refused_body(self, org):
        return {"min_percent": "-5"}


class TestDecisionCreate(WriteAccessContract):
    url_name = "api:decision-list"
    model = FundingDecision
    parent_field = "period"
    hidden_from = MONEY_HIDDEN
    readers = ("executive",)

    def good_body(self, org):
        return {"period": funding_for(org).period.pk, "value_stream": org.value_stream.pk,
                "kind": "continue", "rationale": "Stable.", "expected_outcome": "Same flow."}  # fmt: skip

    def refused_body(self, org):
        return {**self.good_body(org), "kind": "double-it"}


class TestReviewCreate(WriteAccessContract):
    url_name = "api:decision-review-list"
    model = DecisionReview
    parent_field = "decision"
    hidden_from = MONEY_HIDDEN
    readers = ("executive",)

    def good_body(self, org):
        return {"decision": funding_for(org).decision.pk, "outcome": "held", "notes": "Worked."}

    def refused_body(self, org):
        return {**self.good_body(org), "outcome": "fine"}


class TestBudgetChange(WriteAccessContract):
    url_name = "api:budget-detail"
    method = "patch"
    model = ValueStreamBudget
    hidden_from = MONEY_HIDDEN
    readers = ("executive",)
    accepted = 200

    def url_kwargs(self, org):
        return {"pk": funding_for(org).budget.pk}

    def headers(self, org):
        return {
            "If-Match": f'"{ValueStreamBudget.objects.get(pk=funding_for(org).budget.pk).version}"'
        }

    def good_body(self, org):
        return {"amount_run": "610000.00"}

    def refused_body(self, org):
        return {"alloc_feature": 90}  # the allocation no longer adds up to 100 %


class TestScenarioCreate(WriteAccessContract):
    url_name = "api:scenario-list"
    model = Scenario
    parent_field = "period"
    hidden_from = MONEY_HIDDEN
    readers = ("executive",)

    def good_body(self, org):
        return {"period": funding_for(org).period.pk, "name": "Lean year", "description": ""}

    def refused_body(self, org):  # the name of the scenario that exists
        return {**self.good_body(org), "name": scenario_for(org).name}


class TestScenarioLineChange(WriteAccessContract):
    url_name = "api:scenario-line-detail"
    method = "patch"
    model = ScenarioLine
    hidden_from = MONEY_HIDDEN
    readers = ("executive",)
    accepted = 200

    def url_kwargs(self, org):
        return {"pk": scenario_for(org).lines.first().pk}

    def headers(self, org):
        return {"If-Match": f'"{scenario_for(org).lines.first().version}"'}

    def good_body(self, org):
        return {"amount_grow": "350000.00"}

    def refused_body(self, org):
        return {"alloc_feature": 90}


class TestScenarioPromote(WriteAccessContract):
    url_name = "api:scenario-promote"
    model = FundingDecision
    hidden_from = MONEY_HIDDEN
    readers = ("executive",)
    accepted = 200

    def url_kwargs(self, org):
        scenario = scenario_for(org)
        line = scenario.lines.get(value_stream=org.value_stream)
        if line.amount_grow != Decimal("350000"):  # the scenario moves money: there is a decision
            scenario_line_change(
                line=line, expected_version=line.version, changes={"amount_grow": Decimal("350000")}
            )
        return {"pk": scenario.pk}

    def good_body(self, org):
        decision = {"value_stream": org.value_stream.pk, "kind": "increase",
                    "rationale": "Grow payments.", "expected_outcome": "Faster settlement."}  # fmt: skip
        return {"decisions": [decision]}

    def refused_body(self, org):
        return {"decisions": [{"value_stream": "x"}]}


# --- outcomes and learning ------------------------------------------------------------------


class TestObjectiveCreate(WriteAccessContract):
    url_name = "api:objective-list"
    model = Objective
    parent_field = "portfolio"

    def good_body(self, org):
        return {"portfolio": org.portfolio.pk, "level": "portfolio", "title": "Be recommended"}

    def refused_body(self, org):  # a team objective without its team
        return {**self.good_body(org), "level": "team"}


class TestObjectiveChange(WriteAccessContract):
    url_name = "api:objective-detail"
    method = "patch"
    model = Objective
    accepted = 200

    def url_kwargs(self, org):
        return {"pk": outcome_sweep.key_result(org).objective_id}

    def good_body(self, org):
        return {"title": "Payments nobody notices"}

    def refused_body(self, org):
        return {"level": "galaxy"}


class TestKeyResultCreate(WriteAccessContract):
    url_name = "api:key-result-list"
    model = KeyResult
    parent_field = "objective"

    def good_body(self, org):
        return {"objective": outcome_sweep.key_result(org).objective_id, "metric": "NPS",
                "unit": "points", "baseline": "10", "target": "30", "direction": "increase",
                "cadence_days": 14, "starts_on": "2026-01-05"}  # fmt: skip

    def refused_body(self, org):
        return {**self.good_body(org), "cadence_days": -3}


class TestKeyResultChange(WriteAccessContract):
    url_name = "api:key-result-detail"
    method = "patch"
    model = KeyResult
    accepted = 200

    def url_kwargs(self, org):
        return {"pk": outcome_sweep.key_result(org).pk}

    def good_body(self, org):
        return {"target": "98"}

    def refused_body(self, org):
        return {"direction": "sideways"}


class TestCheckInCreate(WriteAccessContract):
    url_name = "api:outcome-update-list"
    model = OutcomeUpdate
    parent_field = "key_result"
    editor = "member"
    readers = TEAM_READERS

    def good_body(self, org):
        return {"key_result": outcome_sweep.key_result(org).pk, "value": "94.2",
                "confidence": 8, "status": "at_risk", "learned": ""}  # fmt: skip

    def refused_body(self, org):
        return {**self.good_body(org), "confidence": 11}


class TestExperimentCreate(WriteAccessContract):
    url_name = "api:experiment-list"
    model = Experiment
    parent_field = "team"
    editor = "member"
    readers = TEAM_READERS

    def good_body(self, org):
        return {"team": org.team.pk, "hypothesis": "Fewer screens, fewer mistakes.",
                "metric": "Mistakes per 1,000", "started_on": "2026-01-05"}  # fmt: skip

    def refused_body(self, org):
        return {**self.good_body(org), "result": "maybe"}


class TestExperimentChange(WriteAccessContract):
    url_name = "api:experiment-detail"
    method = "patch"
    model = Experiment
    editor = "member"
    readers = TEAM_READERS
    accepted = 200

    def url_kwargs(self, org):
        return {"pk": outcome_sweep.experiment(org).pk}

    def good_body(self, org):
        return {"learning": "People read the screen."}

    def refused_body(self, org):
        return {"result": "maybe"}


class TestNotDoingCreate(WriteAccessContract):
    url_name = "api:not-doing-list"
    model = NotDoingItem
    parent_field = "team"
    editor = "member"
    readers = TEAM_READERS

    def good_body(self, org):
        return {"team": org.team.pk, "what": "Cheques", "why": "Nobody uses them.",
                "decided_on": "2026-02-01"}  # fmt: skip

    def refused_body(self, org):
        return {**self.good_body(org), "decided_on": "someday"}


class TestRealisationMetricCreate(WriteAccessContract):
    url_name = "api:realisation-metric-list"
    model = RealisationMetric
    parent_field = "value_stream"

    def good_body(self, org):
        return {"value_stream": org.value_stream.pk, "name": "Revenue", "unit": "EUR"}

    def refused_body(self, org):  # the name of the metric that exists
        return {**self.good_body(org), "name": outcome_sweep.point(org).metric.name}


class TestRealisationPointCreate(WriteAccessContract):
    url_name = "api:realisation-point-list"
    model = RealisationPoint
    parent_field = "metric"

    def good_body(self, org):
        return {"metric": outcome_sweep.point(org).metric_id, "on": "2026-01-31", "value": "3"}

    def refused_body(self, org):
        return {**self.good_body(org), "on": "the last day"}


# --- data in ----------------------------------------------------------------------------------


class TestRecomputeRequest(WriteAccessContract):
    url_name = "api:recompute-job-list"
    model = RecomputeJob
    parent_field = "portfolio"
    accepted = 202

    def good_body(self, org):
        return {"portfolio": org.portfolio.pk, "full": True}

    def refused_body(self, org):
        return {"portfolio": org.portfolio.pk, "full": False, "item_ids": ["one"]}


class TestIngestBatch(WriteAccessContract):
    url_name = "api:ingest-deployments-list"
    model = Deployment
    parent_field = "portfolio"
    accepted = 200

    def good_body(self, org):
        record = {"key": "deploy-812", "finished_at": "2026-02-03T14:05:00Z"}
        return {"portfolio": org.portfolio.pk, "source": "github", "records": [record]}

    def refused_body(self, org):  # a time without its offset
        record = {"key": "deploy-812", "finished_at": "2026-02-03T14:05:00"}
        return {**self.good_body(org), "records": [record]}


class TestImportUpload(WriteAccessContract):
    url_name = "api:ingest-import-list"
    model = ImportJob
    parent_field = "portfolio"
    multipart = True
    accepted = 202

    def good_body(self, org):
        upload = SimpleUploadedFile("search.json", b'{"issues": []}', "application/json")
        return {"portfolio": org.portfolio.pk, "format": "jira", "file": upload}

    def refused_body(self, org):
        return {**self.good_body(org), "format": "excel"}


def test_the_browsable_api_offers_only_parents_the_caller_may_write_into(org, client_for):
    from django.urls import reverse

    funding_for(org)
    for name in ("api:funding-period-list", "api:objective-list", "api:team-list"):
        for who in ("pmo", "member", "outsider"):
            page = client_for(who).get(reverse(name), HTTP_ACCEPT="text/html").content.decode()
            assert ">Lending<" not in page, (who, name)  # nobody here sees it (forms, filters)
            if name != "api:team-list":  # the create form offers what the caller writes into
                assert (">Everyday Banking<" in page) == (who == "pmo"), (who, name)


def test_filters_take_ids_and_do_not_tell_an_existing_one_from_a_missing_one(org, client_for):
    from django.urls import reverse

    outsider = client_for("outsider")
    for value in (org.portfolio.pk, 987654321):
        response = outsider.get(reverse("api:value-stream-list"), {"portfolio": value})
        assert (response.status_code, response.json()["results"]) == (200, [])
