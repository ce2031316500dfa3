from django import forms

from portfolio.models import Portfolio
from portfolio.selectors import portfolio_people
from valuestreams.models import ValueStream


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
