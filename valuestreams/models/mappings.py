"""The flow states and flow-item types, and per portfolio the mappings of source status and item
type names onto them."""

from __future__ import annotations

from django.db import models

from portfolio.models import Portfolio


class FlowState(models.TextChoices):
    NEW = "new", "New"
    WAITING = "waiting", "Waiting"
    ACTIVE = "active", "Active"
    DONE = "done", "Done"
    CANCELED = "canceled", "Canceled"


class FlowItemType(models.TextChoices):
    FEATURE = "Feature", "Feature"
    DEFECT = "Defect", "Defect"
    RISK = "Risk", "Risk"
    DEBT = "Debt", "Debt"


class StateMapping(models.Model):
    """Per portfolio: a source status name (matched case-insensitively) → one flow state."""

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="state_mappings"
    )
    source_status = models.CharField(max_length=120)
    flow_state = models.CharField(max_length=10, choices=FlowState.choices)

    class Meta:
        ordering = ["portfolio", "source_status"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("source_status"),
                "portfolio",
                name="state_mapping_unique_status",
                violation_error_message="This status is already mapped in this portfolio.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_status} → {self.flow_state}"


class TypeMapping(models.Model):
    """Per portfolio: a source item type name (case-insensitive) → one flow-item type."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="type_mappings")
    source_type = models.CharField(max_length=120)
    flow_item_type = models.CharField(max_length=10, choices=FlowItemType.choices)

    class Meta:
        ordering = ["portfolio", "source_type"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("source_type"),
                "portfolio",
                name="type_mapping_unique_type",
                violation_error_message="This item type is already mapped in this portfolio.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_type} → {self.flow_item_type}"
