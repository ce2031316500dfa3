"""Writes of a value stream's realisation metrics: a metric, one value, a CSV import."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from portfolio.date_range import date_range_problem
from teams.models import RealisationMetric, RealisationPoint
from teams.services.saving import validated
from valuestreams.models import ValueStream


@transaction.atomic
def realisation_metric_create(
    *,
    value_stream: ValueStream,
    name: str,
    unit: str = "",
    description: str = "",
    higher_is_better: bool = True,
) -> RealisationMetric:
    """Add a realisation metric to a value stream."""
    return validated(
        RealisationMetric(
            value_stream=value_stream,
            name=name,
            unit=unit,
            description=description,
            higher_is_better=higher_is_better,
        )
    )


@transaction.atomic
def realisation_point_record(
    *, metric: RealisationMetric, on: dt.date, value: Decimal
) -> RealisationPoint:
    """Record the metric's value on a date, replacing a value already recorded for that date."""
    point = RealisationPoint.objects.filter(metric=metric, on=on).first() or RealisationPoint(
        metric=metric, on=on
    )
    point.value = value
    return validated(point)


@dataclass
class RealisationImport:
    """What a CSV import did (or, with errors, would have refused): counts and row errors."""

    created_metrics: int = 0
    recorded_points: int = 0
    errors: list[str] = field(default_factory=list)


REALISATION_CSV_COLUMNS = ("metric", "unit", "date", "value")


def realisation_import_csv(*, value_stream: ValueStream, text: str) -> RealisationImport:
    """Import points from CSV with the columns metric, unit, date (YYYY-MM-DD), value.

    All or nothing: any bad row and nothing is written; the errors name the row and the column.
    An unknown metric name creates the metric with the row's unit.
    """
    result = RealisationImport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REALISATION_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(
            f"The CSV needs the columns {', '.join(REALISATION_CSV_COLUMNS)}; missing: {', '.join(missing)}."
        )
        return result
    parsed = []
    for number, row in enumerate(reader, start=2):
        name = (row["metric"] or "").strip()
        if not name:
            result.errors.append(f"Row {number}, metric: the name is empty.")
            continue
        try:
            on = dt.date.fromisoformat((row["date"] or "").strip())
        except ValueError:
            result.errors.append(
                f"Row {number}, date: “{row['date']}” is not a date like 2025-03-31."
            )
            continue
        if problem := date_range_problem(on):
            result.errors.append(f"Row {number}, date: {problem}")
            continue
        try:
            value = Decimal((row["value"] or "").strip())
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            result.errors.append(f"Row {number}, value: “{row['value']}” is not a number.")
            continue
        parsed.append((name, (row["unit"] or "").strip(), on, value))
    if not parsed and not result.errors:
        result.errors.append("The CSV has no rows.")
    if result.errors:
        return result
    try:
        with transaction.atomic():
            metrics = {
                m.name: m for m in RealisationMetric.objects.filter(value_stream=value_stream)
            }
            for name, unit, on, value in parsed:
                if name not in metrics:
                    metrics[name] = realisation_metric_create(
                        value_stream=value_stream, name=name, unit=unit
                    )
                    result.created_metrics += 1
                realisation_point_record(metric=metrics[name], on=on, value=value)
                result.recorded_points += 1
    except ValidationError as exc:
        result.created_metrics = result.recorded_points = 0
        result.errors.extend(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return result
