"""`azureml.core` offline: `Run.get_context()` logs into the step running the script
(modules.sdk.run_log); whatever needs the Azure ML service says what to use instead."""
from __future__ import annotations

from typing import IO, Any

from modules.sdk.run_log import RunLog, current_log


class OfflineServiceError(RuntimeError):
    """A call that needs the Azure ML service, which Atelier's steps never reach."""


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


class Run:
    """The step's run. `log`, `log_list`, `log_row`, `log_table`, `log_image`, `tag` and
    `upload_file` record into the step (its metrics, images and run log)."""

    def __init__(self, log: RunLog) -> None:
        self._log = log
        self.id = "offline"
        self.experiment = Experiment()

    @classmethod
    def get_context(cls, allow_offline: bool = True, **kwargs: Any) -> "Run":
        log = current_log()
        if log is None:
            raise OfflineServiceError("Run.get_context() only works while a step runs the script")
        return cls(log)

    @property
    def parent(self) -> "Run":
        # The designer's scripts log to the pipeline run through `run.parent`: here the
        # step is the one place its logs are shown.
        return self

    def log(self, name: str, value: Any, description: str = "", step: Any = None) -> None:
        self._log.log(name, value, description)

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        self._log.log_list(name, value, description)

    def log_row(self, name: str, description: str = "", **kwargs: Any) -> None:
        self._log.log_row(name, description, **kwargs)

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        self._log.log_table(name, value, description)

    def log_image(self, name: str, path: str | None = None, plot: Any = None, description: str = "") -> None:
        self._log.log_image(name, path=path, plot=plot, description=description)

    def tag(self, key: str, value: Any = None) -> None:
        self._log.tag(key, value)

    def set_tags(self, tags: dict[str, Any]) -> None:
        for key, value in tags.items():
            self._log.tag(key, value)

    def upload_file(self, name: str, path_or_stream: str | IO[bytes]) -> None:
        self._log.upload_file(name, path_or_stream)

    def complete(self) -> None:
        pass


class Dataset:
    @staticmethod
    def get_by_name(workspace: Any = None, name: str = "", version: Any = "latest", **kwargs: Any) -> Any:
        raise OfflineServiceError(
            f"Dataset.get_by_name({name!r}) needs the Azure ML service, which steps do not reach: "
            f"add an Import Data module (source: dataset, name: {name!r}) and connect it to an "
            "input of this module; the table arrives as dataframe1 or dataframe2"
        )

    @staticmethod
    def get_by_id(workspace: Any = None, id: str = "", **kwargs: Any) -> Any:
        raise OfflineServiceError(
            "Dataset.get_by_id needs the Azure ML service, which steps do not reach: add an Import "
            "Data module and connect it to an input of this module"
        )


__all__ = ["Dataset", "Experiment", "OfflineServiceError", "Run", "Workspace"]
