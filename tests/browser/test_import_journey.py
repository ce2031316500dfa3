"""The Lean PMO's import journey in a real browser, with a real Celery worker doing the import."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from valuestreams.models import StateMapping, WorkItem

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

DATA = Path(__file__).resolve().parents[1] / "valuestreams" / "data"


def test_lean_pmo_imports_the_csv_pair_watches_it_finish_and_reviews_the_mapping(
    org,
    page,
    shot,
    celery_worker,
):
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/")
    page.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Import work items", level=1)).to_be_visible()
    page.get_by_label("CSV pair (issues + status changes)").check()
    page.set_input_files("#id_file", str(DATA / "issues.csv"))
    page.set_input_files("#id_changes_file", str(DATA / "changes.csv"))
    shot(page, "pmo-import-upload")
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/imports/*/")
    expect(page.get_by_text("uploaded; a worker runs it now.")).to_be_visible()
    # htmx polls the progress fragment until the worker is done
    page.get_by_text("5 work items created").wait_for(timeout=60_000)
    assert page.locator("progress.import-bar").get_attribute("value") == "100"
    expect(
        page.get_by_role("cell", name="no team named 'Payments'", exact=False).first
    ).to_be_visible()
    shot(page, "pmo-import-done")
    assert WorkItem.objects.filter(portfolio=org.portfolio).count() == 5

    page.get_by_role("link", name="Mappings").first.click()
    expect(page.get_by_role("heading", name="Status and type mappings")).to_be_visible()
    review = page.get_by_role("row", name="In Review")
    expect(review.get_by_text("Default", exact=True)).to_be_visible()
    review.get_by_role("combobox").select_option("waiting")
    shot(page, "pmo-mapping")
    page.get_by_role("button", name="Save mappings").click()
    expect(page.get_by_text("Saved 1 change(s); the metrics are being recomputed.")).to_be_visible()
    expect(page.get_by_role("row", name="In Review").get_by_text("Explicit")).to_be_visible()
    assert StateMapping.objects.get(portfolio=org.portfolio).flow_state == "waiting"
