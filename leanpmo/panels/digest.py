"""The weekly digest's content (sent by leanpmo.services.digests, previewed on a page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from leanpmo.detectors.wording import money, plural, week
from leanpmo.models import Signal
from leanpmo.panels.attention import AttentionGroup, attention
from leanpmo.panels.rows import NEW_FOR, SignalRow, signal_rows
from leanpmo.panels.scorecard import scorecard, signed_change
from leanpmo.selectors.signals import local_today, signal_list
from portfolio.access import can_edit_structure, can_see_money
from portfolio.models import Portfolio


@dataclass
class Digest:
    """One person's weekly digest of one portfolio: what needs them, the signals new and resolved
    in the last seven days, and the scorecard's biggest movers."""

    person: Any
    portfolio: Portfolio
    role: str
    week: str
    attention: AttentionGroup
    new: list[SignalRow]
    resolved: list[SignalRow]
    new_count: int
    resolved_count: int
    movers: list[dict]
    show_money: bool

    @property
    def subject(self) -> str:
        needs = len(self.attention.items)
        return (
            f"{self.portfolio.name}: {plural(needs, 'thing')} to look at, "
            f"{self.new_count} new and {self.resolved_count} resolved signals ({week(self.week)})"
        )

    @property
    def is_empty(self) -> bool:
        return not (self.attention.items or self.new or self.resolved or self.movers)


def iso_week(portfolio: Portfolio, now: dt.datetime) -> str:
    """The ISO week of `now` in the portfolio's time zone, e.g. "2026-W10"."""
    iso = local_today(portfolio, now).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def digest(person, portfolio: Portfolio, *, role: str, now: dt.datetime) -> Digest:
    """What the person's weekly digest of the portfolio says as of `now` (money only for roles that
    see it)."""
    show_money = can_see_money(role, portfolio)
    since = now - NEW_FOR
    signals = signal_list(portfolio, now=now)
    new = signals.in_state("new", now).order_by("-severity", "-opened_at", "pk")
    resolved = signals.filter(state=Signal.State.RESOLVED, resolved_at__gte=since).order_by(
        "-resolved_at", "pk"
    )
    rows = {
        "show_money": show_money,
        "can_edit": can_edit_structure(role),
        "now": now,
    }
    card = scorecard(portfolio, role=role, sort="", now=now)
    return Digest(
        person=person,
        portfolio=portfolio,
        role=role,
        week=iso_week(portfolio, now),
        attention=attention(person, [portfolio], now=now)[0],
        new=signal_rows(new[:10], **rows),
        resolved=signal_rows(resolved[:10], **rows),
        new_count=new.count(),
        resolved_count=resolved.count(),
        movers=card.movers,
        show_money=show_money,
    )


def mover_text(move: dict, currency: str) -> str:
    """“Cards: flow time p85 ↑ 35 % (12 → 16.2 days)”."""
    arrow, _ = signed_change(move["change"])
    if move["unit"] == "money":
        return f"{move['value_stream']}: budget {arrow} (now {money(move['now'], currency)})"
    before = "—" if move["before"] is None else f"{move['before']:g}"
    now = "—" if move["now"] is None else f"{move['now']:g}"
    return f"{move['value_stream']}: {move['what']} {arrow} ({before} → {now} {move['unit']})"
