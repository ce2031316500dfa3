"""What a detector returns: findings (one per signal), what it could not judge, and their parts.

Pure: no Django, no clock. A finding names its objects through a canonical `key` (the signal's
identity together with the detector), carries the numbers its sentence is built from (`facts`,
JSON-safe) and the links to its evidence as URL names, reversed by the pages that show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

LOW, MEDIUM, HIGH = 1, 2, 3
SEVERITY_LABELS = {LOW: "Low", MEDIUM: "Medium", HIGH: "High"}

# who may follow an evidence link: everyone in the portfolio, those who see its money, or the
# Lean PMO (the pages behind the link answer 403 to the others, so the link is not shown to them)
EVERYONE, MONEY, EDITORS = "all", "money", "editors"


@dataclass(frozen=True)
class Evidence:
    """A link to the evidence behind a finding: a URL name with its arguments, read at render time."""

    label: str
    url_name: str
    args: tuple[int, ...] = ()
    anchor: str = ""
    query: str = ""
    audience: str = EVERYONE

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "url_name": self.url_name,
            "args": list(self.args),
            "anchor": self.anchor,
            "query": self.query,
            "audience": self.audience,
        }


@dataclass(frozen=True)
class Finding:
    """One thing a detector found, as of the evaluation's time.

    `key` names the objects concerned canonically (e.g. ``team:12`` or
    ``guardrail:4|value_stream:3``); `facts` holds the names and numbers the explanation is built
    from (JSON-safe: text, int, float, money as decimal text, dates as ISO text);
    `value_stream_id` / `team_id` say which value stream and team it concerns, when one does.
    """

    detector: str
    key: str
    severity: int
    facts: dict[str, Any]
    value_stream_id: int | None = None
    team_id: int | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass
class DetectorResult:
    """A detector's answer for one portfolio.

    `findings` become signals; `not_enough_data` names the scopes it declined to judge because
    the sample was too small (never an alarm); `checked` counts the scopes it looked at.
    """

    findings: list[Finding] = field(default_factory=list)
    not_enough_data: list[str] = field(default_factory=list)
    checked: int = 0


def key_of(*parts: tuple[str, int | str]) -> str:
    """A canonical object key: ``key_of(("team", 12), ("metric", "load"))`` → ``team:12|metric:load``."""
    return "|".join(f"{kind}:{value}" for kind, value in parts)


def plural(count: int, one: str, many: str | None = None) -> str:
    """``plural(1, "item")`` → "1 item", ``plural(3, "item")`` → "3 items"."""
    word = one if count == 1 else (many or f"{one}s")
    return f"{count:,} {word}"


def names(items: Iterable[str], *, limit: int = 3) -> str:
    """“A, B and C”, or “A, B, C and 2 more” past `limit`."""
    items = list(items)
    if len(items) > limit:
        shown, rest = items[:limit], len(items) - limit
        return ", ".join(shown) + f" and {rest} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"
