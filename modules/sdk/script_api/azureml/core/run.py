"""`from azureml.core.run import Run`, as some scripts write it."""
from . import Run

__all__ = ["Run"]
