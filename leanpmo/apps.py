from django.apps import AppConfig


class LeanPmoConfig(AppConfig):
    name = "leanpmo"
    verbose_name = "Lean PMO"
