import datetime as dt

import pytest
import time_machine
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from portfolio.models import Portfolio
from teams.models import ProductTeam, TeamMembership
from valuestreams.models import ValueStream

# Midday, so that two seeds in one test never straddle a date change in any demo time zone.
NOON = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def seeded(db, settings):
    settings.DEMO_PASSWORD = "s3cret-demo"
    with time_machine.travel(NOON, tick=True):
        call_command("seed_demo")
        yield


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
        assert authenticate(sign_in, username=username, password="s3cret-demo"), username
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
