"""`from azureml.core.run import Run`, as some of the designer's scripts write it."""
from . import Run

__all__ = ["Run"]
