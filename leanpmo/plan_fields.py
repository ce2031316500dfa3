"""The money plan's fields, named once (pure: no Django).

A budget and a scenario line carry the same plan (leanpmo.models.MoneyPlan): money per horizon, the
part of it tied to fixed-scope projects, a target allocation per work type (whole percentages adding
up to 100) and a split over strategic themes. Models, forms, the grid, services, the API, imports,
exports and comparisons all read the field names from here.
"""

from __future__ import annotations

HORIZON_LABELS = {"run": "Run", "grow": "Grow", "transform": "Transform"}
WORK_TYPES = ("Feature", "Defect", "Risk", "Debt")

# horizon code → money field, work type → allocation field
HORIZON_AMOUNT_FIELD = {code: f"amount_{code}" for code in HORIZON_LABELS}
ALLOCATION_FIELD = {kind: f"alloc_{kind.lower()}" for kind in WORK_TYPES}
FIXED_SCOPE_FIELD = "fixed_scope_amount"
THEME_SPLIT_FIELD = "theme_split"

MONEY_FIELDS = (*HORIZON_AMOUNT_FIELD.values(), FIXED_SCOPE_FIELD)
# what a grid row edits, in the order of its columns
GRID_FIELDS = (*MONEY_FIELDS, *ALLOCATION_FIELD.values())
# what a scenario copies from a budget and promotion writes back
PLAN_FIELDS = (*GRID_FIELDS, THEME_SPLIT_FIELD)

FIELD_LABELS = {
    **{HORIZON_AMOUNT_FIELD[code]: label for code, label in HORIZON_LABELS.items()},
    FIXED_SCOPE_FIELD: "Fixed-scope",
    **{field: f"{kind} %" for kind, field in ALLOCATION_FIELD.items()},
    THEME_SPLIT_FIELD: "Theme split",
}
