from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "designer.web"
    label = "web"
    verbose_name = "Canvas pages"
