"""The upload form of the import page: it only parses; `valuestreams.imports` checks the files."""

from django import forms

from valuestreams.models import ImportJob


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
