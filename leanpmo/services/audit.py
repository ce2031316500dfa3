"""Who made a write, for the audit history (django-pghistory's context)."""

from __future__ import annotations

from typing import Any


def actor(user) -> dict[str, Any]:
    """``pghistory.context`` keywords naming `user`; none for anonymous or no user."""
    return {"user": user.pk} if user is not None and user.is_authenticated else {}
