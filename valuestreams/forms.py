"""The app's forms. They only parse: the services check the rules (`valuestreams.services.structure`,
`.imports` for the uploaded files, `.mappings`)."""

from __future__ import annotations

from django import forms

from portfolio.models import Portfolio
from portfolio.selectors import portfolio_people
from valuestreams.models import FlowItemType, FlowState, ImportJob, ValueStream
from valuestreams.selectors.mappings import explicit_key


class ValueStreamForm(forms.ModelForm):
    """Parses a value stream's fields; the owner is picked among the portfolio's people."""

    class Meta:
        model = ValueStream
        fields = ["name", "customer", "owner", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, portfolio: Portfolio, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = portfolio_people(portfolio)
        self.fields["owner"].label_from_instance = lambda user: (
            user.get_full_name() or user.username
        )


# --- imports: the upload form of the import page -----------------------------------------------


class ImportUploadForm(forms.Form):
    """A Jira search JSON (expand=changelog) or a CSV pair (issues.csv + changes.csv)."""

    format = forms.ChoiceField(
        choices=ImportJob.Format.choices,
        widget=forms.RadioSelect,
        initial=ImportJob.Format.CSV,
    )
    file = forms.FileField(
        label="File",
        help_text="The Jira search JSON, or issues.csv (key, type, title, team, created[, url]).",
    )
    changes_file = forms.FileField(
        label="Status changes (CSV pair only)",
        required=False,
        help_text="changes.csv (key, from, to, time[, field]).",
    )
    team_field = forms.CharField(
        label="Jira team field",
        required=False,
        max_length=120,
        help_text="Jira only: the field holding each issue's team, e.g. customfield_10001, or its"
        " name (Team) if the search was fetched with expand=names. Empty: items get no team.",
    )
    dry_run = forms.BooleanField(
        label="Dry run: check and count, write nothing",
        required=False,
    )


# --- mappings: one formset of status rows, one of type rows --------------------------------------


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
