"""Atelier's run API for users' scripts: `from atelier import run` (see atelier.run)."""
from .run import Run, run

__all__ = ["Run", "run"]
