"""One money plan: a budget and a scenario line share their fields, database constraints and rules."""

import pytest
from django.db import IntegrityError, connection, transaction

from leanpmo.models import MoneyPlan, ScenarioLine, ValueStreamBudget
from leanpmo.plan_fields import PLAN_FIELDS
from tests.leanpmo.support import funding_for, scenario_for

PLANS = [ValueStreamBudget, ScenarioLine]


def _row(org, model):
    funding_for(org)
    scenario_for(org)
    return model.objects.first()


@pytest.mark.parametrize("model", PLANS)
def test_the_database_keeps_the_plans_constraints_under_the_models_names(org, model):
    with connection.cursor() as cursor:
        stored = connection.introspection.get_constraints(cursor, model._meta.db_table)
    checks = {name for name, info in stored.items() if info["check"]}
    declared = {c.name for c in model._meta.constraints if c.name.endswith(("100", "negative"))}
    assert declared == {
        f"{model._meta.model_name}_money_not_negative",
        f"{model._meta.model_name}_allocation_sums_to_100",
    }
    assert declared <= checks
    assert set(PLAN_FIELDS) <= {field.name for field in model._meta.fields}
    assert issubclass(model, MoneyPlan)


@pytest.mark.parametrize("model", PLANS)
@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"alloc_feature": 50}, "allocation_sums_to_100"),
        ({"amount_grow": -1}, "money_not_negative"),
    ],
)
def test_a_write_around_the_services_is_refused_by_the_database(org, model, values, constraint):
    row = _row(org, model)
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        model.objects.filter(pk=row.pk).update(**values)
    row.refresh_from_db()
    assert (row.alloc_feature, row.amount_grow) == (60, 300000)
