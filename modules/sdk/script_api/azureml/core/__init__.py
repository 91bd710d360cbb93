"""`azureml.core`: `Run.get_context()` is Atelier's run of the script (atelier.run), with the
same logging methods; whatever needs the Azure ML service says what to use instead."""
from __future__ import annotations

from typing import Any

from atelier.run import Run as _AtelierRun


class OfflineServiceError(RuntimeError):
    """A call that needs the Azure ML service, which Atelier's scripts never reach."""


class Workspace:
    """The workspace a script's run belongs to: it names nothing reachable."""

    name = "atelier"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    @classmethod
    def from_config(cls, *args: Any, **kwargs: Any) -> "Workspace":
        return cls()

    @classmethod
    def get(cls, *args: Any, **kwargs: Any) -> "Workspace":
        return cls()


class Experiment:
    def __init__(self, workspace: Workspace | None = None, name: str = "atelier") -> None:
        self.workspace = workspace or Workspace()
        self.name = name


class Run(_AtelierRun):
    """The script's run, as Azure ML's `Run.get_context()` returns it."""

    id = "atelier"

    @property
    def experiment(self) -> Experiment:
        return Experiment()

    @property
    def parent(self) -> "Run":
        # The designer's scripts log to the pipeline run through `run.parent`: here the
        # step is the one place its logs are shown.
        return self


class Dataset:
    @staticmethod
    def get_by_name(workspace: Any = None, name: str = "", version: Any = "latest", **kwargs: Any) -> Any:
        raise OfflineServiceError(
            f"Dataset.get_by_name({name!r}) needs the Azure ML service, which Atelier does not reach: "
            f"add an Import Data module (source: dataset, name: {name!r}) and connect it to an "
            "input of this module (the table arrives as dataframe1 or dataframe2), or give a job "
            f"the input --input {name}=dataset:{name}"
        )

    @staticmethod
    def get_by_id(workspace: Any = None, id: str = "", **kwargs: Any) -> Any:
        raise OfflineServiceError(
            "Dataset.get_by_id needs the Azure ML service, which Atelier does not reach: add an Import "
            "Data module and connect it to an input of this module, or give a job the dataset as an input"
        )


__all__ = ["Dataset", "Experiment", "OfflineServiceError", "Run", "Workspace"]
