import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from portfolio.models import Portfolio
from teams.models import ProductTeam, TeamMembership
from valuestreams.models import ValueStream

TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def seeded(db, settings):
    settings.DEMO_PASSWORD = "s3cret-demo"
    call_command("seed_demo")


def _snapshot():
    return (
        list(Portfolio.objects.values_list("name", flat=True)),
        list(ValueStream.objects.values_list("name", "owner__username").order_by("name")),
        list(ProductTeam.objects.values_list("name", "topology", "capacity_fte").order_by("name")),
        sorted(TeamMembership.objects.values_list("team__name", "person__username", "start_date")),
    )


def test_demo_is_a_believable_bank_of_the_promised_size(seeded):
    assert Portfolio.objects.count() == 2
    assert 6 <= ValueStream.objects.count() <= 8
    assert 15 <= ProductTeam.objects.count() <= 25
    topologies = set(ProductTeam.objects.values_list("topology", flat=True))
    assert topologies == {choice.value for choice in ProductTeam.Topology}
    assert all(team.memberships.exists() for team in ProductTeam.objects.all())


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == before


@pytest.mark.parametrize("username", ["executive", "pmo", "member", "outsider", "admin"])
def test_demo_logins_use_the_configured_password(seeded, username):
    assert authenticate(username=username, password="s3cret-demo") is not None


def test_demo_roles_see_what_the_readme_promises(seeded):
    from django.contrib.auth import get_user_model

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


def test_other_people_cannot_log_in(seeded):
    person = TeamMembership.objects.exclude(person__username="member").first().person
    assert not person.has_usable_password()
