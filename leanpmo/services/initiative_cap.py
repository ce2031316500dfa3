"""The strategic WIP cap on starting initiatives: the portfolio lock that serialises everything able
to take a strategic slot, and the refusal (CapRefused, naming the guardrail) when a start would put
more strategic initiatives in progress than the portfolio's guardrail allows.
"""

from __future__ import annotations

from leanpmo.metrics import initiatives as metrics
from leanpmo.models import Guardrail, Initiative
from leanpmo.selectors.initiatives import strategic_cap, strategic_in_progress
from portfolio.models import Portfolio


class CapRefused(Exception):
    """A move into implementing would put more strategic initiatives in progress than the
    portfolio's guardrail allows. `guardrail` names the rule, `in_progress` the initiatives that
    hold the slots."""

    def __init__(
        self, *, initiative: Initiative, guardrail: Guardrail, in_progress: list[Initiative]
    ):
        self.initiative, self.guardrail, self.in_progress = initiative, guardrail, in_progress
        names = ", ".join(item.title for item in in_progress)
        count = len(in_progress)
        super().__init__(
            f"Refused by the guardrail “{guardrail.describe()}”: {count} strategic "
            f"initiative{'s are' if count != 1 else ' is'} already in progress ({names}). "
            "Finish or stop one first, or ask an executive to approve an exception."
        )


def lock_portfolio(portfolio_id: int) -> None:
    """Serialise everything that can take a strategic slot in this portfolio until commit.

    FOR NO KEY UPDATE: other transactions may still insert rows that reference the portfolio.
    """
    Portfolio.objects.select_for_update(no_key=True).filter(pk=portfolio_id).values_list("pk").get()


def cap_refusal(initiative: Initiative, *, shape: str | None) -> CapRefused | None:
    """CapRefused if starting `initiative` (of `shape`) would exceed the strategic WIP cap."""
    if shape != metrics.STRATEGIC:
        return None
    guardrail = strategic_cap(initiative.portfolio)
    if guardrail is None or guardrail.max_count is None:
        return None
    running = [
        item for item in strategic_in_progress(initiative.portfolio) if item.pk != initiative.pk
    ]
    if len(running) + 1 <= guardrail.max_count:
        return None
    return CapRefused(initiative=initiative, guardrail=guardrail, in_progress=running)
