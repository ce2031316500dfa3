from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portfolio.models import Portfolio
from portfolio.services import integration_token_issue


class Command(BaseCommand):
    help = (
        "Issue an integration token for one portfolio and print it once "
        "(only its SHA-256 digest is stored)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--portfolio", required=True, help="The portfolio's name or id.")
        parser.add_argument("--name", required=True, help="What will use the token, e.g. ci.")
        parser.add_argument("--days", type=int, default=90, help="Days until it expires (1–366).")

    def handle(self, *args, portfolio: str, name: str, days: int, **options) -> None:
        found = Portfolio.objects.filter(name__iexact=portfolio.strip())
        if portfolio.strip().isdigit():
            found = found | Portfolio.objects.filter(pk=int(portfolio))
        if found.count() != 1:
            known = ", ".join(Portfolio.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No portfolio named or numbered “{portfolio}”. Known: {known}.")
        try:
            issued = integration_token_issue(
                portfolio=found.get(), name=name, days=days, now=timezone.now()
            )
        except ValidationError as exc:
            problems = [
                f"{field}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
            raise CommandError("; ".join(problems)) from exc
        token = issued.token
        self.stdout.write(
            f"Token “{token.name}” for {token.portfolio}, scopes {', '.join(token.scopes)}, "
            f"expires {token.expires_at:%Y-%m-%d %H:%M %Z}."
        )
        self.stdout.write("Copy it now; it is not stored and cannot be shown again:")
        self.stdout.write(issued.text)
