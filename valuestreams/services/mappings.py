"""Writes of the mapping page: the explicit status → flow state and type → flow-item type rows of a
portfolio (the lookups and the page's overview are read by `valuestreams.selectors.mappings`)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from portfolio.models import Portfolio
from valuestreams.models import StateMapping, TypeMapping
from valuestreams.selectors.mappings import explicit_key


def _apply(
    model: type[StateMapping] | type[TypeMapping],
    *,
    portfolio: Portfolio,
    name_field: str,
    value_field: str,
    wanted: Mapping[str, str | None],
) -> int:
    """Make the explicit rows say `wanted` (None: no explicit row); return how many changed."""
    existing = {
        explicit_key(getattr(row, name_field)): row
        for row in model.objects.filter(portfolio=portfolio)
    }
    changed = 0
    for name, value in wanted.items():
        clean_name = name.strip()
        row = existing.get(explicit_key(clean_name))
        if value in (None, ""):
            if row is not None:
                row.delete()
                changed += 1
            continue
        if row is not None and getattr(row, value_field) == value:
            continue
        if row is None:
            row = model(portfolio=portfolio, **{name_field: clean_name})
        setattr(row, value_field, value)
        try:
            row.full_clean()
        except ValidationError as exc:
            raise ValidationError(
                {
                    field if field != "__all__" else name_field: [
                        f"{clean_name}: {message}" for message in messages
                    ]
                    for field, messages in exc.message_dict.items()
                }
            ) from exc
        row.save()
        changed += 1
    return changed


@transaction.atomic
def mappings_save(
    *,
    portfolio: Portfolio,
    states: Mapping[str, str | None],
    types: Mapping[str, str | None],
    requested_by=None,
) -> int:
    """Set explicit mappings: `states` maps a source status to a flow state, `types` a source type
    to a flow-item type; None or "" removes the explicit row (back to the default).

    Returns the number of rows changed. When any changed, a full recompute of the portfolio's
    metrics is requested (enqueued on commit). Raises ValidationError naming the field
    (``flow_state``, ``flow_item_type``, ``source_status``, ``source_type``) and saves nothing.
    """
    changed = _apply(
        StateMapping,
        portfolio=portfolio,
        name_field="source_status",
        value_field="flow_state",
        wanted=states,
    ) + _apply(
        TypeMapping,
        portfolio=portfolio,
        name_field="source_type",
        value_field="flow_item_type",
        wanted=types,
    )
    if changed:
        from valuestreams.recompute import recompute_request

        recompute_request(portfolio=portfolio, full=True, requested_by=requested_by)
    return changed
