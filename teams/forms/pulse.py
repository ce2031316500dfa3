"""Forms of the team pulse: Lean PMO opens a round with its questions; a member answers it."""

from django import forms

from portfolio.widgets import date_input
from teams.models import PulseRound


class PulseAnswerForm(forms.Form):
    """One 1–5 choice per question of a pulse round."""

    SCORES = [(n, str(n)) for n in range(1, 6)]

    def __init__(self, *args, pulse_round: PulseRound, **kwargs):
        super().__init__(*args, **kwargs)
        for question in pulse_round.questions.all():
            self.fields[f"question_{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=self.SCORES,
                coerce=int,
                widget=forms.RadioSelect,
                help_text="1 = strongly disagree, 5 = strongly agree",
            )

    def scores(self) -> dict[int, int]:
        return {int(name.split("_")[1]): value for name, value in self.cleaned_data.items()}


DEFAULT_PULSE_QUESTIONS = (
    "I can ship a change without waiting on other teams.",
    "Our tools and environments let me work in flow.",
    "I know why our current work matters to customers.",
)


class PulseRoundForm(forms.ModelForm):
    """Parses a pulse round: its dates and its questions, one per line."""

    questions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One question per line, each answered from 1 (strongly disagree) to 5.",
        initial="\n".join(DEFAULT_PULSE_QUESTIONS),
    )

    class Meta:
        model = PulseRound
        fields = ["opens_on", "closes_on"]
        widgets = {
            "opens_on": date_input(),
            "closes_on": date_input(),
        }

    def clean_questions(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["questions"].splitlines()]

    def _post_clean(self) -> None:
        """No model validation here: the service validates the round and its questions together."""
