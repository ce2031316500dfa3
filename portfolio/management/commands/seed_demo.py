from django.conf import settings
from django.core.management.base import BaseCommand

from portfolio.demo import DEMO_LOGINS, demo_seed


class Command(BaseCommand):
    help = "Create the Harbour Bank demo organisation and demo logins (idempotent)."

    def handle(self, *args, **options) -> None:
        counts = demo_seed()
        self.stdout.write(
            "Demo organisation ready: {portfolios} portfolios, {value_streams} value streams, "
            "{teams} teams, {people} people.".format(**counts)
        )
        self.stdout.write(f"Demo logins (password “{settings.DEMO_PASSWORD}”):")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<10} {login.name:<14} {login.what}")
