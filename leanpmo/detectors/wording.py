"""Each signal's one sentence, built at read time from its stored facts (pure).

Built when shown rather than stored, so that money appears only to people who may see it: with
`show_money` False a sentence keeps shares and counts and leaves amounts out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from leanpmo.detectors.findings import names, plural

CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
# facts that are amounts of money: left out for people who may not see money
MONEY_FACTS = frozenset({"fixed_scope", "total", "money"})


def money(amount: Any, currency: str) -> str:
    """A whole amount with thousands separators and the currency: “€1,250,000”, “CHF 90,000”."""
    try:
        value = Decimal(str(amount)).quantize(Decimal(1))
    except (InvalidOperation, ValueError):
        return "—"
    sign = CURRENCY_SIGNS.get(currency)
    text = f"{abs(value):,}"
    minus = "−" if value < 0 else ""
    return f"{minus}{sign}{text}" if sign else f"{minus}{currency} {text}"


def percent(value: Any, digits: int = 0) -> str:
    """“12 %” (or “12.5 %” with `digits`); the codebase writes a space before %."""
    if value is None:
        return "—"
    number = float(value)
    text = f"{number:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{number:.0f}"
    return f"{text} %"


def duration(seconds: Any) -> str:
    """A span for people: “5 hours”, “1.5 days”, “23 days”."""
    if seconds is None:
        return "—"
    hours = float(seconds) / 3600
    if hours < 24:
        return plural(max(round(hours), 1), "hour")
    days = hours / 24
    if days < 10:
        shown = f"{days:.1f}".rstrip("0").rstrip(".")
        return f"{shown} day" if shown == "1" else f"{shown} days"
    return plural(round(days), "day")


def day(iso: str) -> str:
    """An ISO date as “3 Mar 2026”."""
    try:
        date = dt.date.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return f"{date.day} {date:%b %Y}"


def week(label: str) -> str:
    """An ISO week as people name it: “2026-W46” → “the week of 9 Nov 2026” (its Monday)."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", str(label))
    try:
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1) if match else None
    except ValueError:
        monday = None
    return f"the week of {monday.day} {monday:%b %Y}" if monday else str(label)


