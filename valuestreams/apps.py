from django.apps import AppConfig


class ValueStreamsConfig(AppConfig):
    name = "valuestreams"
    verbose_name = "Value streams"
