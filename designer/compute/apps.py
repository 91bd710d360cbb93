from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_targets(sender: AppConfig, **kwargs: Any) -> None:
    from .backends import compute_targets_seed

    compute_targets_seed()


class ComputeConfig(AppConfig):
    name = "designer.compute"
    label = "compute"
    verbose_name = "Compute"

    def ready(self) -> None:
        # Packs' compute targets are created when the deployment migrates, as Atelier's are.
        post_migrate.connect(_seed_targets, sender=self)
