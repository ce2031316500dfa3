"""Imported figures: budgets of a draft period from CSV, and actual spend."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from leanpmo.models import ActualSpend, FundingPeriod, ValueStreamBudget
from leanpmo.plan_fields import ALLOCATION_FIELD, HORIZON_AMOUNT_FIELD
from leanpmo.services.budgets import budget_apply, budget_create
from valuestreams.models import ValueStream

# a horizon's money under its code, a work type's allocation under its name in lower case
ALLOCATION_COLUMN = {kind.lower(): field for kind, field in ALLOCATION_FIELD.items()}
IMPORT_COLUMNS = ("value_stream", *HORIZON_AMOUNT_FIELD, *ALLOCATION_COLUMN)


def _parse_money(text: str, *, row: int, column: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValidationError({column: f"Row {row}: “{text}” is not an amount of money."}) from exc
    if not value.is_finite():
        raise ValidationError({column: f"Row {row}: “{text}” is not an amount of money."})
    if value < 0:
        raise ValidationError({column: f"Row {row}: money cannot be negative."})
    return value.quantize(Decimal("0.01"))


def _parse_percent(text: str, *, row: int, column: str) -> int:
    if not text.strip().isdigit():
        raise ValidationError({column: f"Row {row}: “{text}” is not a whole percentage."})
    return int(text)


@transaction.atomic
def budgets_import(*, period: FundingPeriod, csv_text: str, user) -> int:
    """Set the budgets of a draft period from CSV (columns IMPORT_COLUMNS), all or nothing.

    Value streams are matched by name; a stream without a budget gets one. Returns rows written.
    """
    if period.status != FundingPeriod.Status.DRAFT:
        raise ValidationError({"file": "Budgets are imported into draft periods only."})
    reader = csv.DictReader(io.StringIO(csv_text))
    missing = set(IMPORT_COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise ValidationError({"file": f"Missing columns: {', '.join(sorted(missing))}."})
    streams = {vs.name: vs for vs in ValueStream.objects.filter(portfolio=period.portfolio_id)}
    budgets = {b.value_stream_id: b for b in ValueStreamBudget.objects.filter(period=period)}
    written = 0
    for number, line in enumerate(reader, start=2):
        stream = streams.get(line["value_stream"].strip())
        if stream is None:
            raise ValidationError(
                {
                    "value_stream": f"Row {number}: “{line['value_stream']}” is not a value stream of this portfolio."
                }
            )
        values = {
            **{
                field: _parse_money(line[code], row=number, column=code)
                for code, field in HORIZON_AMOUNT_FIELD.items()
            },
            **{
                field: _parse_percent(line[column], row=number, column=column)
                for column, field in ALLOCATION_COLUMN.items()
            },
        }
        budget = budgets.get(stream.pk)
        if budget is None:
            budget_create(period=period, value_stream=stream, user=user, **values)
        else:
            budget_apply(budget=budget, expected_version=budget.version, user=user, changes=values)
        written += 1
    return written


@transaction.atomic
def actual_record(
    *,
    period: FundingPeriod,
    value_stream: ValueStream,
    amount: Decimal,
    source: str = "finance import",
) -> ActualSpend:
    """Set what a value stream actually spent in a period (imported figures replace earlier ones)."""
    if value_stream.portfolio_id != period.portfolio_id:
        raise ValidationError({"value_stream": "This value stream belongs to another portfolio."})
    actual = ActualSpend.objects.filter(
        period=period, value_stream=value_stream
    ).first() or ActualSpend(period=period, value_stream=value_stream)
    actual.amount, actual.source = amount, source
    actual.full_clean()
    actual.save()
    return actual
