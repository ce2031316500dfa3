from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.module_loading import import_string

from portfolio.demo import DEMO_LOGINS, demo_seed

# Further demo content, seeded in this order after the organisation. Each step is idempotent,
# takes `today` and returns one line saying what exists.
DEMO_STEPS: list[str] = [
    "valuestreams.demo.seed_history",  # first: two years of delivery history and its metrics
    "teams.demo.seed.seed_outcomes",  # after the valuestreams history, before funding
    "leanpmo.demo.funding.seed_funding",  # funds the streams and teams seeded before it
    "teams.demo.seed.seed_theme_links",  # the funding's strategic themes get their portfolio objectives
    "leanpmo.demo.scenarios.seed_scenarios",  # a what-if per portfolio on the funded current period
    "leanpmo.demo.initiatives.seed_initiatives",  # bets on the kanban; starts/stops are decisions
    "valuestreams.demo.seed_targets",  # recompute so flow distribution meets the funded mix
    "leanpmo.demo.signals.seed_signals",  # last: what the steward finds in all of the above
]


class Command(BaseCommand):
    help = "Create the Harbour Bank demo organisation and demo logins (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Repeat every value stream with its teams this many times (benchmarks: 10).",
        )

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        if options["scale"] < 1:
            raise CommandError("--scale must be a whole number of at least 1.")
        counts = demo_seed(today=today, scale=options["scale"])
        self.stdout.write(
            "Demo organisation ready: {portfolios} portfolios, {value_streams} value streams, "
            "{teams} teams, {people} people.".format(**counts)
        )
        for step in DEMO_STEPS:
            self.stdout.write(import_string(step)(today=today))
        self.stdout.write(f"Demo logins (password “{settings.DEMO_PASSWORD}”):")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<10} {login.name:<14} {login.what}")
