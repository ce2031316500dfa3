"""Initiative pages: who gets what, the kanban, moves by htmx, the list and its export, the pyramid."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from leanpmo.models import Initiative
from leanpmo.services.initiative_edits import initiative_create, initiative_update
from tests.access import EDITORS, READERS, AccessContract
from tests.leanpmo.initiative_support import (
    HYPOTHESIS,
    T0,
    initiative_for,
    set_cap,
    start,
    strategic,
    to_ready,
)
from tests.leanpmo.support import funding_for

MONEY_READERS = {**READERS, "member": 403}
POSTED = {**EDITORS, "pmo": 400, "admin": 400}  # an empty move is refused with its reason


_initiative = initiative_for


class PortfolioPage(AccessContract):
    expected = READERS

    def url_kwargs(self, org):
        _initiative(org)
        return {"pk": org.portfolio.pk}


class TestBoardAccess(PortfolioPage):
    url_name = "initiative-board"


class TestListAccess(PortfolioPage):
    url_name = "initiative-list"


class TestExportAccess(PortfolioPage):
    url_name = "initiative-export"

    def url_kwargs(self, org):
        return {**super().url_kwargs(org), "fmt": "xlsx"}


class TestFlowCsvAccess(PortfolioPage):
    url_name = "initiative-flow-csv"

    def url_kwargs(self, org):
        return {**super().url_kwargs(org), "table": "state-days"}


class TestPyramidCsvAccess(PortfolioPage):
    url_name = "initiative-pyramid-csv"
    expected = MONEY_READERS

    def url_kwargs(self, org):
        return {**super().url_kwargs(org), "chart": "pyramid"}


class TestCreateAccess(PortfolioPage):
    url_name = "initiative-create"
    expected = EDITORS


class TestCreatePostAccess(TestCreateAccess):
    method = "post"
    expected = POSTED


class InitiativePage(AccessContract):
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": _initiative(org).pk}


class TestDetailAccess(InitiativePage):
    url_name = "initiative-detail"


class TestEditAccess(InitiativePage):
    url_name = "initiative-edit"
    expected = EDITORS


class TestMoveAccess(InitiativePage):
    url_name = "initiative-move"
    method = "post"
    expected = POSTED


class TestExceptionAccess(InitiativePage):
    url_name = "initiative-exception"
    method = "post"
    expected = POSTED


def _board(client, org):
    return client.get(reverse("initiative-board", args=[org.portfolio.pk]))


def test_the_board_shows_columns_cards_and_the_cap(org, client_for):
    set_cap(org, 2)
    running = start(org, strategic(org, "Open banking"))
    initiative_update(
        initiative=running, user=org.users["pmo"], user_business_value=8, time_criticality=5,
        risk_reduction=3, job_size=5,
    )  # fmt: skip
    response = _board(client_for("member"), org)
    assert response.status_code == 200
    html = response.content.decode()
    for column in ("Funnel", "Reviewing", "Analysing", "Ready", "Implementing", "Done"):
        assert f'id="col-{column.lower()}"' in html
    assert "Stopped — what we learned" in html
    card = re.search(rf'id="initiative-{running.pk}".*?</li>', html, re.S).group(0)
    assert "Strategic initiative" in card
    assert '<span class="wsjf">3.2</span>' in card
    assert "= (8 + 5 + 3) ÷ 5" in card
    assert "Capacity" in card
    assert "In implementing" in card
    assert "1 of 2" in html
    assert "Move" not in card  # members read


def test_cards_are_ordered_by_wsjf_in_the_review_columns(org, client_for):
    funding_for(org)
    for title, size in (("Low", 20), ("None", None), ("High", 2)):
        item = initiative_create(
            portfolio=org.portfolio, user=org.users["pmo"], now=T0, title=title,
            teams=[org.team], user_business_value=8, time_criticality=5, risk_reduction=3,
            job_size=size,
        )  # fmt: skip
        to_ready(org, item)
    html = _board(client_for("pmo"), org).content.decode()
    ready = html.split('id="col-ready"')[1].split("</section>")[0]
    assert ready.index(">High<") < ready.index(">Low<") < ready.index(">None<")
    assert '<span class="wsjf">—</span>' in ready


def test_the_pmo_moves_a_card_by_htmx_and_gets_the_board_back(org, client_for):
    initiative = strategic(org, "Open banking")
    response = client_for("pmo").post(
        reverse("initiative-move", args=[initiative.pk]),
        {"to_state": "reviewing", "reason": "Worth a look."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="board"')
    assert "Open banking moved to Reviewing." in html
    initiative.refresh_from_db()
    assert initiative.state == "reviewing"


def test_a_refused_move_names_the_guardrail_with_409(org, client_for):
    set_cap(org, 1)
    start(org, strategic(org, "A"))
    waiting = to_ready(org, strategic(org, "B"))
    response = client_for("pmo").post(
        reverse("initiative-move", args=[waiting.pk]),
        {"to_state": "implementing", "reason": "Now."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Refused by the guardrail “At most 1 strategic initiative in progress”" in html
    assert reverse("initiative-exception", args=[waiting.pk]) in html
    plain = client_for("pmo").post(
        reverse("initiative-move", args=[waiting.pk]), {"to_state": "implementing", "reason": "!"}
    )
    assert plain.status_code == 409
    assert "<h1>The portfolio's bets</h1>" in plain.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == "ready"


def test_a_move_without_a_reason_is_refused_with_400(org, client_for):
    initiative = strategic(org, "A")
    response = client_for("pmo").post(
        reverse("initiative-move", args=[initiative.pk]), {"to_state": "stopped", "reason": ""}
    )
    assert response.status_code == 400
    assert "A stop needs its learning" in response.content.decode()
    initiative.refresh_from_db()
    assert initiative.state == "funnel"


def test_the_exception_request_leads_to_the_decision_for_an_executive(org, client_for):
    set_cap(org, 1)
    start(org, strategic(org, "A"))
    waiting = to_ready(org, strategic(org, "B"))
    response = client_for("pmo").post(
        reverse("initiative-exception", args=[waiting.pk]), {"reason": "Regulator's deadline."}
    )
    assert response.status_code == 302
    decision = waiting.decisions.get()
    assert response["Location"] == reverse("decision-detail", args=[decision.pk])
    page = client_for("executive").get(response["Location"]).content.decode()
    assert "Approve this exception" in page
    approve = client_for("executive").post(
        reverse("decision-approval", args=[decision.pk]), {"approved": "yes", "note": "Go."}
    )
    assert approve.status_code == 302
    waiting.refresh_from_db()
    assert waiting.state == "implementing"
    detail = client_for("member").get(reverse("initiative-detail", args=[waiting.pk]))
    assert "approved by" in detail.content.decode()


def test_the_detail_page_shows_hypothesis_wsjf_moves_and_history(org, client_for):
    initiative = start(org, strategic(org, "Open banking", job_size=5, user_business_value=8))
    initiative_update(initiative=initiative, user=org.users["pmo"], time_criticality=5)
    html = client_for("executive").get(reverse("initiative-detail", args=[initiative.pk])).content
    html = html.decode()
    assert "customers who pay in one tap" in html
    assert "no score without risk reduction / opportunity enablement" in html
    assert (
        '<td class="lead-cell"><strong>Funnel</strong></td>' in html
    )  # the first move is its creation
    assert "Added to the funnel." in html
    assert "Ready → <strong>Implementing</strong>" in html
    assert "Time criticality: — → <strong>5</strong>" in html


def test_the_form_creates_and_refuses_a_contradicting_shape(org, client_for):
    funding_for(org)
    client = client_for("pmo")
    url = reverse("initiative-create", args=[org.portfolio.pk])
    data = {
        "title": "Faster rails", "funding_mode": "capacity", "work_shape": "team_mission",
        "teams": [org.team.pk, org.other_team.pk], "job_size": "5",
    }  # fmt: skip
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "A team mission has exactly one team" in refused.content.decode()
    assert not Initiative.objects.exists()
    created = client.post(url, {**data, "work_shape": "product_group"})
    assert created.status_code == 302
    assert Initiative.objects.get().work_shape == "product_group"


def test_members_never_see_money_on_initiative_pages_without_transparency(org, client_for):
    initiative = strategic(
        org, "Core swap", funding_mode="fixed_scope", end_date=T0.date(),
        scope_budget=Decimal("450000"), cost_estimate=Decimal("470000"),
    )  # fmt: skip
    for url in (
        reverse("initiative-board", args=[org.portfolio.pk]),
        reverse("initiative-detail", args=[initiative.pk]),
        reverse("initiative-list", args=[org.portfolio.pk]),
    ):
        member = client_for("member").get(url).content.decode()
        assert "450" not in member, url
        assert "470" not in member, url
        assert "450" in client_for("executive").get(url).content.decode(), url
    rows = _csv(
        client_for("member").get(reverse("initiative-export", args=[org.portfolio.pk, "csv"]))
    )
    assert "scope_budget" not in rows[0]
    org.portfolio.funding_transparency = True
    org.portfolio.save()
    assert (
        "450"
        in client_for("member")
        .get(reverse("initiative-list", args=[org.portfolio.pk]))
        .content.decode()
    )


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_list_filters_and_exports_the_wsjf_inputs(org, client_for):
    set_cap(org, 5)
    one = strategic(org, "=cmd|' /C calc'!A0", user_business_value=8, time_criticality=5,
                    risk_reduction=3, job_size=5)  # fmt: skip
    funding_for(org)
    initiative_create(
        portfolio=org.portfolio, user=org.users["pmo"], now=T0, title="Mission", teams=[org.team]
    )
    client = client_for("pmo")
    url = reverse("initiative-list", args=[org.portfolio.pk])
    html = client.get(url, {"shape": "strategic_initiative"}).content.decode()
    assert "Mission" not in html
    assert "calc" in html
    rows = _csv(
        client.get(reverse("initiative-export", args=[org.portfolio.pk, "csv"]), {"q": "calc"})
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["title"].startswith("'=")  # neutralised formula
    assert (row["user_business_value"], row["time_criticality"]) == ("8", "5")
    assert (row["risk_reduction_opportunity_enablement"], row["job_size"]) == ("3", "5")
    assert row["wsjf"] == "3.2"
    sheet = load_workbook(
        io.BytesIO(
            client.get(reverse("initiative-export", args=[org.portfolio.pk, "xlsx"])).content
        )
    ).active
    header = [cell.value for cell in sheet[1]]
    values = {
        row[1]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert values["'=cmd|' /C calc'!A0"]["wsjf"] == 3.2
    assert values["Mission"]["wsjf"] is None
    initiative_update(initiative=one, user=org.users["pmo"], job_size=None)
    cleared = _csv(
        client.get(reverse("initiative-export", args=[org.portfolio.pk, "csv"]), {"q": "calc"})
    )
    assert cleared[0]["wsjf"] == ""
    bad = client.get(url, {"team": "999999"})
    assert bad.status_code == 400


def test_the_investment_page_shows_the_pyramid_and_a_stop_changes_it(org, client_for):
    set_cap(org, 2)
    funding = funding_for(org)
    running = start(org, strategic(org, "A"))
    client = client_for("executive")
    url = reverse("investment-mix", args=[org.portfolio.pk])
    before = client.get(url, {"period": funding.period.pk})
    pyramid = before.context["pyramid"]["charts"]["pyramid"]
    assert "Work-shape pyramid" in before.content.decode()
    counts = {row[0]: row[1] for row in pyramid["rows"]}
    assert counts["Strategic initiative"] == "1"
    from leanpmo.services.initiative_moves import initiative_move
    from tests.leanpmo.test_initiatives import LATER

    initiative_move(
        initiative=running, to_state="stopped", reason="Learned enough.", user=org.users["pmo"],
        now=LATER,
    )  # fmt: skip
    after = client.get(url, {"period": funding.period.pk}).context["pyramid"]["charts"]["pyramid"]
    assert {row[0]: row[1] for row in after["rows"]}["Strategic initiative"] == "0"
    csv_rows = _csv(
        client.get(
            reverse("initiative-pyramid-csv", args=[org.portfolio.pk, "cap"]),
            {"period": funding.period.pk},
        )
    )
    assert csv_rows[0]["Cap"] == "2"


def test_the_decision_log_lists_start_and_stop_as_initiative_decisions(org, client_for):
    from leanpmo.services.initiative_moves import initiative_move
    from tests.leanpmo.test_initiatives import LATER

    running = start(org, strategic(org, "Open banking"))
    initiative_move(
        initiative=running, to_state="stopped", reason="No demand.", user=org.users["pmo"],
        now=LATER,
    )  # fmt: skip
    html = client_for("executive").get(reverse("decision-log", args=[org.portfolio.pk])).content
    html = html.decode()
    assert "Start Open banking" in html
    assert "Stop Open banking" in html
    assert "with its learning" in html
    stop = running.decisions.get(kind="stop")
    detail = (
        client_for("executive").get(reverse("decision-detail", args=[stop.pk])).content.decode()
    )
    assert "kind-learning" in detail
    assert "customers who pay in one tap" in detail  # the frozen hypothesis


@pytest.mark.parametrize("who", ["member", "pmo"])
def test_board_and_list_query_counts_do_not_grow_with_initiatives(org, client_for, who):
    set_cap(org, 10)
    start(org, strategic(org, "First"))
    client = client_for(who)
    urls = [
        reverse("initiative-board", args=[org.portfolio.pk]),
        reverse("initiative-list", args=[org.portfolio.pk]),
        reverse("initiative-export", args=[org.portfolio.pk, "csv"]),
    ]

    def counts():
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        return result

    few = counts()
    for number in range(6):
        item = strategic(org, f"More {number}", **HYPOTHESIS)
        if number % 2:
            start(org, item)
    assert counts() == few


def test_the_guardrail_page_shows_the_cap_with_the_work_in_progress(org, client_for):
    set_cap(org, 2)
    start(org, strategic(org, "A"))
    html = client_for("executive").get(reverse("guardrail-list", args=[org.portfolio.pk])).content
    assert "At most 2 strategic initiatives in progress · " in html.decode()
    assert "1 in progress now" in html.decode()
