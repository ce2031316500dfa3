"""Forms of the mapping page: one formset of status rows, one of type rows. They only parse;
`valuestreams.mapping.mappings_save` applies the rules."""

from __future__ import annotations

from django import forms

from valuestreams.mapping import explicit_key
from valuestreams.models import FlowItemType, FlowState


class MappingRowForm(forms.Form):
    """One source name and the value chosen for it ("" keeps the default)."""

    name = forms.CharField(max_length=120, required=False)
    value = forms.ChoiceField(required=False)

    def __init__(self, *args, choices=(), default_label: str = "Default", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].choices = [("", default_label), *choices]

    def clean(self):
        data = super().clean()
        if data.get("value") and not (data.get("name") or "").strip():
            self.add_error("name", "Name the source value to map, as the source system spells it.")
        return data


class BaseMappingFormSet(forms.BaseFormSet):
    """Rows of one kind; `choices` are the flow values, `default_labels` one label per row."""

    choices: list[tuple[str, str]] = []
    noun = "status"

    def __init__(self, *args, default_labels: list[str] = (), **kwargs):
        self.default_labels = list(default_labels)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        labels = self.default_labels
        label = labels[index] if index is not None and index < len(labels) else "Default"
        return {"choices": self.choices, "default_label": label}

    def clean(self):
        if any(self.errors):
            return
        seen: dict[str, int] = {}
        for number, form in enumerate(self.forms, start=1):
            name = (form.cleaned_data.get("name") or "").strip()
            if not name:
                continue
            if explicit_key(name) in seen:
                form.add_error(
                    "name", f"“{name}” is already row {seen[explicit_key(name)]}; map it once."
                )
            seen.setdefault(explicit_key(name), number)

    def wanted(self) -> dict[str, str | None]:
        """Source name → chosen value (None: back to the default), for the rows that name one."""
        return {
            form.cleaned_data["name"].strip(): form.cleaned_data.get("value") or None
            for form in self.forms
            if (form.cleaned_data.get("name") or "").strip()
        }


class StateMappingFormSet(BaseMappingFormSet):
    choices = FlowState.choices
    noun = "status"


class TypeMappingFormSet(BaseMappingFormSet):
    choices = FlowItemType.choices
    noun = "type"


def mapping_formset(kind: type[BaseMappingFormSet]) -> type[BaseMappingFormSet]:
    """The formset class for one kind of rows, with one blank row to add a mapping."""
    return forms.formset_factory(
        MappingRowForm, formset=kind, extra=1, max_num=2000, validate_max=True
    )
