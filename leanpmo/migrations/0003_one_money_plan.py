"""One money plan: budgets and scenario lines inherit their fields and constraints from MoneyPlan.

The tables keep their columns and data. The two check constraints each model has are now named
after the model (`%(class)s_…`); they are renamed in place (no re-validation, no lock beyond the
rename), and the scenario line's fixed-scope field takes the budget's help text (no SQL).
"""

from decimal import Decimal

import django.core.validators
import django.db.models.expressions
from django.db import migrations, models

MONEY_NOT_NEGATIVE = models.Q(
    ("amount_run__gte", 0),
    ("amount_grow__gte", 0),
    ("amount_transform__gte", 0),
    ("fixed_scope_amount__gte", 0),
)
ALLOCATION_SUMS_TO_100 = models.Q(
    (
        "alloc_feature",
        django.db.models.expressions.CombinedExpression(
            django.db.models.expressions.CombinedExpression(
                django.db.models.expressions.CombinedExpression(
                    models.Value(100), "-", models.F("alloc_defect")
                ),
                "-",
                models.F("alloc_risk"),
            ),
            "-",
            models.F("alloc_debt"),
        ),
    )
)
RENAMES = [
    # (model, table, old name, new name, condition, message)
    ("scenarioline", "leanpmo_scenarioline", "scenario_money_not_negative",
     "scenarioline_money_not_negative", MONEY_NOT_NEGATIVE, "Money cannot be negative."),
    ("scenarioline", "leanpmo_scenarioline", "scenario_allocation_sums_to_100",
     "scenarioline_allocation_sums_to_100", ALLOCATION_SUMS_TO_100,
     "The allocation by work type must add up to 100 %."),
    ("valuestreambudget", "leanpmo_valuestreambudget", "budget_money_not_negative",
     "valuestreambudget_money_not_negative", MONEY_NOT_NEGATIVE, "Money cannot be negative."),
    ("valuestreambudget", "leanpmo_valuestreambudget", "budget_allocation_sums_to_100",
     "valuestreambudget_allocation_sums_to_100", ALLOCATION_SUMS_TO_100,
     "The allocation by work type must add up to 100 %."),
]  # fmt: skip


def _rename(model, table, old, new, condition, message):
    return migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.RunSQL(
                f'ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}"',
                reverse_sql=f'ALTER TABLE "{table}" RENAME CONSTRAINT "{new}" TO "{old}"',
            )
        ],
        state_operations=[
            migrations.RemoveConstraint(model_name=model, name=old),
            migrations.AddConstraint(
                model_name=model,
                constraint=models.CheckConstraint(
                    condition=condition, name=new, violation_error_message=message
                ),
            ),
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leanpmo", "0002_scenarios"),
    ]

    operations = [
        *(_rename(*rename) for rename in RENAMES),
        migrations.AlterField(
            model_name="scenarioline",
            name="fixed_scope_amount",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                help_text="Part of the money tied to fixed-scope projects.",
                max_digits=14,
                validators=[
                    django.core.validators.MinValueValidator(
                        Decimal("0"), message="Money cannot be negative."
                    )
                ],
                verbose_name="fixed-scope money",
            ),
        ),
    ]
