"""Every money page (leanpmo) of the seeded demo, as each role reads it, at a phone's, a laptop's and
a projector's width: no sideways scroll of the page, no console error, no raw number, field name or
id in the text. Full-page screenshots go to test-artifacts/money-<role>-<page>-<width>.png for
people to look at.

Each page is loaded once per role and measured at the three widths by resizing the window (the
layout and the charts follow), so the sweep stays a few minutes at most."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"
WIDTHS = (1440, 390, 1920)
# what a page for people never shows: raw money ("342157.00"), field names, dict dumps, None, NaN
RAW = re.compile(
    r"\b\d{4,}\.\d\d\b|amount_(run|grow|transform)|alloc_|theme_split|fixed_scope_amount"
    r"|\{'|\bNone\b|\bnan\b|\[object|\d+\.0[ \xa0]min|\b1[ \xa0][a-z]+s\b"
)


def _seed_demo():
    """The demo as `make run` seeds it (organisation, history and metrics, outcomes, funding,
    scenarios, initiatives)."""
    from django.utils.module_loading import import_string

    from portfolio.demo import demo_seed
    from portfolio.management.commands.seed_demo import DEMO_STEPS

    today = timezone.localdate()
    demo_seed(today=today, password=PASSWORD)
    for step in DEMO_STEPS:
        import_string(step)(today=today)


def _pages(portfolio) -> dict[str, str]:
    """Every leanpmo page of `portfolio`, by a short name."""
    from django.urls import reverse

    from leanpmo.models import FundingDecision, FundingPeriod, Initiative, Scenario
    from leanpmo.selectors.funding import current_period

    current = current_period(portfolio, today=timezone.localdate())
    draft = FundingPeriod.objects.filter(portfolio=portfolio, status="draft").first()
    budget = current.budgets.order_by("-version", "pk").first()
    decisions = FundingDecision.objects.filter(portfolio=portfolio)
    waiting = decisions.filter(kind="exception", approval__isnull=True).exclude(proposal={})
    stream_exception = waiting.filter(value_stream__isnull=False).first()
    bet_exception = waiting.filter(initiative__isnull=False).first()
    reviewed = decisions.filter(reviews__isnull=False).first()
    initiative = Initiative.objects.filter(portfolio=portfolio, scope_budget__isnull=False).first()
    scenario = Scenario.objects.filter(period__portfolio=portfolio).first()
    pk = portfolio.pk
    return {
        "periods": reverse("funding-periods", args=[pk]),
        "editor": reverse("funding-editor", args=[pk, current.pk]),
        "editor-draft": reverse("funding-editor", args=[pk, draft.pk]),
        "confirm": reverse("period-status", args=[pk, draft.pk]),
        "import": reverse("budget-import", args=[pk, draft.pk]),
        "budget": reverse("budget-detail", args=[budget.pk]),
        "guardrails": reverse("guardrail-list", args=[pk]),
        "decisions": reverse("decision-log", args=[pk]),
        "decision": reverse("decision-detail", args=[stream_exception.pk]),
        "decision-reviewed": reverse("decision-detail", args=[reviewed.pk]),
        "decision-bet": reverse("decision-detail", args=[bet_exception.pk]),
        "approval": reverse("decision-approval", args=[stream_exception.pk]),
        "approval-bet": reverse("decision-approval", args=[bet_exception.pk]),
        "review": reverse("decision-review", args=[reviewed.pk]),
        "investment": reverse("investment-mix", args=[pk]),
        "scenarios": reverse("scenario-list", args=[pk]),
        "scenario": reverse("scenario-detail", args=[scenario.pk]),
        "promote": reverse("scenario-promote", args=[scenario.pk]),
        "board": reverse("initiative-board", args=[pk]),
        "initiatives": reverse("initiative-list", args=[pk]),
        "initiative": reverse("initiative-detail", args=[initiative.pk]),
        "initiative-new": reverse("initiative-create", args=[pk]),
    }


READS = ["periods", "editor", "budget", "guardrails", "decisions", "decision", "decision-reviewed",
         "investment", "board", "initiatives", "initiative"]  # fmt: skip
ROLES = {
    "executive": [*READS, "decision-bet", "approval", "approval-bet", "scenarios", "scenario"],
    "pmo": [
        *READS,
        "editor-draft",
        "confirm",
        "import",
        "review",
        "scenarios",
        "scenario",
        "promote",
        "initiative-new",
    ],
    "member": ["board", "initiatives", "initiative"],  # no funding transparency: no money pages
    "member-transparent": READS,
}


def _collect_errors(page, errors: list[str]) -> None:
    """Put the page's script errors and console errors in `errors` (the browser's own request
    for a favicon, which Steward does not serve, is no error of a page)."""
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console(message) -> None:
        if message.type == "error" and "favicon" not in (message.location or {}).get("url", ""):
            errors.append(message.text)

    page.on("console", console)


def _settled(page) -> None:
    """Wait until every chart on the page is drawn."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(el => el.dataset.drawn)"
    )


def _problems(page, width: int) -> list[str]:
    problems = []
    try:  # the charts redraw for the new width a moment after the window is resized
        page.wait_for_function(
            "w => document.documentElement.scrollWidth <= w", arg=width, timeout=3000
        )
    except PlaywrightTimeout:
        scroll = page.evaluate("() => document.documentElement.scrollWidth")
        problems.append(f"page {scroll} px wide")
    text = page.locator("main").inner_text()
    problems += [f"raw text {match.group(0)!r}" for match in RAW.finditer(text)]
    return problems


def test_every_money_page_fits_every_screen_for_every_role(browser, live_server):
    from portfolio.models import Portfolio

    _seed_demo()
    portfolio = Portfolio.objects.get(name="Everyday Banking")
    pages = _pages(portfolio)
    ARTIFACTS.mkdir(exist_ok=True)
    failures: list[str] = []
    for role, names in ROLES.items():
        login = role.removesuffix("-transparent")
        Portfolio.objects.filter(pk=portfolio.pk).update(
            funding_transparency=role == "member-transparent"
        )
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": WIDTHS[0], "height": 900}
        )
        page = context.new_page()
        errors: list[str] = []
        _collect_errors(page, errors)
        log_in(page, login, PASSWORD)
        for name in names:
            response = page.goto(pages[name])
            if response.status != 200:
                failures.append(f"{role} {name}: HTTP {response.status}")
                continue
            _settled(page)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                failures += [f"{role} {name} {width}: {p}" for p in _problems(page, width)]
                page.screenshot(
                    path=str(ARTIFACTS / f"money-{role}-{name}-{width}.png"), full_page=True
                )
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
            failures += [f"{role} {name}: console {error}" for error in errors]
            errors.clear()
        if role == "member":
            refused = page.goto(pages["investment"])
            assert refused.status == 403  # money stays hidden without funding transparency
        context.close()
    assert not failures, "\n".join(failures)
