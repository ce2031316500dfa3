"""The money grid the funding editor and the scenario page share: one row per budget or scenario
line, the values as typed, what is wrong with them, and the totals and guardrails of the plan as
typed (the page and its live preview both render `templates/leanpmo/_money_grid.html`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.forms.utils import ErrorList
from django.http import QueryDict
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from leanpmo.forms.funding import PlanRowForm, PlanRowFormSet
from leanpmo.guardrails import Result, check_plan
from leanpmo.models import FundingPeriod, MoneyPlan
from leanpmo.plan_fields import (
    ALLOCATION_FIELD,
    FIXED_SCOPE_FIELD,
    GRID_FIELDS,
    HORIZON_AMOUNT_FIELD,
)
from leanpmo.selectors.funding import (
    budget_plan_row,
    guardrail_rules,
    previous_period,
    previous_totals,
)
from leanpmo.services.money_plans import PlanRowError, PlanRowInput
from portfolio.formatting import money, percent
from portfolio.models import Portfolio

ALLOCATION_NAMES = frozenset(ALLOCATION_FIELD.values())


class GridCell:
    """One money or allocation cell of a grid row, with what the template writes for it worked out
    once here (a grid has hundreds of cells: lookups and filters per cell in the template were most
    of the page's time): whether it is an allocation share (else money), the label a screen reader
    reads, the field's errors, and, when asked, its input or its value as text (read-only grids)."""

    __slots__ = ("alloc", "errors", "field", "id", "label")

    def __init__(self, field: BoundField, *, stream: str, currency: str):
        self.field = field
        self.alloc = field.name in ALLOCATION_NAMES
        self.id = field.id_for_label
        self.errors: ErrorList = field.errors
        unit = "of capacity" if self.alloc else f"in {currency}"
        self.label = f"{stream} {field.label} {unit}"

    @property
    def input(self) -> SafeString:
        """The cell's input as the form renders it."""
        return conditional_escape(self.field)

    @property
    def text(self) -> str:
        """The cell's value for people: "30 %" or whole money ("1,250,000")."""
        value = self.field.value()
        return percent(value) if self.alloc else money(value)


@dataclass
class GridRow:
    """One row of the grid: its form, the budget or line it names (None when it names none), its
    money total and allocation sum as typed, and its value stream's total in the previous period
    with the change against it in percent (None when there is no previous budget, or no total)."""

    form: PlanRowForm
    item: MoneyPlan | None
    total: Decimal | None
    allocation: int | None
    previous: Decimal | None = None
    change: Decimal | None = None
    cells: list[GridCell] | None = None


def _change(total: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """The change of `total` against `previous`, in percent (None without both, or from 0)."""
    if total is None or not previous:
        return None
    return (total - previous) * 100 / previous


def _grid_values(item: MoneyPlan) -> dict:
    """The item's grid fields, whole amounts without their “.00” so they fit the money inputs."""
    values = {name: getattr(item, name) for name in GRID_FIELDS}
    return {
        name: value.quantize(Decimal(1))
        if isinstance(value, Decimal) and value == value.to_integral_value()
        else value
        for name, value in values.items()
    }


class MoneyGrid:
    """The grid of `items` (budgets or scenario lines, in row order), bound to `data` when submitted.

    `key` names the hidden field that carries each row's id ("budget" or "line").
    """

    def __init__(self, items: Sequence[MoneyPlan], data: QueryDict | None = None, *, key: str):
        self.items, self.key = list(items), key
        self.by_id = {item.pk: item for item in self.items}
        self.formset = PlanRowFormSet(
            data,
            initial=[
                {key: item.pk, "version": item.version, **_grid_values(item)} for item in items
            ],
            prefix="rows",
            form_kwargs={"key": key},
        )

    def typed(self) -> tuple[list[MoneyPlan], list[str]]:
        """Every item with the values typed in its row (unsaved copies; a cell that cannot be read
        as a number is None there), and what is wrong with what was typed, one line per problem.

        Read from the submitted cells themselves, so the errors a service puts on the forms later
        change nothing here: a refused grid is described as it was typed.
        """
        typed: dict[int, MoneyPlan] = {}
        problems: list[str] = []
        for form in self.formset:
            item = self.by_id.get(form.row_id)
            if item is None:
                continue
            values = {}
            for name in GRID_FIELDS:
                field, raw = form.fields[name], form[name].data
                values[name] = _readable(field, raw)
                try:
                    field.clean(raw)
                except ValidationError as exc:
                    problems.append(f"{item.value_stream.name} — {field.label}: {exc.messages[0]}")
            typed[item.pk] = item.with_values(values)
            allocation = _allocation(typed[item.pk])
            if allocation is not None and allocation != 100:
                problems.append(
                    f"{item.value_stream.name} — allocation adds up to {allocation} %, not 100 %"
                )
        return [typed.get(item.pk, item) for item in self.items], problems

    def rows(
        self,
        typed: Sequence[MoneyPlan],
        previous: Mapping[int, Decimal] | None = None,
        *,
        currency: str = "",
    ) -> list[GridRow]:
        """The rows to render, each with its total and allocation sum from `typed`, its value
        stream's previous total from `previous` (value stream id → total), and its cells (money
        labelled in `currency`)."""
        by_id = {item.pk: item for item in typed}
        previous = previous or {}
        rows = []
        for form in self.formset:
            item = by_id.get(form.row_id)
            total, allocation = (_total(item), _allocation(item)) if item else (None, None)
            before = previous.get(item.value_stream_id) if item else None
            stored = self.by_id.get(form.row_id)
            stream = stored.value_stream.name if stored else ""
            rows.append(
                GridRow(
                    form,
                    stored,
                    total,
                    allocation,
                    before,
                    _change(total, before),
                    [
                        GridCell(field, stream=stream, currency=currency)
                        for field in form.visible_fields()
                    ],
                )
            )
        return rows

    def inputs(self, *, unknown_row: str) -> list[PlanRowInput] | None:
        """The submitted rows as the save services take them (call after `formset.is_valid()`);
        None, with `unknown_row` on the row, when a row names a budget or line not in the grid."""
        inputs = []
        for form in self.formset:
            item = self.by_id.get(form.cleaned_data[self.key])
            if item is None:
                form.add_error(None, unknown_row)
            else:
                inputs.append(PlanRowInput(item, form.cleaned_data["version"], form.changes()))
        return inputs if len(inputs) == len(self.formset.forms) else None

    def attach(self, exc: PlanRowError, *, decision_form: forms.Form | None = None) -> None:
        """Put a refused row's errors on its form, each on the field it names; errors about the
        decision (its fields, or the period) go on `decision_form` when there is one."""
        form = next(f for f in self.formset if f.row_id == exc.row.pk)
        if not hasattr(exc.error, "error_dict"):
            form.add_error(None, exc.error)
            return
        for field, errors in exc.error.message_dict.items():
            about_decision = decision_form is not None and (
                field in decision_form.fields or field == "period"
            )
            target = decision_form if about_decision else form
            for error in errors:
                target.add_error(field if field in target.fields else None, error)

    def rebased(self, current: MoneyPlan) -> MoneyGrid:
        """The submitted grid again, with `current`'s row naming the version stored now (after a
        conflict: saving again puts the person's values over the other person's)."""
        data = self.formset.data.copy()
        for index, form in enumerate(self.formset):
            if form.row_id == current.pk:
                data[f"{self.formset.prefix}-{index}-version"] = str(current.version)
        grid = MoneyGrid(self.items, data, key=self.key)
        grid.formset.is_valid()
        return grid


def _readable(field: forms.Field, raw) -> Decimal | int | None:
    """What a typed cell says as a number, valid or not (-5 is -5), or None when it says none."""
    try:
        return field.to_python(raw)
    except ValidationError:
        return None


def _total(item: MoneyPlan) -> Decimal | None:
    """The item's money (as typed), None when a horizon's amount cannot be read."""
    amounts = [getattr(item, name) for name in HORIZON_AMOUNT_FIELD.values()]
    return None if None in amounts else sum(amounts, Decimal(0))


def _allocation(item: MoneyPlan) -> int | None:
    """The item's allocation sum (as typed), None when a work type's share cannot be read."""
    shares = [getattr(item, name) for name in ALLOCATION_FIELD.values()]
    return None if None in shares else sum(shares)


def _readable_plan(items: Sequence[MoneyPlan]) -> bool:
    return all(getattr(item, name) is not None for item in items for name in GRID_FIELDS)


def _column_totals(items: Sequence[MoneyPlan]) -> dict[str, Decimal | None]:
    """Sum per horizon code, fixed-scope money and the grand total of the items as typed; a sum
    is None while one of its cells cannot be read."""

    def column(names: Sequence[str]) -> Decimal | None:
        values = [getattr(item, name) for item in items for name in names]
        return None if None in values else sum(values, Decimal(0))

    totals = {code: column([name]) for code, name in HORIZON_AMOUNT_FIELD.items()}
    totals["fixed_scope"] = column([FIXED_SCOPE_FIELD])
    totals["total"] = column(list(HORIZON_AMOUNT_FIELD.values()))
    return totals


def plan_summary(
    grid: MoneyGrid, *, portfolio: Portfolio, period: FundingPeriod
) -> tuple[list[GridRow], dict]:
    """The grid's rows and what `_plan_summary.html` shows, all of the plan as typed (as stored
    before anything is submitted, and whatever a save refused): totals per horizon, fixed-scope and
    in all, each row's (total, allocation sum) and its change against the previous period (percent),
    the previous period, the guardrail results and breaches, and the problems with what was typed. While a cell cannot be read as a number, the totals it belongs to are None
    and the guardrails unchecked (`readable` False): nothing stands in for what was typed.

    `portfolio` and `period` are the plan's (its guardrails, and the previous period's totals)."""
    typed, problems = grid.typed() if grid.formset.is_bound else (grid.items, [])
    before = previous_period(period)
    before_totals = previous_totals(period)
    rows = grid.rows(typed, before_totals, currency=portfolio.currency)
    readable = _readable_plan(typed)
    plan = [budget_plan_row(item) for item in typed] if readable else []
    results: list[Result] = (
        check_plan(plan, guardrail_rules(portfolio), previous_totals=before_totals)
        if readable
        else []
    )
    summary = {
        "readable": readable,
        "totals": _column_totals(typed),
        "row_totals": {item.pk: (_total(item), _allocation(item)) for item in typed},
        "row_changes": {
            item.pk: _change(_total(item), before_totals.get(item.value_stream_id))
            for item in typed
        },
        "previous_period": before,
        "results": results,
        "breaches": [result for result in results if not result.ok],
        "problems": problems,
    }
    return rows, summary