def possessive(name: str) -> str:
    """“Payments'”, “Cards'”, “Mortgage Team's”."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _stale(f: dict, show_money: bool, currency: str) -> str:
    owner = {"team": f["name"], "value_stream": f"The value stream {f['name']}"}.get(
        f["scope"], f"The portfolio {f['name']}"
    )
    if f["stale"] == f["open"] == 1:
        return (
            f"{possessive(owner)} only open key result, “{f['oldest_metric']}”, has had no "
            f"check-in for {plural(f['oldest_days'], 'day')}, more than twice its "
            f"{f['oldest_cadence']}-day cadence."
        )
    return (
        f"{owner} has {f['stale']} of {plural(f['open'], 'open key result')} without a check-in "
        f"for more than twice their cadence; the oldest, “{f['oldest_metric']}”, waited "
        f"{plural(f['oldest_days'], 'day')} on a {f['oldest_cadence']}-day cadence."
    )


def _no_evidence(f: dict, show_money: bool, currency: str) -> str:
    missing = {"evidence": "no evidence snapshot", "expected_outcome": "no expected outcome"}
    what = " and ".join(missing[m] for m in f["missing"])
    return (
        f"The {f['kind'].lower()} decision for {f['value_stream']} of {day(f['decided_on'])} was "
        f"recorded with {what}, so it cannot be reviewed against what was known and expected."
    )


def _review_overdue(f: dict, show_money: bool, currency: str) -> str:
    return (
        f"The review of the {f['kind'].lower()} decision for {f['value_stream']} "
        f"({day(f['decided_on'])}) was due on {day(f['due_on'])} and is "
        f"{plural(f['overdue_days'], 'day')} overdue."
    )


def _breach(f: dict, show_money: bool, currency: str) -> str:
    scope = "" if f["scope"] == "Portfolio" else f" for {f['scope']}"
    return (
        f"{f['period']} breaks the guardrail “{f['rule']}”{scope}: {f['message']}, "
        "with no approved exception decision."
    )


def _project_economics(f: dict, show_money: bool, currency: str) -> str:
    if "initiative" in f:
        return _initiative_economics(f, show_money, currency)
    owner = possessive(f["value_stream"])
    held = (
        f"{money(f['fixed_scope'], currency)} ({percent(f['share'])}) of {owner} "
        f"{money(f['total'], currency)} budget"
        if show_money
        else f"{percent(f['share'])} of {owner} budget"
    )
    return (
        f"{held} in {f['period']} is tied to fixed-scope projects while the value stream is "
        f"expected to move {plural(f['key_results'], 'outcome key result')}."
    )


def _initiative_economics(f: dict, show_money: bool, currency: str) -> str:
    funded = (
        f"a fixed-scope project of {money(f['scope_budget'], currency)}"
        if show_money
        else "a fixed-scope project"
    )
    until = dt.date.fromisoformat(f["end_date"])
    return (
        f"“{f['initiative']}” ({f['state'].lower()}) is funded as {funded} ending "
        f"{until.day} {until:%b %Y} while it is expected to move "
        f"{plural(f['key_results'], 'outcome key result')}: its scope is fixed, its outcome is not."
    )


def _unstable(f: dict, show_money: bool, currency: str) -> str:
    reasons = []
    if "churn" in f["reasons"]:
        reasons.append(
            f"its membership churn was {percent(f['churn'])} in {f['quarter']} "
            f"(above {percent(f['churn_max'])})"
        )
    if "young" in f["reasons"]:
        reasons.append(
            f"it was formed {plural(f['age_days'], 'day')} ago, less than a quarter, and is funded"
        )
    if "spread" in f["reasons"]:
        people = f["spread"]
        verb = "sits" if len(people) == 1 else "sit"
        reasons.append(f"{names(people)} {verb} in more than {plural(f['max_teams'], 'team')}")
    return f"{f['name']} is unstable: " + "; ".join(reasons) + "."


def _output_only(f: dict, show_money: bool, currency: str) -> str:
    return (
        f"{f['name']} completed {plural(f['items'], 'item')} in the last {f['weeks']} weeks but "
        "owns no open outcome key result: its output is measured, its outcome is not."
    )


def _top_heavy(f: dict, show_money: bool, currency: str) -> str:
    if f["cause"] == "cap":
        return (
            f"{plural(f['in_progress'], 'strategic initiative')} are in progress, above the cap "
            f"of {f['cap']}: {names(f['names'])}."
        )
    return (
        f"Work above team missions (product groups and strategic initiatives) is "
        f"{percent(f['above_now'])} of the {plural(f['in_progress'], 'piece')} of work in progress, "
        f"up from {percent(f['above_before'])} a quarter ago."
    )


# a flow measure in the unit people read it in: (scale, unit)
FLOW_UNITS = {
    "flow_time_p85_s": (1 / 86400, " days"),
    "flow_efficiency": (100, " %"),
    "load_mean": (1, " items"),
}


def _trimmed(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _flow_deviation(f: dict, show_money: bool, currency: str) -> str:
    measure = f["measure"]
    scale, unit = FLOW_UNITS[measure]
    below = measure == "flow_efficiency"
    value, low, high = (f[name] * scale for name in ("value", "low", "high"))
    crossed = low if below else high
    digits = 1  # enough digits that the value and the limit it crossed read differently
    while digits < 6 and f"{value:.{digits}f}" == f"{crossed:.{digits}f}":
        digits += 1

    def shown(number: float) -> str:
        return _trimmed(f"{number:.{digits}f}")

    lasting = " for the second week running" if f.get("lasting") else ""
    label = f["label"][0].upper() + f["label"][1:]
    return (
        f"{label} of {f['name']} was {shown(value)}{unit} in {week(f['week'])}, "
        f"{'below' if below else 'above'} its control band of {shown(low)}–{shown(high)}{unit} "
        f"(the {f['weeks']} weeks before){lasting}."
    )


def _money_flow(f: dict, show_money: bool, currency: str) -> str:
    held = (
        f" ({money(f['money'], currency)} of its {money(f['total'], currency)} budget)"
        if show_money
        else ""
    )
    return (
        f"{f['value_stream']} targets {percent(f['target'])} of its capacity at {f['item_type']}"
        f"{held} in {f['period']}, but {percent(f['done_share'])} of the "
        f"{plural(f['items'], 'item')} completed in the last {f['weeks']} weeks were "
        f"{f['item_type']} ({abs(f['gap']):.0f} points apart)."
    )


def _hotspot(f: dict, show_money: bool, currency: str) -> str:
    if f["cause"] == "dependents":
        blocking = (
            f", {f['blocking']} of them blocked by it" if f["blocking"] else ", none blocked by it"
        )
        return f"{plural(f['dependents'], 'team')} depend on {f['name']}{blocking}."
    return (
        f"Work in progress at {f['name']} was blocked for {percent(f['blocked_share'])} of its "
        f"time over the last {f['weeks']} weeks ({plural(f['items'], 'item')})."
    )


def _untrusted(f: dict, show_money: bool, currency: str) -> str:
    cause = f["cause"]
    if cause == "never_computed":
        return "Delivery data has arrived but no metrics were computed from it yet."
    if cause == "stale_metrics":
        return (
            f"Metrics were last computed {f['age_days']:g} days ago (more than "
            f"{plural(f['max_days'], 'day')}): recent work is not in them."
        )
    share, limit = percent(f["share"], 1), percent(f["max_share"])
    if cause == "unmapped":
        statuses = f" ({names(f['statuses'])})" if f.get("statuses") else ""
        return (
            f"{share} of the {plural(f['base'], 'item')} went through a status without a mapping"
            f"{statuses} and count it as waiting — above {limit}."
        )
    if cause == "truncated":
        return (
            f"{share} of the {plural(f['base'], 'item')} have a history that starts mid-way, so "
            f"their flow time may be too short — above {limit}."
        )
    if cause == "done_without_start":
        return (
            f"{share} of the {plural(f['base'], 'item')} went to done without ever being started "
            f"(flow time 0) — above {limit}."
        )
    return (
        f"{share} of the {plural(f['base'], 'incident')} are not linked to a deployment and "
        f"count in no change failure rate — above {limit}."
    )


SENTENCES: dict[str, Callable[[dict, bool, str], str]] = {
    "stale_outcomes": _stale,
    "decision_without_evidence": _no_evidence,
    "review_overdue": _review_overdue,
    "guardrail_breach": _breach,
    "project_economics": _project_economics,
    "unstable_team": _unstable,
    "output_only_team": _output_only,
    "top_heavy_pyramid": _top_heavy,
    "flow_deviation": _flow_deviation,
    "money_flow_disagree": _money_flow,
    "dependency_hotspot": _hotspot,
    "untrusted_data": _untrusted,
}


def explain(detector: str, facts: dict, *, show_money: bool, currency: str) -> str:
    """The signal's sentence with its numbers; amounts of money only with `show_money`."""
    try:
        return SENTENCES[detector](facts, show_money, currency)
    except (KeyError, TypeError, ValueError):
        return "This signal was recorded by an older version; it is explained again at the next evaluation."
