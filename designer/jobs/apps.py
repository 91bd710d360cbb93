from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "designer.jobs"
    label = "jobs"
    verbose_name = "Jobs"
