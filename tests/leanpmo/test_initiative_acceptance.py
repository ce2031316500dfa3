"""The skeptical PMO's test of issue 14, end to end through the API and the pages."""

import csv
import datetime as dt
import io
import json

import time_machine
from django.urls import reverse

from leanpmo.models import DecisionKind, FundingDecision, Initiative
from tests.leanpmo.initiative_support import HYPOTHESIS, cards_team
from tests.leanpmo.support import funding_for


def _json(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _move(client, initiative_id, to_state, reason="Next step."):
    url = reverse("api:initiative-transitions", args=[initiative_id])
    return _json(client, "post", url, {"to_state": to_state, "reason": reason})


def _walk_to_ready(client, initiative_id):
    for state in ("reviewing", "analysing", "ready"):
        assert _move(client, initiative_id, state).status_code == 201


def _pyramid_strategic(client, org, period) -> int:
    response = client.get(reverse("investment-mix", args=[org.portfolio.pk]), {"period": period.pk})
    rows = response.context["pyramid"]["charts"]["pyramid"]["rows"]  # as people read them
    return int({row[0]: row[1] for row in rows}["Strategic initiative"])


# inside the org's funding period (2026 Q2), so starts and stops are decisions of that period
@time_machine.travel(dt.datetime(2026, 5, 15, 10, tzinfo=dt.UTC), tick=True)
def test_the_skeptical_pmo(org, client_for):
    period = funding_for(org).period
    pmo, executive = client_for("pmo"), client_for("executive")
    member, outsider = client_for("member"), client_for("outsider")

    # the cap is 2
    cap = _json(
        pmo, "post", reverse("api:guardrail-list"),
        {"portfolio": org.portfolio.pk, "kind": "max_strategic_wip", "max_count": 2},
    )  # fmt: skip
    assert cap.status_code == 201, cap.json()
    assert cap.json()["description"] == "At most 2 strategic initiatives in progress"

    # three strategic initiatives, linked to teams in two value streams
    ids = []
    for title in ("Open banking", "Instant credit", "Wealth app"):
        created = _json(
            pmo, "post", reverse("api:initiative-list"),
            {"portfolio": org.portfolio.pk, "title": title,
             "teams": [org.team.pk, cards_team(org).pk], **HYPOTHESIS},
        )  # fmt: skip
        assert created.status_code == 201, created.json()
        assert created.json()["work_shape"] == "strategic_initiative"
        ids.append(created.json()["id"])
        _walk_to_ready(pmo, ids[-1])
    first, second, third = ids

    # two go into implementing
    assert _move(pmo, first, "implementing").status_code == 201
    assert _move(pmo, second, "implementing").status_code == 201
    assert _pyramid_strategic(executive, org, period) == 2

    # the third is refused, naming the guardrail: 409 over the API, a message on the page
    refused = _move(pmo, third, "implementing")
    assert refused.status_code == 409
    assert "At most 2 strategic initiatives in progress" in refused.json()["detail"]
    assert refused.json()["guardrail"]["id"] == cap.json()["id"]
    page = pmo.post(
        reverse("initiative-move", args=[third]),
        {"to_state": "implementing", "reason": "Now."},
        headers={"HX-Request": "true"},
    )
    assert page.status_code == 409
    assert (
        "Refused by the guardrail “At most 2 strategic initiatives in progress”"
        in page.content.decode()
    )
    assert Initiative.objects.get(pk=third).state == "ready"

    # a member may read the board but not move; an outsider learns nothing
    assert member.get(reverse("initiative-board", args=[org.portfolio.pk])).status_code == 200
    assert _move(member, third, "implementing").status_code == 403
    assert (
        member.post(reverse("initiative-move", args=[third]), {"to_state": "stopped"}).status_code
        == 403
    )
    for url in (
        reverse("initiative-board", args=[org.portfolio.pk]),
        reverse("initiative-detail", args=[third]),
        reverse("api:initiative-detail", args=[third]),
        reverse("api:initiative-transitions", args=[third]),
    ):
        assert outsider.get(url).status_code == 404, url
    assert _move(outsider, third, "implementing").status_code == 404
    assert outsider.get(reverse("api:initiative-list")).json()["count"] == 0

    # an executive approves an exception and the move succeeds, linked to the decision
    asked = pmo.post(
        reverse("initiative-exception", args=[third]), {"reason": "The regulator's deadline."}
    )
    assert asked.status_code == 302
    exception = FundingDecision.objects.get(initiative_id=third, kind=DecisionKind.EXCEPTION)
    approved = executive.post(
        reverse("decision-approval", args=[exception.pk]), {"approved": "yes", "note": "Go."}
    )
    assert approved.status_code == 302
    moves = member.get(reverse("api:initiative-transitions", args=[third])).json()
    assert moves[-1]["to_state"] == "implementing"
    assert moves[-1]["decision"] == exception.pk
    assert _pyramid_strategic(executive, org, period) == 3

    # WSJF 8 / 5 / 3 over job size 5 is 3.2 on the page, in the API and in the export
    wsjf = _json(
        pmo, "patch", reverse("api:initiative-wsjf", args=[first]),
        {"user_business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 5},
    )  # fmt: skip
    assert wsjf.json()["wsjf"] == 3.2
    detail = member.get(reverse("initiative-detail", args=[first])).content.decode()
    assert '<span class="wsjf">3.2</span>' in detail
    assert member.get(reverse("api:initiative-detail", args=[first])).json()["wsjf"] == 3.2
    export = pmo.get(
        reverse("initiative-export", args=[org.portfolio.pk, "csv"]), {"q": "Open banking"}
    )
    (row,) = csv.DictReader(io.StringIO(export.content.decode()))
    assert (row["wsjf"], row["job_size"], row["cost_of_delay"]) == ("3.2", "5", "16")
    # clearing the job size shows no score
    _json(pmo, "patch", reverse("api:initiative-wsjf", args=[first]), {"job_size": None})
    detail = member.get(reverse("initiative-detail", args=[first])).content.decode()
    assert '<span class="wsjf">—</span>' in detail
    assert member.get(reverse("api:initiative-detail", args=[first])).json()["wsjf"] is None

    # labelling a team mission while linking two teams is refused
    mislabelled = _json(
        pmo, "patch", reverse("api:initiative-detail", args=[first]),
        {"work_shape": "team_mission"},
    )  # fmt: skip
    assert mislabelled.status_code == 400
    assert "A team mission has exactly one team" in mislabelled.json()["work_shape"][0]
    form = pmo.post(
        reverse("initiative-create", args=[org.portfolio.pk]),
        {"title": "Labelled", "funding_mode": "capacity", "work_shape": "team_mission",
         "teams": [org.team.pk, org.other_team.pk]},
    )  # fmt: skip
    assert form.status_code == 400
    assert "A team mission has exactly one team" in form.content.decode()

    # a stop without a reason is refused; with one it leaves the WIP, is in the decision log,
    # and the pyramid changes
    assert _move(pmo, second, "stopped", reason="").status_code == 400
    stopped = _move(pmo, second, "stopped", reason="Customers already pay by card: no demand.")
    assert stopped.status_code == 201
    board = member.get(reverse("initiative-board", args=[org.portfolio.pk])).content.decode()
    assert "2 of 2" in board
    assert "Customers already pay by card: no demand." in board
    log = executive.get(reverse("decision-log", args=[org.portfolio.pk])).content.decode()
    assert "Stop Instant credit" in log
    assert _pyramid_strategic(executive, org, period) == 2
