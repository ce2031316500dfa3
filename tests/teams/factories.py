"""factory_boy factories for the teams app's outcome models (teams and seats are in tests.factories)."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    PulseQuestion,
    PulseRound,
    RealisationMetric,
    RealisationPoint,
    TeamInteraction,
)
from tests.factories import ProductTeamFactory, UserFactory


class TeamObjectiveFactory(factory.django.DjangoModelFactory):
    """A team-level objective (its value stream and portfolio follow from the team)."""

    class Meta:
        model = Objective

    team = factory.SubFactory(ProductTeamFactory)
    value_stream = factory.SelfAttribute("team.value_stream")
    portfolio = factory.SelfAttribute("team.value_stream.portfolio")
    level = Objective.Level.TEAM
    title = factory.Sequence(lambda n: f"Customers trust our payments {n}")


class KeyResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyResult

    objective = factory.SubFactory(TeamObjectiveFactory)
    metric = factory.Sequence(lambda n: f"Payments settled within 10 s {n}")
    unit = "%"
    baseline = Decimal("80")
    target = Decimal("99")
    direction = KeyResult.Direction.INCREASE
    cadence_days = 14
    starts_on = dt.date(2025, 1, 6)


class OutcomeUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutcomeUpdate

    key_result = factory.SubFactory(KeyResultFactory)
    value = Decimal("85")
    confidence = 7
    status = OutcomeUpdate.Status.ON_TRACK
    learned = "Retries hide most timeouts."
    posted_by = factory.SubFactory(UserFactory)
    posted_at = factory.LazyFunction(timezone.now)


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment

    team = factory.SubFactory(ProductTeamFactory)
    hypothesis = "We believe a confirmation screen will reduce mistaken payments."
    metric = "Mistaken payments per 1,000"
    started_on = dt.date(2025, 3, 3)
    created_by = factory.SubFactory(UserFactory)


class NotDoingItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotDoingItem

    team = factory.SubFactory(ProductTeamFactory)
    what = "Cheque imaging"
    why = "Fewer than 1 % of customers use cheques."
    decided_on = dt.date(2025, 2, 1)
    recorded_by = factory.SubFactory(UserFactory)


class TeamInteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamInteraction

    team = factory.SubFactory(ProductTeamFactory)
    depends_on = factory.SubFactory(ProductTeamFactory)
    mode = TeamInteraction.Mode.X_AS_A_SERVICE


class RealisationMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RealisationMetric

    name = factory.Sequence(lambda n: f"Net promoter score {n}")
    unit = "points"


class RealisationPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RealisationPoint

    metric = factory.SubFactory(RealisationMetricFactory)
    on = dt.date(2025, 3, 31)
    value = Decimal("31")


class PulseRoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PulseRound
        skip_postgeneration_save = True

    team = factory.SubFactory(ProductTeamFactory)
    opens_on = dt.date(2025, 3, 1)
    closes_on = dt.date(2025, 3, 14)

    @factory.post_generation
    def questions(self, create, extracted, **kwargs):
        texts = extracted or ["I can ship without waiting on others", "I know why our work matters"]
        for position, text in enumerate(texts, start=1):
            PulseQuestion.objects.create(round=self, position=position, text=text)
