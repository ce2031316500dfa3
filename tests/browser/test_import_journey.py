"""The Lean PMO's import journey in a real browser, with a real Celery worker doing the import."""

from pathlib import Path

import pytest

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
    assert page.get_by_role("heading", name="Import work items", level=1).is_visible()
    page.get_by_label("CSV pair (issues + status changes)").check()
    page.set_input_files("#id_file", str(DATA / "issues.csv"))
    page.set_input_files("#id_changes_file", str(DATA / "changes.csv"))
    shot(page, "pmo-import-upload")
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/imports/*/")
    assert page.get_by_text("uploaded; a worker runs it now.").is_visible()
    # htmx polls the progress fragment until the worker is done
    page.get_by_text("5 work items created").wait_for(timeout=60_000)
    assert page.locator("progress.import-bar").get_attribute("value") == "100"
    assert page.get_by_role("cell", name="no team named 'Payments'", exact=False).first.is_visible()
    shot(page, "pmo-import-done")
    assert WorkItem.objects.filter(portfolio=org.portfolio).count() == 5

    page.get_by_role("link", name="Mappings").first.click()
    assert page.get_by_role("heading", name="Status and type mappings").is_visible()
    review = page.get_by_role("row", name="In Review")
    assert review.get_by_text("Default", exact=True).is_visible()
    review.get_by_role("combobox").select_option("waiting")
    shot(page, "pmo-mapping")
    page.get_by_role("button", name="Save mappings").click()
    assert page.get_by_text("Saved 1 change(s); the metrics are being recomputed.").is_visible()
    assert page.get_by_role("row", name="In Review").get_by_text("Explicit").is_visible()
    assert StateMapping.objects.get(portfolio=org.portfolio).flow_state == "waiting"
