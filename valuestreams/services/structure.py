"""Writes for value streams. Each validates the model (field rules and constraints) before saving."""

from __future__ import annotations

from django.db import transaction

from portfolio.models import Portfolio
from valuestreams.models import ValueStream

VALUE_STREAM_FIELDS = ("name", "customer", "owner", "description")


@transaction.atomic
def value_stream_create(*, portfolio: Portfolio, name: str, **fields) -> ValueStream:
    """Create a value stream in `portfolio`; raises ValidationError naming the field at fault."""
    value_stream = ValueStream(portfolio=portfolio, name=name, **fields)
    value_stream.full_clean()
    value_stream.save()
    return value_stream


@transaction.atomic
def value_stream_update(*, value_stream: ValueStream, **fields) -> ValueStream:
    """Change the given fields (of VALUE_STREAM_FIELDS); raises ValidationError and saves nothing on bad input."""
    unknown = set(fields) - set(VALUE_STREAM_FIELDS)
    if unknown:
        raise TypeError(f"value_stream_update got unexpected fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(value_stream, name, value)
    value_stream.full_clean()
    value_stream.save(update_fields=[*fields])
    return value_stream
