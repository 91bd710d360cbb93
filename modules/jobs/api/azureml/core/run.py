"""`from azureml.core.run import Run` works too."""
from atelier.run import Run

__all__ = ["Run"]
