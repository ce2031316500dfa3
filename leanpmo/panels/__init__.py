"""Page sections about signals that other pages show — the signal rows, “Needs your attention”,
the value-stream scorecard, the signals inbox, the weekly digest — as plain data for an
`{% include %}`. Each calls selectors (reads) and pure functions (arithmetic, sentences) and runs a
fixed number of queries whatever the number of signals, teams and value streams.
"""
