"""Page sections about signals that other pages show — the signal rows, “Needs your attention”,
the value-stream scorecard, the signals inbox, the weekly digest — as plain data for an
`{% include %}`. Each calls selectors (reads) and pure functions (arithmetic, sentences) and runs a
fixed number of queries whatever the number of signals, teams and value streams.
"""

from leanpmo.panels.attention import AttentionGroup, AttentionItem, attention
from leanpmo.panels.digest import Digest, digest, iso_week, mover_text
from leanpmo.panels.inbox import Inbox, inbox_signals, inbox_table, signal_inbox
from leanpmo.panels.rows import (
    STATE_LABELS,
    Link,
    SignalRow,
    evidence_links,
    signal_rows,
    signal_state,
)
from leanpmo.panels.scorecard import Scorecard, scorecard, scorecard_table

__all__ = [
    "STATE_LABELS",
    "AttentionGroup",
    "AttentionItem",
    "Digest",
    "Inbox",
    "Link",
    "Scorecard",
    "SignalRow",
    "attention",
    "digest",
    "evidence_links",
    "inbox_signals",
    "inbox_table",
    "iso_week",
    "mover_text",
    "scorecard",
    "scorecard_table",
    "signal_inbox",
    "signal_rows",
    "signal_state",
]
