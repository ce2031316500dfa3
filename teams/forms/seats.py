"""Forms for seats (team memberships): a new seat, its end, a new allocation. They parse; the rules
are the model's and the service's (teams.services.seats)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from portfolio.widgets import date_input
from teams.models import TeamMembership


class SeatForm(forms.ModelForm):
    """A new seat: who, what role, how much of their time, from (and to) when. `person` may be any
    active user; the page offers the people `candidates` (a search narrows them)."""

    person = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
        label="Person",
        error_messages={
            "required": "Pick the person who joins the team.",
            "invalid_choice": "Pick one of the people listed (search by name to find others).",
        },
    )

    class Meta:
        model = TeamMembership
        fields = ["person", "role_title", "allocation_percent", "start_date", "end_date"]
        widgets = {"start_date": date_input(), "end_date": date_input()}
        labels = {
            "role_title": "Role",
            "allocation_percent": "Allocation (%)",
            "start_date": "First day in the team",
            "end_date": "Last day (if already known)",
        }
        help_texts = {"allocation_percent": "1 to 100: the share of their working time here."}
        error_messages = {
            "allocation_percent": {"required": "Give the allocation, 1 to 100 %."},
            "start_date": {"required": "Give the first day in the team."},
        }

    def __init__(self, *args, candidates, portfolio_ids: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        people = list(candidates)
        chosen = self["person"].value() if self.is_bound else None
        field = self.fields["person"]
        field.widget.choices = [("", "— pick a person —")] + [
            (person.pk, seat_candidate_label(person, portfolio_ids=portfolio_ids))
            for person in people
        ]
        if chosen and str(chosen) not in {str(person.pk) for person in people}:
            picked = field.queryset.filter(pk=chosen).first() if str(chosen).isdigit() else None
            if picked is not None:
                field.widget.choices.append((picked.pk, seat_candidate_label(picked)))
        self.fields["allocation_percent"].widget.attrs.update({"inputmode": "numeric"})
        self.fields["allocation_percent"].widget.attrs.pop("min", None)
        self.fields["allocation_percent"].widget.attrs.pop("max", None)


def seat_candidate_label(person, *, portfolio_ids: set[int] | None = None) -> str:
    """A person as the seat form lists them: name, username and where they sit today (teams of
    the portfolios in `portfolio_ids` by name, the rest as a share elsewhere)."""
    name = person.get_full_name() or person.username
    seats = getattr(person, "seats_now", None)
    if seats is None:
        return f"{name} ({person.username})"
    shown = [
        s
        for s in seats
        if portfolio_ids is None or s.team.value_stream.portfolio_id in portfolio_ids
    ]
    elsewhere = sum(s.allocation_percent for s in seats if s not in shown)
    parts = [f"{seat.team.name} {seat.allocation_percent} %" for seat in shown]
    if elsewhere:
        parts.append(f"{elsewhere} % elsewhere")
    return f"{name} ({person.username}) — {', '.join(parts) or 'in no team today'}"


class SeatEndForm(forms.Form):
    """The last day of a seat."""

    end_date = forms.DateField(
        label="Last day in the team",
        widget=date_input(),
        error_messages={"required": "Give the last day in the team.", "invalid": "Give a date."},
    )


class SeatChangeForm(forms.Form):
    """A new allocation (and role) from a date."""

    allocation_percent = forms.IntegerField(
        label="New allocation (%)",
        help_text="1 to 100: the share of their working time here.",
        error_messages={"required": "Give the allocation, 1 to 100 %."},
    )
    on = forms.DateField(
        label="From",
        widget=date_input(),
        help_text="The seat ends the day before and a new one starts with the new allocation, "
        "so stability keeps the history. From the seat's first day, the seat itself is corrected.",
        error_messages={
            "required": "Give the day the new allocation starts.",
            "invalid": "Give a date.",
        },
    )
    role_title = forms.CharField(label="Role", max_length=80, required=False)

    def clean_allocation_percent(self) -> int:
        value = self.cleaned_data["allocation_percent"]
        if not 1 <= value <= 100:
            raise forms.ValidationError(
                "An allocation is a share of the person's time: 1 to 100 %."
            )
        return value
