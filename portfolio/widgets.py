"""Form widgets every app shares."""

from django import forms
from django.forms.widgets import Input
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


def date_input() -> forms.DateInput:
    """A browser date picker. Its value must be ISO (YYYY-MM-DD) whatever the language: a picker
    given a localised date such as 02/06/2025 shows nothing and submits nothing."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DirectInput(Input):
    """An ``<input>`` written in Python instead of through the template engine: exactly the HTML of
    Django's ``django/forms/widgets/input.html`` (type, name, value unless None, then each attribute,
    a True one bare and a False one left out, everything escaped), at a fraction of the cost. For
    grids of hundreds of cells (the money grid: ~500 inputs a page), where the template engine's
    per-widget work was most of the page's time. BoundField still builds the attributes (id,
    aria-invalid, …); tests/portfolio/test_widgets.py compares the output with Django's template.
    A widget given a template of its own is rendered through it as usual."""

    def _render(self, template_name, context, renderer=None) -> SafeString:
        if template_name != type(self).template_name:
            return super()._render(template_name, context, renderer)
        widget = context["widget"]
        html = [f'<input type="{conditional_escape(widget["type"])}"']
        html.append(f' name="{conditional_escape(widget["name"])}"')
        if widget["value"] is not None:
            html.append(f' value="{conditional_escape(str(widget["value"]))}"')
        for name, value in widget["attrs"].items():
            if value is True:
                html.append(f" {conditional_escape(name)}")
            elif value is not False:
                html.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
        html.append(">")
        return mark_safe("".join(html))  # every part above is escaped


class DirectTextInput(DirectInput, forms.TextInput):
    """A text input written without the template engine (see DirectInput)."""


class DirectHiddenInput(DirectInput, forms.HiddenInput):
    """A hidden input written without the template engine (see DirectInput)."""
