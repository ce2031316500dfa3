"""Access before validation, for every write of the API.

A write first learns whether the caller may touch what it aims at, and only then looks at the
data: 404 when the caller may not see the parent (or the object), 403 when they may see it but not
change it; uniqueness and every other rule come after. So a refusal never tells an outsider what
exists: a clashing name and a fresh one get the same answer.

- :class:`WritableParent` is the field of a body that names the parent it writes into (the
  portfolio of a period, the team of an experiment, ...). Serializers validate their fields
  before any validator or service runs, and this field answers 404/403 at once.
- :class:`ChangeNeedsEditRights` is the viewset side: an object fetched for an unsafe method must
  be changeable by the caller (403), before its new data is validated.

Reads follow the same rule: list filters name related objects by id (:class:`IdFilterSet`), never
by a choice among every row, which would list other portfolios' names in the browsable API and
tell an existing id ("no such choice" vs an empty page) from a missing one.
"""

from __future__ import annotations

from django import forms
from django.db import models
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound, PermissionDenied

BIGGEST_ID = 2**63 - 1


class WritableParent(serializers.PrimaryKeyRelatedField):
    """The id of a parent object the caller writes into, checked before any other validation.

    `write_rule` names the model's queryset method that says who may write into it
    (``editable_by`` unless given). The value is the parent instance.
    """

    def __init__(
        self,
        model: type[models.Model],
        *,
        write_rule: str = "editable_by",
        refusal: str | None = None,
        **kwargs,
    ):
        self.parent_model = model
        self.write_rule = write_rule
        self.refusal = refusal or f"You may read this {model._meta.verbose_name} but not add to it."
        kwargs.setdefault("queryset", model.objects.none())  # see get_queryset
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet:
        """What the caller may write into: the choices the browsable API offers (never others')."""
        request = self.context.get("request")
        manager = self.parent_model.objects
        if request is None:
            return manager.none()
        return getattr(manager, self.write_rule)(request.user)

    def to_internal_value(self, data) -> models.Model:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        text = str(data).strip()
        if not (text.isascii() and text.isdigit()):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return writable_parent(
            self.context["request"].user,
            self.parent_model,
            int(text),
            write_rule=self.write_rule,
            refusal=self.refusal,
        )


def writable_parent(
    user, model: type[models.Model], pk: int, *, write_rule: str = "editable_by", refusal: str
) -> models.Model:
    """The `model` row `pk` that `user` writes into: NotFound (404) when they may not see it,
    PermissionDenied (403) when they may see but not write into it. A view that needs the parent
    before its serializer (to narrow the serializer's choices to it) calls this first."""
    verbose = model._meta.verbose_name
    manager = model.objects
    found = manager.visible_to(user).filter(pk=pk).first() if 0 < pk <= BIGGEST_ID else None
    if found is None:
        raise NotFound(f"No {verbose} {pk} here.")
    if not getattr(manager, write_rule)(user).filter(pk=pk).exists():
        raise PermissionDenied(refusal)
    return found


class ChangeNeedsEditRights:
    """Object writes: 404 where the object is not visible (``get_queryset``), 403 where it is but
    the caller may not change it (the model's ``editable_by``), before the body is validated.
    ``edit_refusal`` words the 403 for a resource (default: "You may read this … but not change it")."""

    edit_refusal: str = ""

    def get_object(self):
        obj = super().get_object()
        if self.request.method not in permissions.SAFE_METHODS:
            model = type(obj)
            if not model.objects.editable_by(self.request.user).filter(pk=obj.pk).exists():
                raise PermissionDenied(
                    self.edit_refusal
                    or f"You may read this {model._meta.verbose_name} but not change it."
                )
        return obj


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A related object's id, as a plain number: rows the caller may not see simply do not match."""

    field_class = forms.IntegerField


def _id_filter_extra(field) -> dict:
    return {"min_value": 1, "max_value": BIGGEST_ID}


class IdFilterSet(filters.FilterSet):
    """The API's filter sets: foreign keys are filtered by id (IdFilter), not chosen from a list."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter, "extra": _id_filter_extra},
        models.OneToOneField: {"filter_class": IdFilter, "extra": _id_filter_extra},
    }


class IdFilterBackend(filters.DjangoFilterBackend):
    """DjangoFilterBackend whose generated filter sets (``filterset_fields``) are IdFilterSets."""

    filterset_base = IdFilterSet
