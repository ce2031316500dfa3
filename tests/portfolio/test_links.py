"""portfolio.links.object_url gives what reverse gives, under any script prefix."""

from __future__ import annotations

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from portfolio.links import object_url

NAMES = ["value-stream-detail", "team-detail", "budget-detail", "investment-mix", "signal-inbox"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pk", [1, 42, 2_147_483_647])
def test_object_url_is_reverse(name, pk):
    assert object_url(name, pk) == reverse(name, args=[pk])


def test_object_url_follows_the_script_prefix():
    try:
        set_script_prefix("/steward/")
        assert object_url("team-detail", 7) == reverse("team-detail", args=[7])
        assert object_url("team-detail", 7).startswith("/steward/")
    finally:
        clear_script_prefix()
    assert object_url("team-detail", 7) == reverse("team-detail", args=[7])
