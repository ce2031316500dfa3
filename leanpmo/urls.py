from django.urls import path

from leanpmo.views import (
    decisions,
    funding,
    guardrails,
    initiatives,
    investment,
    scenarios,
    signals,
)

urlpatterns = [
    path("portfolios/<int:pk>/funding/", funding.funding_periods, name="funding-periods"),
    path(
        "portfolios/<int:pk>/funding/<int:period_pk>/",
        funding.funding_editor,
        name="funding-editor",
    ),
    path(
        "portfolios/<int:pk>/funding/<int:period_pk>/preview/",
        funding.funding_preview,
        name="funding-preview",
    ),
    path(
        "portfolios/<int:pk>/funding/<int:period_pk>/status/",
        funding.period_status,
        name="period-status",
    ),
    path(
        "portfolios/<int:pk>/funding/<int:period_pk>/import/",
        funding.budget_import_view,
        name="budget-import",
    ),
    path("budgets/<int:pk>/", funding.budget_detail, name="budget-detail"),
    path("portfolios/<int:pk>/guardrails/", guardrails.guardrail_list, name="guardrail-list"),
    path("portfolios/<int:pk>/decisions/", decisions.decision_log_view, name="decision-log"),
    path("decisions/<int:pk>/", decisions.decision_detail, name="decision-detail"),
    path("decisions/<int:pk>/review/", decisions.decision_review, name="decision-review"),
    path("decisions/<int:pk>/approval/", decisions.decision_approval, name="decision-approval"),
    path("portfolios/<int:pk>/investment/", investment.investment_mix, name="investment-mix"),
    path(
        "portfolios/<int:pk>/investment/<slug:chart>.csv",
        investment.investment_chart_csv,
        name="investment-chart-csv",
    ),
    path(
        "portfolios/<int:pk>/exports/<slug:what>.<str:fmt>",
        investment.funding_export,
        name="funding-export",
    ),
    path("portfolios/<int:pk>/scenarios/", scenarios.scenario_list, name="scenario-list"),
    path("scenarios/<int:pk>/", scenarios.scenario_detail, name="scenario-detail"),
    path("scenarios/<int:pk>/preview/", scenarios.scenario_preview, name="scenario-preview"),
    path("scenarios/<int:pk>/promote/", scenarios.scenario_promote_view, name="scenario-promote"),
    path("scenarios/<int:pk>/refresh/", scenarios.scenario_refresh_view, name="scenario-refresh"),
    path(
        "scenarios/<int:pk>/compare/<slug:table>.csv",
        scenarios.scenario_compare_csv,
        name="scenario-compare-csv",
    ),
    # initiatives: the portfolio kanban
    path("portfolios/<int:pk>/initiatives/", initiatives.initiative_board, name="initiative-board"),
    path(
        "portfolios/<int:pk>/initiatives/list/",
        initiatives.initiative_list_view,
        name="initiative-list",
    ),
    path(
        "portfolios/<int:pk>/initiatives/export.<str:fmt>",
        initiatives.initiative_export,
        name="initiative-export",
    ),
    path(
        "portfolios/<int:pk>/initiatives/new/",
        initiatives.initiative_create_view,
        name="initiative-create",
    ),
    path(
        "portfolios/<int:pk>/initiatives/flow/<slug:table>.csv",
        initiatives.initiative_flow_csv,
        name="initiative-flow-csv",
    ),
    path(
        "portfolios/<int:pk>/initiatives/pyramid/<slug:chart>.csv",
        initiatives.initiative_pyramid_csv,
        name="initiative-pyramid-csv",
    ),
    path("initiatives/<int:pk>/", initiatives.initiative_detail, name="initiative-detail"),
    path("initiatives/<int:pk>/edit/", initiatives.initiative_edit, name="initiative-edit"),
    path("initiatives/<int:pk>/move/", initiatives.initiative_move_view, name="initiative-move"),
    path(
        "initiatives/<int:pk>/exception/",
        initiatives.initiative_exception_view,
        name="initiative-exception",
    ),
    path("portfolios/<int:pk>/signals/", signals.signal_inbox, name="signal-inbox"),
    path("portfolios/<int:pk>/signals.csv", signals.signal_inbox_csv, name="signal-inbox-csv"),
    path(
        "portfolios/<int:pk>/signals/thresholds/",
        signals.signal_thresholds,
        name="signal-thresholds",
    ),
    path("portfolios/<int:pk>/signals/digest/", signals.signal_digest, name="signal-digest"),
    path("portfolios/<int:pk>/scorecard.csv", signals.scorecard_csv, name="scorecard-csv"),
    path("signals/<int:pk>/", signals.signal_detail, name="signal-detail"),
    path(
        "signals/<int:pk>/acknowledge/", signals.signal_acknowledge_view, name="signal-acknowledge"
    ),
]
