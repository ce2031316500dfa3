"""Lean PMO's outcome pages: the portfolio's OKR cascade, objectives and key results, dependencies
between teams and pulse rounds — who may do what, bad input refused, queries that do not grow."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leanpmo.models import StrategicTheme
from teams.models import KeyResult, Objective, PulseQuestion, PulseRound, TeamInteraction
from teams.services.dependencies import team_interaction_record
from teams.services.objectives import key_result_create, objective_create, objective_update
from teams.services.pulse import pulse_round_open
from tests.access import EDITORS, NOBODY_BUT_ADMIN, READERS, AccessContract
from tests.factories import ProductTeamFactory, ValueStreamFactory
from tests.teams.factories import (
    KeyResultFactory,
    OutcomeUpdateFactory,
    PulseRoundFactory,
    TeamInteractionFactory,
    TeamObjectiveFactory,
)

EDITORS_POST = {**EDITORS, "pmo": 302, "admin": 302}
KEY_RESULT = {
    "metric": "Payments settled within 10 s",
    "unit": "%",
    "baseline": "80",
    "target": "99",
    "direction": "increase",
    "cadence_days": "14",
    "starts_on": "2025-01-06",
}


def _objective(org, level: str, **fields) -> Objective:
    scope = {
        "portfolio": {},
        "value_stream": {"value_stream": org.value_stream},
        "team": {"team": org.team, "value_stream": org.value_stream},
    }[level]
    fields = {"title": f"A {level} objective", **scope, **fields}
    return Objective.objects.create(portfolio=org.portfolio, level=level, **fields)


def _rows(model) -> list[dict]:
    return list(model.objects.values().order_by("pk"))


# --- who may do what ---------------------------------------------------------------------------


class TestOutcomesPageAccess(AccessContract):
    url_name = "portfolio-outcomes"
    expected = READERS

    def url_kwargs(self, org):
        KeyResultFactory(objective__team=org.team)
        return {"pk": org.portfolio.pk}


class TestAnotherPortfoliosOutcomesPageAccess(AccessContract):
    url_name = "portfolio-outcomes"
    expected = NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.other_portfolio.pk}


class TestObjectiveCreateFormAccess(AccessContract):
    url_name = "objective-create"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}


class TestObjectiveCreateAccess(AccessContract):
    url_name = "objective-create"
    method = "post"
    expected = EDITORS_POST

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}

    def payload(self, org):
        return {
            "level": "value_stream",
            "title": "Payments nobody notices",
            "value_stream": org.value_stream.pk,
        }


class TestObjectiveCreateInAnotherPortfolioAccess(AccessContract):
    url_name = "objective-create"
    method = "post"
    expected = {**NOBODY_BUT_ADMIN, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": org.other_portfolio.pk}

    def payload(self, org):
        return {"level": "portfolio", "title": "Lend in a day"}


class TestObjectiveEditAccess(AccessContract):
    url_name = "objective-edit"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": _objective(org, "value_stream").pk}


class TestObjectiveEditPostAccess(AccessContract):
    url_name = "objective-edit"
    method = "post"
    expected = EDITORS_POST

    def url_kwargs(self, org):
        return {"pk": _objective(org, "portfolio").pk}

    def payload(self, org):
        return {"level": "portfolio", "title": "Renamed"}


class TestKeyResultCreateAccess(AccessContract):
    url_name = "key-result-create"
    method = "post"
    expected = EDITORS_POST

    def url_kwargs(self, org):
        return {"pk": _objective(org, "team").pk}

    def payload(self, org):
        return KEY_RESULT


class TestKeyResultCreateFormAccess(AccessContract):
    url_name = "key-result-create"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": _objective(org, "team").pk}


class TestKeyResultEditAccess(AccessContract):
    url_name = "key-result-edit"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": KeyResultFactory(objective__team=org.team).pk}


class TestKeyResultClosingAccess(AccessContract):
    url_name = "key-result-closing"
    method = "post"
    expected = EDITORS_POST

    def url_kwargs(self, org):
        return {"pk": KeyResultFactory(objective__team=org.team).pk}

    def payload(self, org):
        return {"closed": "true"}


class TestKeyResultClosingIsPostOnly(AccessContract):
    url_name = "key-result-closing"
    expected = {**EDITORS, "pmo": 405, "admin": 405}

    def url_kwargs(self, org):
        return {"pk": KeyResultFactory(objective__team=org.team).pk}


class TestDependenciesPageAccess(AccessContract):
    url_name = "team-interactions"
    expected = EDITORS

    def url_kwargs(self, org):
        TeamInteractionFactory(team=org.team, depends_on=org.other_team)
        return {"pk": org.value_stream.pk}


class TestDependencyRecordAccess(AccessContract):
    url_name = "team-interactions"
    method = "post"
    expected = EDITORS_POST

    def url_kwargs(self, org):
        return {"pk": org.value_stream.pk}

    def payload(self, org):
        return {"team": org.team.pk, "depends_on": org.other_team.pk, "mode": "collaboration"}


class TestDependencyEditAccess(AccessContract):
    url_name = "team-interaction-edit"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": TeamInteractionFactory(team=org.team, depends_on=org.other_team).pk}


class TestPulseRoundCreateAccess(AccessContract):
    url_name = "pulse-round-create"
    method = "post"
    expected = EDITORS_POST

    def url_kwargs(self, org):
        return {"pk": org.team.pk}

    def payload(self, org):
        return {"opens_on": "2025-03-03", "closes_on": "2025-03-14", "questions": "I can ship."}


class TestPulseRoundCreateFormAccess(AccessContract):
    url_name = "pulse-round-create"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


# --- the outcomes page -------------------------------------------------------------------------


@pytest.fixture
def cascade(org):
    """Theme → portfolio objective → value-stream objective → team objective with a key result
    that has a check-in, and one stale key result on the value-stream objective."""
    theme = StrategicTheme.objects.create(portfolio=org.portfolio, name="Effortless everyday money")
    top = _objective(org, "portfolio", strategic_theme=theme, title="Customers never wait")
    stream = _objective(org, "value_stream", parent=top, title="Instant by default")
    team = _objective(org, "team", parent=stream, title="Settle in seconds")
    settled = KeyResultFactory(
        objective=team, metric="Settled within 10 s", baseline=80, target=100
    )
    OutcomeUpdateFactory(
        key_result=settled,
        value=Decimal("95"),
        posted_by=org.users["member"],
        posted_at=dt.datetime(2025, 5, 28, 9, tzinfo=dt.UTC),
    )
    stale = KeyResultFactory(
        objective=stream,
        metric="Scheme outages",
        unit="min",
        baseline=120,
        target=30,
        direction="decrease",
        starts_on=dt.date(2025, 1, 6),
    )
    return {
        "theme": theme,
        "top": top,
        "stream": stream,
        "team": team,
        "settled": settled,
        "stale": stale,
    }


@time_machine.travel(dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC), tick=False)
def test_the_outcomes_page_shows_the_cascade_from_theme_to_team_key_results(
    org, client_for, cascade
):
    response = client_for("executive").get(reverse("portfolio-outcomes", args=[org.portfolio.pk]))
    tree = response.context["tree"]
    assert [group.theme for group in tree.themes] == [cascade["theme"]]
    [top] = tree.themes[0].objectives
    [stream] = top.children
    [team] = stream.children
    assert (top.objective, stream.objective, team.objective) == (
        cascade["top"],
        cascade["stream"],
        cascade["team"],
    )
    [settled] = team.key_results
    assert (settled.latest["value"], settled.progress_percent, settled.stale) == (
        Decimal("95"),
        75,
        False,
    )
    [stale] = stream.key_results
    assert (stale.latest, stale.stale) == (None, True)
    assert (top.stale_count, top.progress_percent, tree.stale_count) == (1, 75, 1)
    html = response.content.decode()
    for text in ("Effortless everyday money", "Customers never wait", "Instant by default"):
        assert text in html
    # the value-stream objective is folded to its figures: its branch comes when opened
    assert "2 key results · 1 team objective" in html
    assert "Settle in seconds" not in html
    branch = reverse("objective-branch", args=[org.portfolio.pk, cascade["stream"].pk])
    assert f'hx-get="{branch}"' in html
    fragment = client_for("executive").get(branch, headers={"HX-Request": "true"}).content.decode()
    for text in ("Settle in seconds", "95 %", "Stale", "Scheme outages"):
        assert text in fragment
    assert "<html" not in fragment
    assert "Add a key result" not in html + fragment  # executives read
    # ?open= unfolds it in the page (where an edit returns, and without JavaScript)
    opened = client_for("executive").get(
        reverse("portfolio-outcomes", args=[org.portfolio.pk]), {"open": cascade["stream"].pk}
    )
    assert "Settle in seconds" in opened.content.decode()


def test_members_read_the_cascade_but_see_themes_only_with_funding_transparency(
    org, client_for, cascade
):
    url = reverse("portfolio-outcomes", args=[org.portfolio.pk])
    response = client_for("member").get(url)
    assert response.context["tree"].themes[0].theme is None
    assert "Effortless everyday money" not in response.content.decode()
    assert "Instant by default" in response.content.decode()
    org.portfolio.funding_transparency = True
    org.portfolio.save()
    assert "Effortless everyday money" in client_for("member").get(url).content.decode()


def test_objectives_not_linked_up_the_chain_are_listed_apart(org, client_for):
    lonely = _objective(org, "team", title="Nobody above us")
    tree = (
        client_for("pmo")
        .get(reverse("portfolio-outcomes", args=[org.portfolio.pk]))
        .context["tree"]
    )
    assert [node.objective for node in tree.unlinked] == [lonely]
    assert tree.themes == []


def test_the_portfolio_page_links_to_the_outcomes_page(org, client_for):
    html = (
        client_for("member")
        .get(reverse("portfolio-detail", args=[org.portfolio.pk]))
        .content.decode()
    )
    assert reverse("portfolio-outcomes", args=[org.portfolio.pk]) in html


@pytest.mark.parametrize("who", ["member", "pmo"])
def test_outcomes_page_query_count_does_not_grow_with_objectives(org, client_for, who):
    client = client_for(who)
    url = reverse("portfolio-outcomes", args=[org.portfolio.pk])
    StrategicTheme.objects.create(portfolio=org.portfolio, name="Grow")
    top = _objective(org, "portfolio")
    KeyResultFactory(
        objective=_objective(org, "team", parent=_objective(org, "value_stream", parent=top))
    )
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(6):
        stream = ValueStreamFactory(portfolio=org.portfolio)
        stream_objective = Objective.objects.create(
            portfolio=org.portfolio,
            level="value_stream",
            value_stream=stream,
            parent=top,
            title=f"S{n}",
        )
        KeyResultFactory(objective=stream_objective)
        for _ in range(2):
            team_objective = TeamObjectiveFactory(
                team=ProductTeamFactory(value_stream=stream), parent=stream_objective
            )
            key_result = KeyResultFactory(objective=team_objective)
            OutcomeUpdateFactory.create_batch(
                3, key_result=key_result, posted_by=org.users["member"]
            )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["tree"].objective_count == 3 + 6 * 3
    assert len(many.captured_queries) == len(few.captured_queries)


# --- objectives ----------------------------------------------------------------------------------


def test_lean_pmo_creates_a_team_objective_under_a_value_stream_objective(org, client_for):
    stream = _objective(org, "value_stream")
    client = client_for("pmo")
    form = client.get(
        reverse("objective-create", args=[org.portfolio.pk]), {"level": "team", "parent": stream.pk}
    )
    assert list(form.context["form"].fields["parent"].queryset) == [stream]
    assert set(form.context["form"].fields["team"].queryset) == {org.team, org.other_team}
    response = client.post(
        reverse("objective-create", args=[org.portfolio.pk]),
        {"level": "team", "title": "Settle in seconds", "team": org.team.pk, "parent": stream.pk},
    )
    assert response.status_code == 302
    objective = Objective.objects.get(title="Settle in seconds")
    assert (objective.level, objective.team, objective.value_stream, objective.parent) == (
        "team",
        org.team,
        org.value_stream,
        stream,
    )
    assert response["Location"].endswith(f"#objective-{objective.pk}")


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("parent at the wrong level", "parent", "Pick an objective one level up in this portfolio"),
        ("team of another portfolio", "team", "Pick a team of this portfolio."),
        (
            "parent of another value stream",
            "parent",
            "contributes to an objective of its own value stream",
        ),
        ("no title", "title", "This field is required."),
        ("no team", "team", "This field is required."),
        ("unknown level", "level", "Select a valid choice."),
    ],
)
def test_bad_objective_input_gets_a_clear_error_and_changes_nothing(
    org, client_for, case, field, message
):
    top = _objective(org, "portfolio")
    elsewhere = ValueStreamFactory(portfolio=org.portfolio, name="Cards")
    foreign_stream = Objective.objects.create(
        portfolio=org.portfolio, level="value_stream", value_stream=elsewhere, title="Cards"
    )
    data = {"level": "team", "title": "Settle in seconds", "team": org.team.pk}
    data |= {
        "parent at the wrong level": {"parent": top.pk},
        "team of another portfolio": {"team": org.foreign_team.pk},
        "parent of another value stream": {"parent": foreign_stream.pk},
        "no title": {"title": ""},
        "no team": {"team": ""},
        "unknown level": {"level": "galaxy"},
    }[case]
    before = _rows(Objective)
    response = client_for("pmo").post(reverse("objective-create", args=[org.portfolio.pk]), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert _rows(Objective) == before


def test_an_objective_with_objectives_under_it_keeps_its_value_stream(org, client_for):
    stream = _objective(org, "value_stream")
    _objective(org, "team", parent=stream)
    elsewhere = ValueStreamFactory(portfolio=org.portfolio, name="Cards")
    before = _rows(Objective)
    response = client_for("pmo").post(
        reverse("objective-edit", args=[stream.pk]),
        {"level": "value_stream", "title": stream.title, "value_stream": elsewhere.pk},
    )
    assert response.status_code == 400
    assert (
        "1 objective contribute to this one" in response.context["form"].errors["value_stream"][0]
    )
    assert _rows(Objective) == before


def test_lean_pmo_renames_and_relinks_an_objective(org, client_for):
    top = _objective(org, "portfolio")
    stream = _objective(org, "value_stream")
    response = client_for("pmo").post(
        reverse("objective-edit", args=[stream.pk]),
        {
            "level": "portfolio",
            "title": "Instant",
            "value_stream": org.value_stream.pk,
            "parent": top.pk,
        },
    )
    assert response.status_code == 302
    stream.refresh_from_db()
    assert (stream.title, stream.parent, stream.level) == ("Instant", top, "value_stream")


# --- key results ---------------------------------------------------------------------------------


def test_lean_pmo_adds_edits_closes_and_reopens_a_key_result(org, client_for):
    objective = _objective(org, "team")
    client = client_for("pmo")
    response = client.post(reverse("key-result-create", args=[objective.pk]), KEY_RESULT)
    assert response.status_code == 302
    key_result = KeyResult.objects.get(objective=objective)
    assert (key_result.baseline, key_result.target, key_result.cadence_days) == (80, 99, 14)
    response = client.post(
        reverse("key-result-edit", args=[key_result.pk]),
        {**KEY_RESULT, "target": "97.5", "cadence_days": "7"},
    )
    assert response.status_code == 302
    key_result.refresh_from_db()
    assert (key_result.target, key_result.cadence_days) == (Decimal("97.5"), 7)
    client.post(reverse("key-result-closing", args=[key_result.pk]), {"closed": "true"})
    key_result.refresh_from_db()
    assert key_result.closed
    page = client.get(reverse("portfolio-outcomes", args=[org.portfolio.pk])).content.decode()
    assert "Reopen" in page
    client.post(reverse("key-result-closing", args=[key_result.pk]), {"closed": "false"})
    key_result.refresh_from_db()
    assert not key_result.closed


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"target": "80"}, "target", "The target equals the baseline"),
        ({"target": "70"}, "target", "To increase, the target must be above the baseline."),
        (
            {"direction": "decrease"},
            "target",
            "To decrease, the target must be below the baseline.",
        ),
        ({"cadence_days": "0"}, "cadence_days", "greater than or equal to 1"),
        ({"cadence_days": "-3"}, "cadence_days", "greater than or equal to"),
        ({"cadence_days": "200"}, "cadence_days", "less than or equal to 92"),
        ({"baseline": "lots"}, "baseline", "Enter a number."),
        ({"metric": ""}, "metric", "This field is required."),
    ],
)
def test_bad_key_result_input_gets_a_clear_error_and_changes_nothing(
    org, client_for, change, field, message
):
    key_result = KeyResultFactory(objective__team=org.team)
    client = client_for("pmo")
    before = _rows(KeyResult)
    for url in (
        reverse("key-result-create", args=[key_result.objective_id]),
        reverse("key-result-edit", args=[key_result.pk]),
    ):
        response = client.post(url, {**KEY_RESULT, **change})
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert any(message in error for error in errors[field]), errors
        assert message in response.content.decode().replace("&#x27;", "'")
        assert _rows(KeyResult) == before


def test_closing_needs_true_or_false(org, client_for):
    key_result = KeyResultFactory(objective__team=org.team)
    response = client_for("pmo").post(
        reverse("key-result-closing", args=[key_result.pk]), {"closed": "maybe"}
    )
    assert response.status_code == 400
    key_result.refresh_from_db()
    assert not key_result.closed


# --- dependencies ------------------------------------------------------------------------------


def test_lean_pmo_records_and_edits_a_dependency(org, client_for):
    client = client_for("pmo")
    url = reverse("team-interactions", args=[org.value_stream.pk])
    response = client.post(
        url,
        {
            "team": org.team.pk,
            "depends_on": org.other_team.pk,
            "mode": "x_as_a_service",
            "blocking": "on",
            "note": "Scheme connectivity",
        },
    )
    assert response.status_code == 302
    interaction = TeamInteraction.objects.get()
    assert (interaction.team, interaction.depends_on, interaction.blocking) == (
        org.team,
        org.other_team,
        True,
    )
    response = client.post(
        reverse("team-interaction-edit", args=[interaction.pk]),
        {"mode": "collaboration", "note": "Joint scheme migration"},
    )
    assert response.status_code == 302
    interaction.refresh_from_db()
    assert (interaction.mode, interaction.blocking, interaction.note) == (
        "collaboration",
        False,
        "Joint scheme migration",
    )
    assert "Joint scheme migration" in client.get(url).content.decode()
    value_stream_page = client.get(reverse("value-stream-detail", args=[org.value_stream.pk]))
    assert url in value_stream_page.content.decode()


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("itself", "depends_on", "A team cannot depend on itself."),
        ("twice", "depends_on", "already has a dependency on Payment Rails recorded"),
        ("foreign", "depends_on", "Pick a team of this portfolio."),
        ("other stream", "team", "Pick a team of this value stream."),
        ("no mode", "mode", "This field is required."),
    ],
)
def test_bad_dependency_input_gets_a_clear_error_and_changes_nothing(
    org, client_for, case, field, message
):
    TeamInteractionFactory(team=org.team, depends_on=org.other_team)
    elsewhere = ProductTeamFactory(value_stream=ValueStreamFactory(portfolio=org.portfolio))
    data = {"team": org.team.pk, "depends_on": org.other_team.pk, "mode": "collaboration"}
    data |= {
        "itself": {"depends_on": org.team.pk},
        "twice": {},
        "foreign": {"depends_on": org.foreign_team.pk},
        "other stream": {"team": elsewhere.pk},
        "no mode": {"mode": ""},
    }[case]
    before = _rows(TeamInteraction)
    response = client_for("pmo").post(
        reverse("team-interactions", args=[org.value_stream.pk]), data
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert _rows(TeamInteraction) == before


# --- pulse rounds --------------------------------------------------------------------------------


@time_machine.travel(dt.datetime(2025, 3, 5, 12, tzinfo=dt.UTC), tick=False)
def test_lean_pmo_opens_a_pulse_round_that_the_team_can_answer(org, client_for):
    response = client_for("pmo").post(
        reverse("pulse-round-create", args=[org.team.pk]),
        {
            "opens_on": "2025-03-03",
            "closes_on": "2025-03-14",
            "questions": "I can ship without waiting.\n\n  I know why our work matters.  \n",
        },
    )
    assert response.status_code == 302
    pulse_round = PulseRound.objects.get(team=org.team)
    assert list(pulse_round.questions.values_list("position", "text")) == [
        (1, "I can ship without waiting."),
        (2, "I know why our work matters."),
    ]
    team_page = client_for("member").get(reverse("team-detail", args=[org.team.pk]))
    assert reverse("pulse-answer", args=[pulse_round.pk]) in team_page.content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"closes_on": "2025-03-01"}, "closes_on", "A round cannot close before it opens."),
        ({"questions": "  \n "}, "questions", "This field is required."),
        ({"questions": "\n".join(f"Q{n}" for n in range(9))}, "questions", "at most 8 questions"),
        ({"questions": "Same\nsame"}, "questions", "A question is asked twice."),
        ({"opens_on": "2025-02-20"}, "opens_on", "rounds of a team do not overlap"),
        ({"opens_on": "next week"}, "opens_on", "Enter a valid date."),
    ],
)
def test_bad_pulse_round_input_gets_a_clear_error_and_changes_nothing(
    org, client_for, change, field, message
):
    PulseRoundFactory(team=org.team, opens_on=dt.date(2025, 2, 17), closes_on=dt.date(2025, 2, 28))
    before = (_rows(PulseRound), _rows(PulseQuestion))
    response = client_for("pmo").post(
        reverse("pulse-round-create", args=[org.team.pk]),
        {"opens_on": "2025-03-03", "closes_on": "2025-03-14", "questions": "I can ship.", **change},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert (_rows(PulseRound), _rows(PulseQuestion)) == before


# --- the services on their own -----------------------------------------------------------------


def test_objective_create_refuses_a_parent_at_the_wrong_level(org):
    top = _objective(org, "portfolio")
    with pytest.raises(ValidationError) as refused:
        objective_create(
            portfolio=org.portfolio, level="team", team=org.team, parent=top, title="T"
        )
    assert "contributes to a value stream objective" in refused.value.message_dict["parent"][0]
    assert not Objective.objects.filter(title="T").exists()


def test_objective_create_refuses_a_team_of_another_portfolio(org):
    with pytest.raises(ValidationError) as refused:
        objective_create(portfolio=org.portfolio, level="team", team=org.foreign_team, title="T")
    assert refused.value.message_dict["team"] == ["The team belongs to another portfolio."]


def test_objective_create_needs_the_scope_of_its_level(org):
    with pytest.raises(ValidationError) as refused:
        objective_create(portfolio=org.portfolio, level="value_stream", title="T")
    assert refused.value.message_dict["value_stream"] == [
        "Pick the value stream this objective belongs to."
    ]


def test_objective_update_refuses_a_level_change_under_which_objectives_sit(org):
    stream = _objective(org, "value_stream")
    _objective(org, "team", parent=stream)
    with pytest.raises(ValidationError) as refused:
        objective_update(objective=stream, level="portfolio", value_stream=None)
    assert "contribute to this one" in refused.value.message_dict["level"][0]
    stream.refresh_from_db()
    assert stream.level == "value_stream"


def test_key_result_create_refuses_a_target_equal_to_the_baseline_and_a_zero_cadence(org):
    objective = _objective(org, "team")
    fields = {
        "metric": "M",
        "baseline": Decimal(5),
        "target": Decimal(5),
        "starts_on": dt.date(2025, 1, 1),
    }
    with pytest.raises(ValidationError) as equal:
        key_result_create(objective=objective, **fields)
    assert "equals the baseline" in equal.value.message_dict["target"][0]
    with pytest.raises(ValidationError) as cadence:
        key_result_create(
            objective=objective, **{**fields, "target": Decimal(9), "cadence_days": 0}
        )
    assert "cadence_days" in cadence.value.message_dict
    assert not KeyResult.objects.exists()


def test_team_interaction_record_refuses_a_team_of_another_portfolio(org):
    with pytest.raises(ValidationError) as refused:
        team_interaction_record(team=org.team, depends_on=org.foreign_team, mode="collaboration")
    assert refused.value.message_dict["depends_on"] == ["Pick a team of the same portfolio."]
    assert not TeamInteraction.objects.exists()


def test_pulse_round_open_refuses_overlapping_rounds(org):
    pulse_round_open(
        team=org.team, opens_on=dt.date(2025, 3, 3), closes_on=dt.date(2025, 3, 14), questions=["Q"]
    )
    with pytest.raises(ValidationError) as refused:
        pulse_round_open(
            team=org.team,
            opens_on=dt.date(2025, 3, 14),
            closes_on=dt.date(2025, 3, 20),
            questions=["Q"],
        )
    assert "do not overlap" in refused.value.message_dict["opens_on"][0]
    other = pulse_round_open(
        team=org.other_team,
        opens_on=dt.date(2025, 3, 3),
        closes_on=dt.date(2025, 3, 14),
        questions=["Q"],
    )
    assert other.questions.count() == 1
    assert PulseRound.objects.count() == 2


# --- the outcomes page stays small: value-stream objectives folded ------------------------------


def _teams_under(org, stream_objective, count: int) -> None:
    first = stream_objective.children.count()
    for n in range(first, first + count):
        team = ProductTeamFactory(value_stream=org.value_stream, name=f"Squad {n}")
        objective = TeamObjectiveFactory(team=team, parent=stream_objective, title=f"Goal {n}")
        KeyResultFactory(objective=objective, metric=f"Measure {n}")


def test_the_outcomes_page_does_not_grow_with_the_teams_under_a_folded_objective(org, client_for):
    client = client_for("pmo")
    url = reverse("portfolio-outcomes", args=[org.portfolio.pk])
    stream = _objective(org, "value_stream", parent=_objective(org, "portfolio"))
    _teams_under(org, stream, 2)
    small = len(client.get(url).content)
    _teams_under(org, stream, 40)  # 42 team objectives with a key result each
    large = client.get(url).content.decode()
    assert len(large) - small < 100  # only "42 team objectives" in place of "2 …"
    assert "42 key results · 42 team objectives" in large
    assert "Goal 17" not in large
    branch = reverse("objective-branch", args=[org.portfolio.pk, stream.pk])
    fragment = client.get(branch, headers={"HX-Request": "true"}).content.decode()
    assert fragment.count('class="okr-node okr-team"') == 42
    assert "Add a team objective under it" in fragment  # Lean PMO edits from the fragment


def test_a_branch_is_read_in_a_fixed_number_of_queries(org, client_for, django_assert_num_queries):
    client = client_for("member")
    stream = _objective(org, "value_stream")
    _teams_under(org, stream, 2)
    branch = reverse("objective-branch", args=[org.portfolio.pk, stream.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(branch, headers={"HX-Request": "true"})
    _teams_under(org, stream, 12)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(branch, headers={"HX-Request": "true"}).status_code == 200


def test_a_branch_without_htmx_opens_the_page_with_it_unfolded(org, client_for):
    stream = _objective(org, "value_stream")
    branch = reverse("objective-branch", args=[org.portfolio.pk, stream.pk])
    response = client_for("member").get(branch)
    assert response.status_code == 302
    outcomes = reverse("portfolio-outcomes", args=[org.portfolio.pk])
    assert response["Location"] == f"{outcomes}?open={stream.pk}#objective-{stream.pk}"


def test_only_value_stream_objectives_of_the_portfolio_are_branches(org, client_for):
    client = client_for("executive")
    team_level = _objective(org, "team")
    foreign = Objective.objects.create(
        portfolio=org.other_portfolio,
        level="value_stream",
        value_stream=org.other_value_stream,
        title="Not yours",
    )
    for objective in (team_level, foreign):
        url = reverse("objective-branch", args=[org.portfolio.pk, objective.pk])
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
    stream = _objective(org, "value_stream")
    url = reverse("objective-branch", args=[org.portfolio.pk, stream.pk])
    assert client.post(url).status_code == 405


def test_an_edit_returns_to_its_branch_unfolded(org, client_for):
    stream = _objective(org, "value_stream")
    response = client_for("pmo").post(
        reverse("objective-create", args=[org.portfolio.pk]),
        {"level": "team", "title": "Settle in seconds", "team": org.team.pk, "parent": stream.pk},
    )
    objective = Objective.objects.get(title="Settle in seconds")
    assert response["Location"].endswith(f"?open={stream.pk}#objective-{objective.pk}")
    page = client_for("pmo").get(response["Location"].split("#")[0]).content.decode()
    assert f'id="objective-{objective.pk}"' in page
