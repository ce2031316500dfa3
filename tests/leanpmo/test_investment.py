"""The executive investment page, its numbers, downloads, and the pure mix and guardrail functions."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pandas as pd
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from leanpmo.guardrails import PlanRow, Rule, check_plan, new_breaches
from leanpmo.metrics import mix
from leanpmo.services.imports import actual_record
from leanpmo.services.structure import theme_create
from tests.factories import ProductTeamFactory, ValueStreamFactory
from tests.leanpmo.support import funding_for, make_budget
from valuestreams.models import FlowMetric


def _page(client, org, period):
    return client.get(reverse("investment-mix", args=[org.portfolio.pk]), {"period": period.pk})


def test_investment_page_shows_the_mix_by_stream_team_horizon_theme_and_work_type(org, client_for):
    funding = funding_for(org)
    theme = theme_create(portfolio=org.portfolio, name="Digital first")
    funding.budget.theme_split = {str(theme.pk): 100}
    funding.budget.save()
    actual_record(period=funding.period, value_stream=org.value_stream, amount=Decimal("900000"))
    response = _page(client_for("executive"), org, funding.period)
    assert response.status_code == 200
    charts = response.context["charts"]
    bars = charts["streams"]["figure"]["data"][0]
    assert (bars["type"], bars["orientation"]) == ("bar", "h")  # sorted bars, not a sunburst
    assert (bars["y"], bars["x"]) == (["Payments"], [1000000.0])
    notes = charts["streams"]["figure"]["layout"]["annotations"]
    assert [note["text"] for note in notes] == ["<b>Payments</b> · 100 % · 1M EUR"]
    assert "Instant Payments: 500k EUR" in bars["customdata"][0]  # the teams, on hover
    assert (
        charts["streams"]["finding"].replace("\xa0", " ")
        == "Payments takes the most: 100 % of 1M EUR"
    )
    # two equal teams share the stream's money (exact to the cent), written for people
    assert charts["streams"]["rows"] == [
        ["Payments", "Instant Payments", "500,000 EUR", "179,507 EUR"],
        ["Payments", "Payment Rails", "500,000 EUR", "179,507 EUR"],
    ]
    assert charts["horizons"]["rows"] == [
        ["Run", "600,000 EUR", "60 %"],
        ["Grow", "300,000 EUR", "30 %"],
        ["Transform", "100,000 EUR", "10 %"],
    ]
    assert charts["horizons"]["title"] == "By horizon"  # the chart named, its finding beside
    assert charts["horizons"]["finding"].replace("\xa0", " ") == "Run takes 60 % of 1M EUR"
    assert charts["horizons"]["figure"]["layout"]["xaxis"]["title"]["text"] == "EUR"
    assert charts["themes"]["rows"] == [["Digital first", "1,000,000 EUR", "100 %"]]
    assert charts["actuals"]["rows"] == [
        ["Payments", "1,000,000 EUR", "900,000 EUR", "−100,000 EUR"]
    ]
    assert charts["actuals"]["finding"].replace("\xa0", " ") == "900k of 1M EUR spent (90 %)"
    assert charts["work_types"]["figure"]["data"][0]["y"] == [60, 15, 10, 15]
    assert len(charts["work_types"]["figure"]["data"]) == 1  # no flow data yet: planned only
    assert b"vendor/plotly.min.js" in response.content


def test_work_type_chart_compares_plan_with_completed_work_when_flow_data_exists(org, client_for):
    funding = funding_for(org)
    for item_type, done in (("Feature", 8), ("Debt", 2)):
        FlowMetric.objects.create(
            portfolio=org.portfolio, scope_kind="value_stream", scope_id=org.value_stream.pk,
            grain="month", window_start=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
            window_end=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), label="2026-04",
            item_type=item_type, velocity=done,
        )  # fmt: skip
    response = _page(client_for("pmo"), org, funding.period)
    data = response.context["charts"]["work_types"]["figure"]["data"]
    assert [trace["name"] for trace in data] == ["Planned capacity", "Work finished"]
    assert data[1]["y"] == [80, 0, 0, 20]
    assert response.context["charts"]["work_types"]["finding"].replace("\xa0", " ") == (
        "Feature: 60 % of the capacity planned, 80 % of the work finished"
    )


def test_investment_page_query_count_does_not_grow_with_value_streams(org, client_for):
    funding = funding_for(org)
    client = client_for("executive")
    _page(client, org, funding.period)
    with CaptureQueriesContext(connection) as few:
        _page(client, org, funding.period)
    for number in range(6):
        stream = ValueStreamFactory(portfolio=org.portfolio, name=f"Stream {number}")
        ProductTeamFactory(value_stream=stream, name=f"Team {number}")
        make_budget(funding.period, stream)
    with CaptureQueriesContext(connection) as many:
        response = _page(client, org, funding.period)
    assert len(response.context["charts"]["streams"]["rows"]) == 8
    assert len(many) == len(few)


def test_decision_log_query_count_does_not_grow_with_decisions(org, client_for):
    from leanpmo.services.decisions import DecisionInput, decision_record, review_record
    from tests.leanpmo.support import NOW

    funding = funding_for(org)
    client = client_for("pmo")
    url = reverse("decision-log", args=[org.portfolio.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        decision = decision_record(
            period=funding.period, value_stream=org.value_stream, user=org.users["pmo"], now=NOW,
            decision=DecisionInput(kind="increase", rationale="r", expected_outcome="e"),
            amount_before=Decimal(1), amount_after=Decimal(2),
        )  # fmt: skip
        review_record(decision=decision, outcome="held", notes="", user=org.users["pmo"], now=NOW)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_exports_neutralise_formula_cells_in_csv_and_xlsx(org, client_for):
    from leanpmo.services.decisions import DecisionInput, decision_record
    from tests.leanpmo.support import NOW

    funding = funding_for(org)
    decision_record(
        period=funding.period, value_stream=org.value_stream, user=org.users["pmo"], now=NOW,
        decision=DecisionInput(kind="increase", rationale='=HYPERLINK("http://x")', expected_outcome="@SUM(A1)"),
        amount_before=Decimal(1), amount_after=Decimal(2),
    )  # fmt: skip
    client = client_for("executive")
    response = client.get(reverse("funding-export", args=[org.portfolio.pk, "decisions", "csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Disposition"] == 'attachment; filename="decisions.csv"'
    assert {row["rationale"] for row in rows} == {"Healthy flow.", '\'=HYPERLINK("http://x")'}
    assert "'@SUM(A1)" in {row["expected_outcome"] for row in rows}
    xlsx = client.get(reverse("funding-export", args=[org.portfolio.pk, "decisions", "xlsx"]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert '\'=HYPERLINK("http://x")' in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    budgets = client.get(reverse("funding-export", args=[org.portfolio.pk, "budgets", "csv"]))
    first = next(csv.DictReader(io.StringIO(budgets.content.decode())))
    assert (first["value_stream"], first["total"]) == ("Payments", "1000000.00")
    mix_csv = client.get(
        reverse("investment-chart-csv", args=[org.portfolio.pk, "horizons"]),
        {"period": funding.period.pk},
    )
    assert mix_csv.content.decode().splitlines()[0] == "Horizon,Money,Share"


def test_mix_functions_handle_empty_input():
    empty = pd.DataFrame(
        columns=[
            "value_stream_id",
            "value_stream",
            "run",
            "grow",
            "transform",
            "total",
            "Feature",
            "Defect",
            "Risk",
            "Debt",
            "theme_split",
            "actual",
        ]
    )
    assert mix.horizon_mix(empty)["amount"].tolist() == [0.0, 0.0, 0.0]
    assert mix.theme_mix(empty, {}).empty
    assert (
        mix.work_type_mix(empty, pd.DataFrame(columns=["value_stream_id", "item_type", "done"]))[
            "planned"
        ]
        .isna()
        .all()
    )
    assert mix.stream_team_mix(
        empty, pd.DataFrame(columns=["value_stream_id", "team", "fte", "cost"])
    ).empty
    assert mix.funding_over_periods(empty.assign(period=[], period_start=[])).empty


def _row(vs, run, grow, transform, debt=10, fixed="0"):
    return PlanRow(
        vs, f"VS {vs}", {"run": Decimal(run), "grow": Decimal(grow), "transform": Decimal(transform)},
        {"Feature": 80 - debt, "Defect": 10, "Risk": 10, "Debt": debt}, Decimal(fixed),
    )  # fmt: skip


def test_guardrails_check_horizon_bands_change_allocation_and_fixed_scope():
    rules = [
        Rule(
            1,
            "horizon_share",
            "Run 40–70",
            horizon="run",
            min_percent=Decimal(40),
            max_percent=Decimal(70),
        ),
        Rule(2, "max_budget_change", "±25", max_percent=Decimal(25)),
        Rule(3, "min_allocation", "Debt ≥ 10", item_type="Debt", min_percent=Decimal(10)),
        Rule(4, "max_fixed_scope_share", "fixed ≤ 20", max_percent=Decimal(20)),
    ]
    rows = [_row(1, 800, 100, 100, debt=5, fixed="300"), _row(2, 300, 500, 200)]
    results = check_plan(rows, rules, previous_totals={1: Decimal(1000), 2: Decimal(700)})
    by = {(r.rule_id, r.value_stream_id): r for r in results}
    assert by[(1, None)].value == Decimal("55.0")
    assert by[(1, None)].ok
    assert by[(2, 1)].ok
    assert not by[(2, 2)].ok
    assert by[(2, 2)].value == Decimal("42.9")
    assert not by[(3, 1)].ok
    assert by[(3, 2)].ok
    assert by[(4, None)].value == Decimal("15.0")
    assert by[(4, None)].ok
    assert check_plan([], rules) == [
        r for r in check_plan([], rules) if r.ok
    ]  # nothing to measure is never a breach


def test_only_breaches_a_change_causes_count_against_it():
    rule = [Rule(3, "min_allocation", "Debt ≥ 10", item_type="Debt", min_percent=Decimal(10))]
    before = check_plan([_row(1, 1, 1, 1, debt=5), _row(2, 1, 1, 1)], rule)
    after = check_plan([_row(1, 1, 1, 1, debt=5), _row(2, 1, 1, 1, debt=5)], rule)
    assert [r.value_stream_id for r in new_breaches(before, after)] == [2]


MONEY_COLUMNS = {
    "run", "grow", "transform", "total", "fixed_scope", "actual", "amount", "team_cost",
    "amount_before", "amount_after", "Money", "Team cost", "Budget", "Actual", "Variance",
    "Run", "Grow", "Transform", "Total", "Change", "Plan", "Scenario",
}  # fmt: skip
CENTS = re.compile(r"^-?\d+\.\d\d$")


def test_every_money_download_writes_exact_decimals_to_the_cent(org, client_for):
    from leanpmo.services.budgets import budget_apply
    from leanpmo.services.decisions import DecisionInput, decision_record
    from leanpmo.services.scenarios import scenario_line_change
    from tests.leanpmo.support import NOW, scenario_for

    funding = funding_for(org)
    budget = budget_apply(
        budget=funding.budget, expected_version=1, user=org.users["pmo"],
        changes={"amount_grow": Decimal("300000.07"), "fixed_scope_amount": Decimal("0.10")},
    )  # fmt: skip
    actual_record(period=funding.period, value_stream=org.value_stream, amount=Decimal("741958.97"))
    themes = [theme_create(portfolio=org.portfolio, name=name) for name in ("A", "B", "C")]
    budget.theme_split = dict(zip((str(t.pk) for t in themes), (33, 33, 34), strict=True))
    budget.save()
    decision_record(
        period=funding.period, value_stream=org.value_stream, user=org.users["pmo"], now=NOW,
        decision=DecisionInput(kind="increase", rationale="r", expected_outcome="e"),
        amount_before=Decimal("1000000.07"), amount_after=Decimal("1000000.17"),
    )  # fmt: skip
    scenario = scenario_for(org)
    line = scenario.lines.get()
    scenario_line_change(line=line, expected_version=1, changes={"amount_run": Decimal("600000.1")})
    client, pk, period = client_for("executive"), org.portfolio.pk, {"period": funding.period.pk}
    downloads = {
        **{
            f"{what}.{fmt}": client.get(reverse("funding-export", args=[pk, what, fmt]), period)
            for what in ("budgets", "investment-mix", "decisions")
            for fmt in ("csv", "xlsx")
        },
        **{
            f"{chart}.csv": client.get(reverse("investment-chart-csv", args=[pk, chart]), period)
            for chart in ("streams", "themes", "horizons", "actuals", "periods", "decisions")
        },
        **{
            f"scenario-{table}.csv": client.get(
                reverse("scenario-compare-csv", args=[scenario.pk, table])
            )
            for table in ("streams", "horizons", "themes")
        },
    }
    checked = 0
    for name, response in downloads.items():
        assert response.status_code == 200, name
        if name.endswith(".csv"):
            for row in csv.DictReader(io.StringIO(response.content.decode())):
                for column in MONEY_COLUMNS & set(row):
                    assert row[column] == "" or CENTS.match(row[column]), (name, column, row)
                    checked += 1
        else:
            sheet = load_workbook(io.BytesIO(response.content)).active
            header = [cell.value for cell in sheet[1]]
            for line_cells in sheet.iter_rows(min_row=2):
                for column, cell in zip(header, line_cells, strict=True):
                    if column in MONEY_COLUMNS and cell.value is not None:
                        assert cell.number_format == "#,##0.00", (name, column)
                        assert isinstance(cell.value, int | float), (name, column)
                        checked += 1
    assert checked > 60
    actuals = downloads["actuals.csv"].content.decode().splitlines()
    assert actuals[1] == "Payments,1000000.07,741958.97,-258041.10"
    budgets = next(csv.DictReader(io.StringIO(downloads["budgets.csv"].content.decode())))
    assert (budgets["total"], budgets["fixed_scope"], budgets["actual"]) == (
        "1000000.07",
        "0.10",
        "741958.97",
    )
    themes_csv = downloads["themes.csv"].content.decode()
    assert "A,330000.02," in themes_csv
    assert "C,340000.02," in themes_csv
    scenario_streams = downloads["scenario-streams.csv"].content.decode().splitlines()
    assert scenario_streams[1] == "Payments,1000000.07,1000000.17,0.10,0.0"
