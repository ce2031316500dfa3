"""The portfolio's outcomes page: the OKR cascade as a tree (themes → portfolio → value-stream
→ team objectives) and one folded value-stream branch of it. Query counts do not grow with rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from portfolio.models import Portfolio
from portfolio.sections import kept
from teams import selectors
from teams.models import Objective
from teams.panels.key_results import KeyResultRow, key_result_rows


@dataclass
class ObjectiveNode:
    """An objective on the outcomes page: its key results and the objectives that contribute to it."""

    objective: Objective
    key_results: list[KeyResultRow]
    children: list[ObjectiveNode] = field(default_factory=list)

    def _rows(self) -> list[KeyResultRow]:
        return [*self.key_results, *(row for child in self.children for row in child._rows())]

    @property
    def progress_percent(self) -> int | None:
        """Mean progress (0–100, each key result clipped to 0–1) of the open key results here
        and below; None when none of them has a check-in."""
        values = [
            min(max(row.progress, 0.0), 1.0)
            for row in self._rows()
            if row.progress is not None and not row.key_result.closed
        ]
        return round(sum(values) / len(values) * 100) if values else None

    @property
    def stale_count(self) -> int:
        """Stale key results here and below."""
        return sum(row.stale for row in self._rows())

    @property
    def key_result_count(self) -> int:
        """Key results here and below."""
        return len(self._rows())


@dataclass
class ThemeGroup:
    """Portfolio objectives serving one strategic theme (`theme` None: no theme, or not shown)."""

    theme: Any
    objectives: list[ObjectiveNode]


@dataclass
class OutcomeTree:
    """The portfolio's OKR cascade: themes → portfolio → value-stream → team objectives, and the
    value-stream and team objectives not linked up the chain yet."""

    themes: list[ThemeGroup]
    unlinked: list[ObjectiveNode]
    objective_count: int
    key_result_count: int
    stale_count: int


def outcome_branch(portfolio: Portfolio, objective_id: int, *, as_of: dt.date) -> ObjectiveNode:
    """One value-stream objective of the portfolio with its key results and the team objectives
    under it (three queries). Raises Objective.DoesNotExist for any other objective."""
    objectives = list(selectors.value_stream_objective_branch(portfolio, objective_id))
    top = next((o for o in objectives if o.pk == objective_id), None)
    if top is None:
        raise Objective.DoesNotExist(f"No value-stream objective {objective_id} in {portfolio}.")
    key_results = [kr for objective in objectives for kr in objective.key_results.all()]
    rows = key_result_rows(
        key_results, as_of=as_of, time_zone=portfolio.time_zone, with_charts=False
    )
    by_objective: dict[int, list[KeyResultRow]] = {}
    for row in rows:
        by_objective.setdefault(row.key_result.objective_id, []).append(row)
    children = sorted(
        (ObjectiveNode(o, by_objective.get(o.pk, [])) for o in objectives if o.pk != top.pk),
        key=lambda n: (n.objective.team.name if n.objective.team_id else "", n.objective.title),
    )
    return ObjectiveNode(top, by_objective.get(top.pk, []), children)


def outcome_tree(
    portfolio: Portfolio, *, as_of: dt.date, show_themes: bool, themes: list | None = None
) -> OutcomeTree:
    """The portfolio's objectives as a tree, from three queries however many there are.

    With `show_themes`, portfolio objectives are grouped under `themes` (the portfolio's strategic
    themes, in order; themes without objectives are kept, to show what nothing serves yet);
    otherwise they form one group without a theme.
    """
    objectives = list(selectors.portfolio_objectives(portfolio))
    key_results = [kr for objective in objectives for kr in objective.key_results.all()]
    rows = key_result_rows(
        key_results, as_of=as_of, time_zone=portfolio.time_zone, with_charts=False
    )
    rows_by_objective: dict[int, list[KeyResultRow]] = {}
    for row in rows:
        rows_by_objective.setdefault(row.key_result.objective_id, []).append(row)
    nodes = {o.pk: ObjectiveNode(o, rows_by_objective.get(o.pk, [])) for o in objectives}
    level_order = {Objective.Level.PORTFOLIO: 0, Objective.Level.VALUE_STREAM: 1}
    top, unlinked = [], []
    for objective in objectives:
        node = nodes[objective.pk]
        if objective.parent_id in nodes:
            nodes[objective.parent_id].children.append(node)
        elif objective.level == Objective.Level.PORTFOLIO:
            top.append(node)
        else:
            unlinked.append(node)
    for node in nodes.values():
        node.children.sort(
            key=lambda n: (
                n.objective.value_stream.name if n.objective.value_stream_id else "",
                n.objective.team.name if n.objective.team_id else "",
                n.objective.title,
            )
        )
    unlinked.sort(key=lambda n: (level_order.get(n.objective.level, 2), n.objective.title))
    if show_themes:
        groups = [
            ThemeGroup(theme, [n for n in top if n.objective.strategic_theme_id == theme.pk])
            for theme in themes or []
        ]
        shown = {theme.pk for theme in themes or []}
        without = [n for n in top if n.objective.strategic_theme_id not in shown]
        if without:
            groups.append(ThemeGroup(None, without))
    else:
        groups = [ThemeGroup(None, top)] if top else []
    return OutcomeTree(
        themes=groups,
        unlinked=unlinked,
        objective_count=len(objectives),
        key_result_count=len(key_results),
        stale_count=sum(row.stale for row in rows),
    )


ThemeMoney = Callable[..., dict]  # leanpmo.selectors.funding.theme_money(portfolio, today=…)


def outcome_page_tree(
    portfolio: Portfolio, *, show_themes: bool, now: dt.datetime, theme_money: ThemeMoney
) -> OutcomeTree:
    """The outcomes page's cascade, with the strategic themes' money (`theme_money`) for those
    who see money, kept per data version (portfolio.sections)."""
    today = timezone.localdate(now)

    def build() -> OutcomeTree:
        return _page_tree(portfolio, show_themes=show_themes, today=today, theme_money=theme_money)

    return kept("outcome-tree", (portfolio.pk, today, show_themes), build, now=now)


def outcome_page_for_readers(
    portfolio: Portfolio, *, show_themes: bool, now: dt.datetime, theme_money: ThemeMoney
) -> dict:
    """The outcomes page's cascade as everyone without edit rights reads it (no form, nothing
    unfolded): its counts and its markup, kept per data version, so that neither reading it
    again nor sharing it between processes builds or copies the cascade's objects."""
    today = timezone.localdate(now)

    def build() -> dict:
        # built here, not through `outcome_page_tree`: its objects are not kept (nor copied
        # into Redis) for the readers' page, which needs only what it renders
        tree = _page_tree(portfolio, show_themes=show_themes, today=today, theme_money=theme_money)
        context = {
            "portfolio": portfolio,
            "show_themes": show_themes,
            "can_edit": False,
            "fold": True,
            "open_branch": None,
            "tree": tree,
        }
        return {
            "objective_count": tree.objective_count,
            "key_result_count": tree.key_result_count,
            "stale_count": tree.stale_count,
            "html": render_to_string("teams/_outcome_tree.html", context),
        }

    return kept("outcome-tree-read", (portfolio.pk, today, show_themes), build, now=now)


def _page_tree(
    portfolio: Portfolio, *, show_themes: bool, today: dt.date, theme_money: ThemeMoney
) -> OutcomeTree:
    themes = list(portfolio.themes.order_by("position", "name")) if show_themes else []
    if themes:
        money = theme_money(portfolio, today=today)
        for theme in themes:
            theme.money = money.get(theme.pk)
    return outcome_tree(portfolio, as_of=today, show_themes=show_themes, themes=themes)
