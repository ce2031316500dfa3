from django.apps import AppConfig


class LeanPmoConfig(AppConfig):
    name = "leanpmo"
    verbose_name = "Lean PMO"

    def ready(self) -> None:
        from portfolio.sections import register_clock

        # a signal's acknowledgement that runs out puts it back among the open ones
        register_clock(
            "SELECT min(expires_at) FROM leanpmo_signalacknowledgement WHERE expires_at > %(now)s"
        )
