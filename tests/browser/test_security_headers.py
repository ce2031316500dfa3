"""Chromium under Steward's Content-Security-Policy: charts draw, htmx works, the API docs and the
admin render, and nothing is blocked (the `page` fixture fails a test on any CSP violation)."""

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_flow_pages_journey import published  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_charts_draw_under_the_policy(published, page, shot):  # noqa: F811
    org = published
    log_in(page, "executive")
    response = page.goto(f"/value-streams/{org.value_stream.pk}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#vs-velocity-panel svg.main-svg")
    # every chart of the flow section drew (seven flow charts and the DORA trend)
    assert page.locator("#flow .chart .plot-container").count() == 8
    # Plotly drew bars and its hover layer: its inline style attributes were applied
    assert page.locator("#vs-velocity-panel .bars path, #vs-velocity-panel .trace").count() > 0
    page.locator("#vs-velocity-panel .plot-container").hover()
    shot(page, "csp-value-stream-charts")


def test_the_api_docs_render_under_their_own_policy(org, page):
    log_in(page, "pmo")
    response = page.goto("/api/v1/docs/")
    assert "style-src 'self' 'unsafe-inline'" in response.headers["content-security-policy"]
    assert (
        "'unsafe-inline'"
        not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )
    page.wait_for_selector(".swagger-ui .opblock-tag")
    assert page.locator(".opblock").count() > 20
    page.screenshot(path=str(ARTIFACTS / "csp-swagger.png"))
    page.goto("/api/v1/redoc/")
    page.wait_for_selector("[role=search], .api-content h1, h1")
    page.get_by_text("Steward API").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "csp-redoc.png"))


def test_the_browsable_api_and_the_admin_render(org, page, shot):
    log_in(page, "admin")
    page.goto("/api/v1/teams/")
    page.get_by_text("Instant Payments").first.wait_for()
    page.goto("/admin/")
    page.get_by_role("link", name="Integration tokens").wait_for()
    page.goto("/admin/portfolio/portfolio/")
    page.get_by_role("link", name="Everyday Banking").click()
    page.wait_for_selector("#portfolio_form")
    shot(page, "csp-admin")


# URLs that take a POST only (405 or a redirect on GET): no page of their own to render
POST_ONLY = {"logout", "funding-preview", "period-status", "key-result-closing", "scenario-preview",
             "scenario-refresh", "initiative-move", "initiative-exception"}  # fmt: skip


def test_every_page_renders_without_a_csp_violation(published, page):  # noqa: F811
    """Every page of the URL sweep, as the admin (who may open them all); the `page` fixture fails
    the test on any violation Chromium reports."""
    from django.urls import reverse

    from tests.test_url_sweep import LISTS, OBJECT_KWARGS

    org = published
    names = [
        name
        for name in sorted(set(OBJECT_KWARGS) | LISTS)
        if not name.startswith("api")
        and not name.endswith(("-csv", "-export", "-errors"))
        and name not in POST_ONLY
    ]
    urls = [reverse(name, kwargs=OBJECT_KWARGS.get(name, lambda _: {})(org)) for name in names]
    log_in(page, "admin")
    for url in urls:
        response = page.goto(url)
        page.wait_for_load_state("load")
        assert response.headers.get("content-security-policy"), url
    assert len(urls) > 40
