"""The weekly signals digest by e-mail: to executives and the Lean PMO of each portfolio, on
Monday morning in the portfolio's time zone, once per person and week; and the opt-out."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from leanpmo.models import DigestDelivery, DigestPreference
from leanpmo.panels.digest import Digest, digest, iso_week
from portfolio.models import Portfolio, PortfolioMembership

logger = logging.getLogger(__name__)

SEND_FROM_HOUR = 8  # local time, Monday


def digest_message(content: Digest) -> EmailMultiAlternatives:
    """The digest as an e-mail (plain text and HTML), links absolute from STEWARD_BASE_URL."""
    context = {"digest": content, "base_url": settings.STEWARD_BASE_URL.rstrip("/")}
    message = EmailMultiAlternatives(
        subject=content.subject,
        body=render_to_string("leanpmo/email/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[content.person.email],
    )
    message.attach_alternative(render_to_string("leanpmo/email/digest.html", context), "text/html")
    return message


def _due(portfolio: Portfolio, now: dt.datetime) -> bool:
    local = now.astimezone(zoneinfo.ZoneInfo(portfolio.time_zone))
    return local.weekday() == 0 and local.hour >= SEND_FROM_HOUR


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Send this week's digest to every executive and Lean PMO with an e-mail address who did not
    opt out, in each portfolio where it is Monday 08:00 or later (local) and they have not had it
    this week. Each send is recorded first (the record is unique per person, portfolio and week,
    so two beats never send twice) and forgotten if the mail server refuses it (the next hourly
    beat tries again). Returns the number sent."""
    now = now or timezone.now()
    opted_out = set(
        DigestPreference.objects.filter(weekly_digest=False).values_list("person_id", flat=True)
    )
    sent = 0
    for portfolio in Portfolio.objects.order_by("pk"):
        if not _due(portfolio, now):
            continue
        week = iso_week(portfolio, now)
        done = set(
            DigestDelivery.objects.filter(portfolio=portfolio, week=week).values_list(
                "person_id", flat=True
            )
        )
        memberships = (
            PortfolioMembership.objects.filter(portfolio=portfolio)
            .exclude(user__email="")
            .exclude(user_id__in=opted_out | done)
            .select_related("user")
            .order_by("user_id")
        )
        for membership in memberships:
            sent += _send_one(membership.user, portfolio, role=membership.role, week=week, now=now)
    return sent


def _send_one(person, portfolio: Portfolio, *, role: str, week: str, now: dt.datetime) -> int:
    try:
        with transaction.atomic():
            DigestDelivery.objects.create(
                portfolio=portfolio, person=person, week=week, sent_at=now
            )
            digest_message(digest(person, portfolio, role=role, now=now)).send()
    except IntegrityError:  # another beat sent it meanwhile
        return 0
    except Exception:  # the mail server refused: not recorded, the next beat tries again
        logger.exception("weekly digest of %s to %s failed", portfolio.pk, person.pk)
        return 0
    return 1


@transaction.atomic
def digest_preference_set(*, person, weekly_digest: bool) -> DigestPreference:
    """Turn the person's weekly digest on or off."""
    preference, _ = DigestPreference.objects.update_or_create(
        person=person, defaults={"weekly_digest": weekly_digest}
    )
    return preference


def receives_digest(person) -> bool:
    """Whether the person gets the weekly digest (on unless they turned it off)."""
    preference = DigestPreference.objects.filter(person=person).first()
    return preference is None or preference.weekly_digest
