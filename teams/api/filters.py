"""Filters the team API shares: a team's records (experiments, not-doing items, interactions) are
filtered by their team's value stream too."""

from __future__ import annotations

from django_filters import rest_framework as filters

from portfolio.api.access import IdFilterSet


class TeamRecordFilter(IdFilterSet):
    value_stream = filters.NumberFilter(field_name="team__value_stream")
