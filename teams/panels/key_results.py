"""Key results as the outcome sections show them: latest standing check-in, progress,
staleness and (on the team page) the trend chart, from one query of their check-ins. Query counts do not grow with rows."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pandas as pd

from portfolio.charting import chart_panel
from teams import selectors
from teams.charts import key_result_trend_chart
from teams.metrics import is_stale, key_result_progress
from teams.models import KeyResult, OutcomeUpdate

STATUS_LABELS = dict(OutcomeUpdate.Status.choices)


@dataclass
class KeyResultRow:
    """A key result as the team page shows it: latest standing check-in, progress, staleness, chart."""

    key_result: KeyResult
    latest: dict[str, Any] | None
    progress: float | None
    stale: bool
    chart: dict[str, Any]

    @property
    def progress_bar(self) -> int:
        """Progress for the bar, 0–100 (the bar cannot show going backwards or overshooting)."""
        return 0 if self.progress is None else round(min(max(self.progress, 0.0), 1.0) * 100)

    @property
    def progress_percent(self) -> int | None:
        return None if self.progress is None else round(self.progress * 100)


def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    """The day `moment` falls on in `time_zone` (an IANA name)."""
    return moment.astimezone(zoneinfo.ZoneInfo(time_zone)).date()


def key_result_rows(
    key_results: list[KeyResult], *, as_of: dt.date, time_zone: str, with_charts: bool = True
) -> list[KeyResultRow]:
    """Rows for the key results, from one query of their check-ins (`chart` is {} without charts;
    without charts only each key result's latest check-in is read)."""
    ids = [kr.pk for kr in key_results]
    if with_charts:
        updates = selectors.key_result_update_frame(ids)
        # one pass over the check-ins, not one filter of all of them per key result
        by_key_result = dict(tuple(updates.groupby("key_result_id", sort=False)))
        latest_rows = updates.drop_duplicates("key_result_id", keep="last")
    else:
        by_key_result, latest_rows = {}, selectors.latest_key_result_update_frame(ids)
    latest_of = {int(row["key_result_id"]): row for row in latest_rows.to_dict("records")}
    rows = []
    for kr in key_results:
        latest = latest_of.get(kr.pk)
        last_date = local_date(latest["posted_at"], time_zone) if latest else None
        chart = {}
        if with_charts:
            points = by_key_result.get(kr.pk, updates.iloc[0:0])
            chart = _trend_panel(kr, points, time_zone)
        rows.append(
            KeyResultRow(
                key_result=kr,
                latest=latest,
                progress=key_result_progress(
                    baseline=kr.baseline,
                    target=kr.target,
                    value=latest["value"] if latest else None,
                ),
                stale=not kr.closed
                and is_stale(
                    last_check_in=last_date,
                    starts_on=kr.starts_on,
                    cadence_days=kr.cadence_days,
                    as_of=as_of,
                ),
                chart=chart,
            )
        )
    return rows


def _trend_panel(kr: KeyResult, points: pd.DataFrame, time_zone: str) -> dict[str, Any]:
    """The key result's trend chart panel with its table of check-ins."""
    table = pd.DataFrame(
        {
            "date": [local_date(t, time_zone) for t in points["posted_at"]],
            "value": [float(v) for v in points["value"]],
            "confidence": list(points["confidence"]),
            "status": [STATUS_LABELS[s] for s in points["status"]],
        }
    )
    figure = key_result_trend_chart(points, baseline=kr.baseline, target=kr.target, unit=kr.unit)
    return chart_panel(
        f"kr-{kr.pk}",
        f"{kr.metric} over time",
        figure,
        table,
        columns=["Date", f"Value ({kr.unit})" if kr.unit else "Value", "Confidence", "Status"],
    )
