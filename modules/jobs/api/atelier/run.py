"""The run API of a job: what a training script logs is recorded with its run.

    from atelier import run
    run.log("accuracy", 0.91)            # a metric; logged again, it is a series (a line chart)
    run.log_list("loss", [0.9, 0.5, 0.3])
    run.log_row("per_class", label="a", f1=0.8)
    run.log_table("confusion", {"actual": [0, 1], "predicted": [0, 1]})
    run.log_image("roc", path="roc.png")  # or plot=<a matplotlib figure or pyplot>
    run.tag("stage", "baseline")
    run.upload_file("model.pkl", "model.pkl")  # kept with the run's ./outputs

Inside Atelier each call appends a line to the run log the Run Script step reads (and
metrics go out live); outside Atelier (no run log configured) the calls print what they
would record, so the same script runs on a laptop. Plain Python, no dependency: it runs in
any job environment.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

_RUN_LOG_ENV = "ATELIER_RUN_LOG"  # the same name as modules.jobs.RUN_LOG_ENV (not importable here)
_EVENT_PREFIX = "::atelier::"  # the step contract's structured line (modules.sdk.context)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class Run:
    """One run of a training script; `Run.get_context()` is the current one."""

    _current: "Run | None" = None

    def __init__(self, log_path: str | None) -> None:
        self._log_path = Path(log_path) if log_path else None

    @classmethod
    def get_context(cls) -> "Run":
        if cls._current is None:
            cls._current = cls(os.environ.get(_RUN_LOG_ENV))
        return cls._current

    @property
    def offline(self) -> bool:
        """True outside Atelier: calls only print."""
        return self._log_path is None

    def _record(self, record: dict[str, Any]) -> None:
        if self._log_path is None:
            print(f"[atelier run, offline] {json.dumps(record, default=str)}")
            return
        with self._log_path.open("a") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def log(self, name: str, value: Any, description: str = "") -> None:
        """A metric: a number is charted; anything else is kept as text."""
        number = _number(value)
        self._record({"kind": "metric", "name": str(name), "value": number if number is not None else str(value)})
        if number is not None and self._log_path is not None:
            sys.stdout.write(_EVENT_PREFIX + json.dumps({"type": "metric", "name": str(name), "value": number}) + "\n")
            sys.stdout.flush()

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        for item in value:
            self.log(name, item)

    def log_row(self, name: str, description: str = "", **values: Any) -> None:
        self._record({"kind": "row", "name": str(name), "value": {str(k): v for k, v in values.items()}})

    def log_table(self, name: str, value: Mapping[str, Iterable[Any]], description: str = "") -> None:
        self._record({"kind": "table", "name": str(name), "value": {str(k): list(v) for k, v in value.items()}})

    def log_image(self, name: str, path: str | None = None, plot: Any = None, description: str = "") -> None:
        """An image: a PNG file at `path`, or a matplotlib figure (or pyplot) as `plot`."""
        if self._log_path is None:
            print(f"[atelier run, offline] image {name!r}")
            return
        folder = self._log_path.parent / "images"
        folder.mkdir(exist_ok=True)
        target = folder / ((_SAFE_NAME.sub("_", str(name)).strip("._")[:80] or "image") + ".png")
        if path is not None:
            shutil.copyfile(path, target)
        elif plot is not None:
            buffer = io.BytesIO()
            plot.savefig(buffer, format="png")
            target.write_bytes(buffer.getvalue())
        else:
            raise ValueError("log_image needs a path or a plot")
        self._record({"kind": "image", "name": str(name), "file": target.name})

    def tag(self, key: str, value: Any = None) -> None:
        self._record({"kind": "tag", "name": str(key), "value": "" if value is None else str(value)})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        for key, value in tags.items():
            self.tag(key, value)

    def upload_file(self, name: str, path_or_stream: Any) -> None:
        """Keep a file with the run's outputs, as `outputs/<name>`."""
        if self._log_path is None:
            print(f"[atelier run, offline] upload {name!r}")
            return
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"upload_file: {name!r} must be a relative name inside outputs/")
        # The run log is in <job folder>/.atelier/: outputs/ is beside it, wherever the script chdir'd.
        target = self._log_path.parent.parent / "outputs" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(path_or_stream, "read"):
            target.write_bytes(path_or_stream.read())
        elif Path(path_or_stream).resolve() != target.resolve():
            shutil.copyfile(path_or_stream, target)

    def complete(self) -> None:
        """Nothing to do: a run ends when its script does."""

    def flush(self) -> None:
        """Nothing to do: every call is written at once."""


run = Run.get_context()
