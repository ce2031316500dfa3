"""Flow and DORA charts: pure functions from metric frames to plain figures and their tables, one
module per subject (`flow`, `breakdowns`, `dora`; `axes` holds what they share).

No Django, no data fetching. Each `<metric>_chart` takes the frame the dashboard selectors build
and returns a plain figure (``{"data": [...], "layout": {...}}``, see `portfolio.charting`); each
`<metric>_table` returns the same numbers as a table (the chart's "numbers behind it" and its
CSV); each `<metric>_finding` says in one line what the chart shows, with its unit. Periods are
drawn as dates (a week by its Monday, a month by its first day), times arrive in seconds and are
shown in days, fractions arrive as 0–1 and are shown in percent.
"""
