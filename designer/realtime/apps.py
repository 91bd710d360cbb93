from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "designer.realtime"
    label = "realtime"
    verbose_name = "Real time"
