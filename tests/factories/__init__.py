"""factory_boy factories: one per model, with believable defaults."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from portfolio.models import Portfolio, PortfolioMembership
from teams.models import ProductTeam, TeamMembership
from valuestreams.models import ImportJob, ValueStream


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("secret-pass-123")


class PortfolioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Portfolio

    name = factory.Sequence(lambda n: f"Portfolio {n}")
    currency = "EUR"
    time_zone = "Europe/Zurich"


class PortfolioMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortfolioMembership

    portfolio = factory.SubFactory(PortfolioFactory)
    user = factory.SubFactory(UserFactory)
    role = PortfolioMembership.Role.EXECUTIVE


class ValueStreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValueStream

    portfolio = factory.SubFactory(PortfolioFactory)
    name = factory.Sequence(lambda n: f"Value stream {n}")
    customer = "Retail customers"


class ProductTeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductTeam

    value_stream = factory.SubFactory(ValueStreamFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    mission = "Make the customer's day better."
    topology = ProductTeam.Topology.STREAM_ALIGNED
    formed_on = dt.date(2024, 1, 15)
    capacity_fte = Decimal("6.00")
    loaded_cost_per_fte = Decimal("120000.00")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(ProductTeamFactory)
    person = factory.SubFactory(UserFactory)
    role_title = "Engineer"
    allocation_percent = 100
    start_date = dt.date(2024, 2, 1)


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    portfolio = factory.SubFactory(PortfolioFactory)
    format = ImportJob.Format.CSV
    file_name = "issues.csv"
    payload = b"key,type,title,team,created\n"
    payload_changes = b"key,from,to,time\n"
