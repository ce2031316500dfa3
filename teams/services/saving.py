"""How every teams service saves: the model validated (field rules and constraints) before it is
saved, and the portfolio's signals asked to be evaluated again after the write commits."""

from __future__ import annotations

from django.db.models import Model


def signals_requested(portfolio_id: int) -> None:
    """Ask for the portfolio's signals to be evaluated again after this write commits (coalesced:
    many writes, one evaluation). Imported here: leanpmo builds on teams, not the other way."""
    from leanpmo.services.signals import signals_request

    signals_request(portfolio_id=portfolio_id)


def validated(instance: Model) -> Model:
    """Save `instance` once it passes full_clean() (ValidationError naming the field otherwise)."""
    instance.full_clean()
    instance.save()
    return instance
