"""Atelier's run API for training scripts: `from atelier import run`."""
from .run import Run, run

__all__ = ["Run", "run"]
