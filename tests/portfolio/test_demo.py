import datetime as dt

import pytest
import time_machine
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from portfolio.models import Portfolio
from teams.models import ProductTeam, TeamMembership
from tests.demo_database import DEMO_NOON, DEMO_PASSWORD
from valuestreams.models import ValueStream

NOON = DEMO_NOON


@pytest.fixture
def seeded(demo, db, settings):
    """The whole demo, seeded once per run (tests/demo_database.py)."""
    settings.DEMO_PASSWORD = DEMO_PASSWORD


def _snapshot():
    return (
        list(Portfolio.objects.values_list("name", flat=True)),
        list(ValueStream.objects.values_list("name", "owner__username").order_by("name")),
        list(ProductTeam.objects.values_list("name", "topology", "capacity_fte").order_by("name")),
        sorted(TeamMembership.objects.values_list("team__name", "person__username", "start_date")),
    )


def test_demo_is_a_believable_bank_whose_logins_see_what_the_readme_promises(seeded):
    # one seed for every read-only check: seeding the whole demo takes seconds
    assert Portfolio.objects.count() == 2
    assert 6 <= ValueStream.objects.count() <= 8
    assert 15 <= ProductTeam.objects.count() <= 25
    topologies = set(ProductTeam.objects.values_list("topology", flat=True))
    assert topologies == {choice.value for choice in ProductTeam.Topology}
    assert all(team.memberships.exists() for team in ProductTeam.objects.all())

    for username in ["executive", "pmo", "member", "outsider", "admin"]:
        sign_in = RequestFactory().post("/accounts/login/")
        assert authenticate(sign_in, username=username, password=DEMO_PASSWORD), username
    person = TeamMembership.objects.exclude(person__username="member").first().person
    assert not person.has_usable_password()

    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=["executive", "pmo", "member", "outsider"]
        )
    }
    assert Portfolio.objects.visible_to(users["executive"]).count() == 2
    assert Portfolio.objects.editable_by(users["pmo"]).count() == 2
    assert list(Portfolio.objects.visible_to(users["member"]).values_list("name", flat=True)) == [
        "Everyday Banking"
    ]
    assert not Portfolio.objects.visible_to(users["outsider"]).exists()


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    with time_machine.travel(NOON + dt.timedelta(hours=1), tick=True):
        call_command("seed_demo")
    assert _snapshot() == before


def test_a_scaled_demo_repeats_the_streams_and_keeps_the_demo_itself_unchanged(db):
    from django.db import transaction

    from portfolio.demo import base_name, demo_seed

    today = dt.date(2026, 11, 18)
    with transaction.atomic():
        demo_seed(today=today, password="x")
        plain = _snapshot()
        transaction.set_rollback(True)
    counts = demo_seed(today=today, password="x", scale=3)
    assert (counts["value_streams"], counts["teams"]) == (24, 66)
    assert ValueStream.objects.filter(name="Cards 3").exists()
    assert ProductTeam.objects.get(name="Card Issuing 2").value_stream.name == "Cards 2"
    assert base_name("Card Issuing 2") == "Card Issuing"
    # the demo at scale 1 is exactly the first of the repetitions
    _portfolios, streams, teams, seats = _snapshot()
    originals = {name for name, *_ in plain[2]}
    assert [row for row in teams if row[0] in originals] == plain[2]
    assert [seat for seat in seats if seat[0] in originals] == plain[3]
    assert [row for row in streams if row in plain[1]] == plain[1]
    with pytest.raises(ValueError, match="at least 1"):
        demo_seed(today=today, scale=0)
