"""Every HTML page of Steward in Chromium, on the demo bank as `make run` seeds it, as each role
reads it on a phone (390 px), a laptop (1440 px) and a projector (1920 px).

One sweep, each page loaded once per role and width (a test per role and width, so the workers
share them), every check made on that load:

- the page answers 200; every chart is drawn (a Plotly SVG per ``[data-chart]``, each marked drawn)
  and no label written on a chart runs past its edge;
- the page does not scroll sideways (``scrollWidth`` ≤ ``clientWidth`` ≤ the window's width);
- no console error and no script error;
- on the money pages, no raw number, field name, dict dump, None or NaN in the text of
  ``<main>`` (``RAW``), and on every page no ISO week, dict dump, None, NaN or internal name
  (``ANYWHERE``); a member without funding transparency sees no money on any page;
- on a laptop and a projector (1440, 1920 px) no table hides columns behind its scrollbar;
- the first Tab reaches the skip link and shows a visible focus ring; on the phone, Enter on it
  takes the focus to ``#main``;
- a full-page screenshot in test-artifacts/every-page/<role>-<page>-<width>.png for people to look at.

The pages: every named URL of the URL sweep (tests/test_url_sweep.py, its object URLs pointed into
the demo's Everyday Banking, Payments & Transfers and Instant Payments) that answers the person a
whole HTML page, and the money pages in each state the demo has (the current and the draft period,
a stream's and a bet's exception waiting for approval, a reviewed decision). The Lean PMO sees them
all at every width; the executive and the team member see them all on the phone and, at 1440 and
1920, their executive screens and money pages; a member of a portfolio with funding transparency
sees the money pages everyone may read. On top: the executive opens a folded value-stream objective
on the outcomes page (htmx), and a member without funding transparency is refused the money pages.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import Org
from tests.demo_database import DEMO_TODAY
from tests.test_url_sweep import ALL_NAMES, OBJECT_KWARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOLDER = ARTIFACTS / "every-page"
WIDTHS = {390: 844, 1440: 900, 1920: 1080}  # width → the window's height
ROLES = ("pmo", "executive", "member", "member-transparent")
RUNS = [(role, width) for role in ROLES for width in WIDTHS]
# downloads, fragments htmx swaps in, and pages that end the session
NOT_PAGES = ("-csv", "-export", "-progress", "-errors", "-branch", "logout", "sso-")
# what a page for people never shows: raw money ("342157.00"), field names, dict dumps, None, NaN,
# a lone 1 with a plural ("1 days"; "18.1 days" and "2027 Q1 changes" are right)
RAW = re.compile(
    r"\b\d{4,}\.\d\d\b|amount_(run|grow|transform)|alloc_|theme_split|fixed_scope_amount"
    r"|\{'|\bNone\b|\bnan\b|\[object|\d+\.0[ \xa0]min|(?<![\w.,])1[ \xa0][a-z]+s\b"
)
# what no page for people shows, money or not: an ISO week ("2026-W46"), None, NaN, dict dumps
ANYWHERE = re.compile(
    r"\b\d{4}-W\d\d\b|\{'|\bNone\b|\bnan\b|\[object"
    r"|\b(?:stale_outcomes|money_flow_disagree|value_stream_id|team_id|flow_time_p85_s)\b"
)
# the executive screens: what the executive and the member read at every width
SCREENS = (
    "home",
    "portfolio-detail",
    "value-stream-detail",
    "team-detail",
    "portfolio-outcomes",
    "signal-inbox",
)
# the money pages each role reads, by the names of `money_pages`
READS = ["periods", "editor", "budget", "guardrails", "decisions", "decision", "decision-reviewed",
         "investment", "board", "initiatives", "initiative"]  # fmt: skip
MONEY = {
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


def demo_org() -> Org:
    """The demo as the URL sweep's `org`: its object URLs then point at the demo's own objects
    (the sweep's helpers take the first of each kind they find, and make one only if none is)."""
    from django.contrib.auth import get_user_model

    from portfolio.models import Portfolio
    from teams.models import ProductTeam
    from valuestreams.models import ValueStream

    portfolio = Portfolio.objects.get(name="Everyday Banking")
    stream = ValueStream.objects.get(portfolio=portfolio, name="Payments & Transfers")
    team = ProductTeam.objects.get(value_stream=stream, name="Instant Payments")
    other_portfolio = Portfolio.objects.exclude(pk=portfolio.pk).order_by("pk").first()
    other_stream = ValueStream.objects.filter(portfolio=other_portfolio).order_by("pk").first()
    users = get_user_model().objects.filter(
        username__in=["outsider", "member", "executive", "pmo", "admin"]
    )
    return Org(
        portfolio=portfolio,
        value_stream=stream,
        team=team,
        other_team=stream.teams.exclude(pk=team.pk).order_by("pk").first(),
        other_portfolio=other_portfolio,
        other_value_stream=other_stream,
        foreign_team=other_stream.teams.order_by("pk").first(),
        users={user.username: user for user in users},
    )


def _demo_scenario(org: Org) -> dict[str, int]:
    from leanpmo.models import Scenario

    return {"pk": Scenario.objects.filter(period__portfolio=org.portfolio).first().pk}


# where the URL sweep's helper would make an object the demo cannot take (a scenario of the
# portfolio's first period, which the demo has closed), the demo's own
DEMO_KWARGS = dict.fromkeys(
    ("scenario-detail", "scenario-preview", "scenario-promote", "scenario-refresh"), _demo_scenario
)


def demo_url(org: Org, name: str) -> str:
    """The URL of the sweep's `name` in the demo (making the object it needs if the demo has none:
    on every copy of the seeded demo the same object, with the same id)."""
    kwargs = DEMO_KWARGS.get(name) or OBJECT_KWARGS.get(name, lambda _: {})
    return reverse(name, kwargs=kwargs(org))


# role → the names `whole_pages` found, in this process: every copy of the seeded demo answers
# the same (the browser then proves each one 200 again)
_WHOLE_PAGES: dict[str, list[str]] = {}


def whole_pages(org: Org, role: str) -> dict[str, str]:
    """name → URL of every page of the URL sweep that answers `role` a whole HTML page."""
    names = [
        name
        for name in ALL_NAMES
        if not name.startswith("api:") and not any(part in name for part in NOT_PAGES)
    ]
    urls = {name: demo_url(org, name) for name in names}
    if role not in _WHOLE_PAGES:
        client = Client()
        client.force_login(org.users[role])
        found = []
        for name, url in urls.items():
            response = client.get(url)
            html = response.get("Content-Type", "").startswith("text/html")
            if response.status_code == 200 and html and b'<main id="main"' in response.content:
                found.append(name)
        _WHOLE_PAGES[role] = found
    return {name: urls[name] for name in _WHOLE_PAGES[role]}


def money_pages(portfolio) -> dict[str, str]:
    """Every leanpmo page of `portfolio` in each state the demo has, by a short name."""
    from leanpmo.models import FundingDecision, FundingPeriod, Initiative, Scenario
    from leanpmo.selectors.funding import current_period

    current = current_period(portfolio, today=DEMO_TODAY)
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


def pages_of(org: Org, role: str, width: int, money: dict[str, str]) -> dict[str, str]:
    """name → URL of the pages `role` is looked at with at `width` (each URL once); `money` is
    `money_pages`."""
    pages = {f"money-{name}": money[name] for name in MONEY[role]}
    if role == "member-transparent":
        return pages
    if role != "pmo" and width != 390:  # the executive screens
        walked = {name: demo_url(org, name) for name in SCREENS}
    else:
        walked = whole_pages(org, role)
        assert len(walked) >= (25 if role == "pmo" else 8), sorted(walked)  # the walk found them
        assert set(SCREENS) <= set(walked), sorted(set(SCREENS) - set(walked))
    urls = set(walked.values())
    return walked | {name: url for name, url in pages.items() if url not in urls}


def focus_problems(page, name: str, width: int) -> list[str]:
    """The first Tab reaches the skip link with a visible focus ring; on the phone, Enter on it
    moves the focus to the page's content."""
    page.keyboard.press("Tab")
    first = page.evaluate(
        """() => {
            const el = document.activeElement, style = getComputedStyle(el);
            return {cls: el.className,
                    ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
        }"""
    )
    if first["cls"] != "skip-link":
        return [f"{name}: the first Tab reaches .{first['cls']}, not the skip link"]
    problems = [] if first["ring"] else [f"{name}: the focused skip link has no visible outline"]
    if width == 390:
        page.keyboard.press("Enter")
        landed = page.evaluate("() => document.activeElement.id")
        if landed != "main":
            problems.append(f"{name}: the skip link leads to #{landed}, not #main")
    return problems


def load_problems(
    page, name: str, url: str, width: int, errors: list[str], *, raw: bool
) -> list[str]:
    """Load `url` and make every check of the sweep on it (see the module's docstring); the
    text is searched for raw values where `raw` (the money pages)."""
    errors.clear()
    response = page.goto(url)
    if response is None or response.status != 200:
        return [f"{name}: HTTP {response.status if response else None}"]
    page.wait_for_load_state("load")
    charts = page.locator("[data-chart]").count()
    if charts:
        page.wait_for_function(
            """n => document.querySelectorAll('[data-chart] svg.main-svg').length >= n
                && [...document.querySelectorAll('[data-chart]')].every(el => el.dataset.drawn)""",
            arg=charts,
            timeout=20_000,
        )
    problems = []
    sizes = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if sizes[0] > sizes[1] or sizes[0] > width:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .slice(0, 5).map(el => el.tagName + '.' + el.className)"""
        )
        problems.append(f"{name} scrolls sideways: {sizes[0]} px wide in {sizes[1]} px: {wide}")
    drawn = page.locator("[data-chart] svg.main-svg").count()
    if charts and drawn < charts:
        problems.append(f"{name}: {drawn} of {charts} charts drawn")
    cut_notes = page.evaluate(
        """() => [...document.querySelectorAll('[data-chart]')].flatMap(chart => {
            const box = chart.getBoundingClientRect();
            return [...chart.querySelectorAll('g.annotation')]
                .filter(note => note.getBoundingClientRect().right > box.right + 1)
                .map(note => note.textContent);
        })"""
    )
    problems += [f"{name}: a chart's label runs past its edge: {text!r}" for text in cut_notes]
    text = page.locator("main").inner_text()
    if name.startswith("member ") and "€" in text:  # no funding transparency: no money anywhere
        problems.append(f"{name}: shows money to a member")
    problems += [
        f"{name}: raw text {match.group(0)!r}"
        for match in (RAW if raw else ANYWHERE).finditer(text)
    ]
    if width >= 1440:  # on a laptop and a projector no table hides columns behind a scrollbar
        cut = page.evaluate(
            """() => [...document.querySelectorAll('main .table-scroll-x, main .table')]
                .filter(el => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
                .map(el => (el.id || el.className) + ' ' + el.scrollWidth + '>' + el.clientWidth)"""
        )
        problems += [f"{name}: a table is cut at {width} px: {box}" for box in cut]
    page.screenshot(path=str(FOLDER / f"{name.replace(' ', '-')}-{width}.png"), full_page=True)
    problems += focus_problems(page, name, width)
    return problems + [f"{name}: console: {error}" for error in errors]


def folded_objective_problems(page, url: str, errors: list[str]) -> list[str]:
    """A value-stream objective on the outcomes page opens with its team objectives (htmx)."""
    errors.clear()
    page.goto(url)
    page.wait_for_function("() => window.htmx !== undefined")
    folded = page.locator("details.okr-fold").first
    assert page.locator("details.okr-fold .okr-node").count() == 0  # nothing fetched yet
    folded.locator("summary").click()
    folded.locator(".okr-fold-body .okr-node.okr-team").first.wait_for()
    page.screenshot(path=str(FOLDER / "executive-outcomes-opened-1440.png"), full_page=True)
    teams = folded.locator(".okr-fold-body .okr-node.okr-team").count()
    problems = (
        [f"outcomes: the opened objective shows {teams} team objectives"] if not teams else []
    )
    return problems + [f"outcomes opened: console: {error}" for error in errors]


@pytest.mark.parametrize(("role", "width"), RUNS, ids=[f"{r}-{w}" for r, w in RUNS])
def test_every_page_fits_the_screen(demo_per_test, browser, live_server, role, width):
    from portfolio.models import Portfolio

    org = demo_org()
    login = role.removesuffix("-transparent")
    Portfolio.objects.filter(pk=org.portfolio.pk).update(
        funding_transparency=role == "member-transparent"
    )
    money = money_pages(org.portfolio)
    pages = pages_of(org, role, width, money)
    FOLDER.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": WIDTHS[width]}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, login)
    problems: list[str] = []
    money_urls = {money[name] for name in MONEY[role]}
    for name, url in pages.items():
        problems += load_problems(page, f"{role} {name}", url, width, errors, raw=url in money_urls)
    if role == "executive" and width == 1440:
        problems += folded_objective_problems(page, pages["portfolio-outcomes"], errors)
    if role == "member":
        refused = page.goto(money["investment"])
        assert refused.status == 403  # money stays hidden without funding transparency
    context.close()
    assert not problems, "\n".join(problems)
