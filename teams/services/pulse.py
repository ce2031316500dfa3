"""Writes of the team pulse: open a round with its questions, store one person's answers."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from teams.models import ProductTeam, PulseAnswer, PulseQuestion, PulseResponse, PulseRound
from teams.services.saving import validated


@transaction.atomic
def pulse_answer(
    *, pulse_round: PulseRound, respondent, scores: dict[int, int], on: dt.date
) -> None:
    """Store one person's answers to an open round; the answers keep no trace of who gave them.

    `scores` maps each question id of the round to 1–5. Raises ValidationError when the round is
    not open on `on`, the person already answered, or a question is missing or out of range.
    """
    if not pulse_round.opens_on <= on <= pulse_round.closes_on:
        raise ValidationError("This pulse round is not open.")
    questions = list(pulse_round.questions.all())
    errors = {
        f"question_{q.pk}": "Pick a score from 1 to 5."
        for q in questions
        if scores.get(q.pk) not in {1, 2, 3, 4, 5}
    }
    if errors:
        raise ValidationError(errors)
    response = PulseResponse(round=pulse_round, respondent=respondent)
    response.validate_constraints()
    response.save()
    PulseAnswer.objects.bulk_create(PulseAnswer(question=q, score=scores[q.pk]) for q in questions)


MAX_PULSE_QUESTIONS = 8


@transaction.atomic
def pulse_round_open(
    *, team: ProductTeam, opens_on: dt.date, closes_on: dt.date, questions: list[str]
) -> PulseRound:
    """Open a pulse round for `team` with its 1–5 questions, in the order given.

    Raises ValidationError naming the field: a round that closes before it opens or overlaps
    another round of the team (`closes_on` / `opens_on`), no question, more than
    MAX_PULSE_QUESTIONS, a question repeated or longer than 200 characters (`questions`).
    """
    texts = [text.strip() for text in questions if text.strip()]
    errors: dict[str, str] = {}
    if not texts:
        errors["questions"] = "Ask at least one question."
    elif len(texts) > MAX_PULSE_QUESTIONS:
        errors["questions"] = f"A pulse stays short: at most {MAX_PULSE_QUESTIONS} questions."
    elif len({text.casefold() for text in texts}) != len(texts):
        errors["questions"] = "A question is asked twice."
    elif any(len(text) > 200 for text in texts):
        errors["questions"] = "Keep each question under 200 characters."
    if closes_on < opens_on:
        errors["closes_on"] = "A round cannot close before it opens."
    else:
        overlapping = (
            PulseRound.objects.select_for_update()
            .filter(team=team, opens_on__lte=closes_on, closes_on__gte=opens_on)
            .first()
        )
        if overlapping is not None:
            errors["opens_on"] = (
                f"{team} already has a pulse round from {overlapping.opens_on:%d %b %Y} to "
                f"{overlapping.closes_on:%d %b %Y}; rounds of a team do not overlap."
            )
    if errors:
        raise ValidationError(errors)
    pulse_round = validated(PulseRound(team=team, opens_on=opens_on, closes_on=closes_on))
    for position, text in enumerate(texts, start=1):
        validated(PulseQuestion(round=pulse_round, position=position, text=text))
    return pulse_round
