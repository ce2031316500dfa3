from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolios"

    def ready(self) -> None:
        from portfolio.sections import install_triggers

        post_migrate.connect(install_triggers, sender=self, dispatch_uid="steward-data-changes")
