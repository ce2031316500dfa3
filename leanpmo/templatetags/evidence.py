"""Template filters for frozen evidence snapshots."""

from django import template

from valuestreams.selectors.dashboard import caveat_messages

register = template.Library()


@register.filter
def caveat_lines(caveats: dict | None) -> list[str]:
    """The snapshot's data-quality caveats as plain sentences (empty when there are none).

    A template cannot loop over a caveats dict safely: its "items" count hides dict.items.
    """
    return caveat_messages(caveats)
