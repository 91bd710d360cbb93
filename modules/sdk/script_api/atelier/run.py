"""The run API of a user's script (a job's, or Execute Python Script's): what it logs is
recorded with its step.

    from atelier import run
    run.log("accuracy", 0.91)            # a number is a metric (the last one wins) and a series point
    run.log_list("loss", [0.9, 0.5, 0.3])  # a series (a line chart)
    run.log_row("per_class", label="a", f1=0.8)   # a row of the table `per_class`
    run.log_table("confusion", {"actual": [0, 1], "predicted": [0, 1]})
    run.log_image("roc", path="roc.png")  # or plot=<a matplotlib figure or pyplot>
    run.tag("stage", "baseline")
    run.upload_file("model.pkl", "model.pkl")  # kept with a job's ./outputs; a PNG is an image

Inside Atelier each call appends a line to the run log named by $ATELIER_RUN_LOG, which the
step reads when the script ends (modules.sdk.run_log), and a metric also goes out live as
the step contract's structured line. Outside Atelier the calls print what they would
record, so the same script runs on a laptop. Plain Python, no dependency and nothing of
Atelier imported: it runs in any job environment.
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

# The same names as modules.sdk.run_log's, which this file cannot import.
RUN_LOG_ENV = "ATELIER_RUN_LOG"
UPLOADS_ENV = "ATELIER_RUN_UPLOADS"
_EVENT_PREFIX = "::atelier::"  # the step contract's structured line (modules.sdk.context)
MAX_NAME = 200
MAX_TEXT = 1_000
# A script looping over `log` is stopped here, with a message, rather than filling its disk;
# the step reads at most as much again.
MAX_VALUES = 10_000
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class RunLogError(ValueError):
    """A call the run log cannot record (a bad name, too much data)."""


def _name(name: Any) -> str:
    text = str(name)
    if not text or len(text) > MAX_NAME:
        raise RunLogError(f"a logged name must have 1 to {MAX_NAME} characters, got {len(text)}")
    return text


def _value(value: Any) -> Any:
    """A JSON-safe value: finite numbers are numbers; anything else is its text, shortened."""
    if isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)[:MAX_TEXT]
    return number if math.isfinite(number) else None


class Run:
    """One run of a script; `Run.get_context()` (or `run`) is the current one."""

    _current: "Run | None" = None
    # Where the run log and uploads go when Atelier runs the script in its own process
    # (Execute Python Script) and says so here; else the environment says (a job's process).
    _where: "tuple[str, str | None] | None" = None

    def __init__(self, log_path: str | None, uploads: str | None = None) -> None:
        self._log_path = Path(log_path) if log_path else None
        self._uploads = Path(uploads) if uploads else None
        self._values = 0

    @classmethod
    def get_context(cls, allow_offline: bool = True, **kwargs: Any) -> "Run":
        if not isinstance(Run._current, cls):
            log, uploads = Run._where or (os.environ.get(RUN_LOG_ENV), os.environ.get(UPLOADS_ENV))
            Run._current = cls(log, uploads)
        return Run._current

    @property
    def offline(self) -> bool:
        """True outside Atelier: calls only print."""
        return self._log_path is None

    def _record(self, kind: str, name: Any, values: int = 1, **fields: Any) -> None:
        self._values += values
        if self._values > MAX_VALUES:
            raise RunLogError(f"a run log keeps at most {MAX_VALUES:,} values")
        record = {"kind": kind, "name": _name(name), **fields}
        if self._log_path is None:
            print(f"[atelier run, offline] {json.dumps(record, default=str)}")
            return
        with self._log_path.open("a") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def log(self, name: str, value: Any, description: str = "", step: Any = None) -> None:
        """A number is a metric (charted when logged again); anything else is kept as text."""
        kept = _value(value)
        self._record("metric", name, value=kept)
        if isinstance(kept, float) and self._log_path is not None:
            sys.stdout.write(_EVENT_PREFIX + json.dumps({"type": "metric", "name": str(name), "value": kept}) + "\n")
            sys.stdout.flush()

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        values = [_value(item) for item in value]
        self._record("list", name, values=len(values), value=values)

    def log_row(self, name: str, description: str = "", **row: Any) -> None:
        self._record("row", name, values=len(row), value={_name(k): _value(v) for k, v in row.items()})

    def log_table(self, name: str, value: Mapping[str, Iterable[Any]], description: str = "") -> None:
        table = {_name(k): [_value(v) for v in column] for k, column in value.items()}
        self._record("table", name, values=sum(map(len, table.values())), value=table)

    def log_image(self, name: str, path: str | Path | None = None, plot: Any = None, description: str = "") -> None:
        """An image: a PNG file at `path`, or a matplotlib figure (or pyplot) as `plot`."""
        if (path is None) == (plot is None):
            raise RunLogError("log_image needs either path or plot")
        if self._log_path is None:
            print(f"[atelier run, offline] image {name!r}")
            return
        folder = self._log_path.parent / "images"
        folder.mkdir(exist_ok=True)
        target = folder / ((_SAFE_NAME.sub("_", str(name)).strip("._")[:80] or "image") + ".png")
        if path is not None:
            shutil.copyfile(path, target)
        else:
            buffer = io.BytesIO()
            (plot.gcf() if hasattr(plot, "gcf") else plot).savefig(buffer, format="png")
            target.write_bytes(buffer.getvalue())
        self._record("image", name, file=target.name)

    def tag(self, key: str, value: Any = None) -> None:
        self._record("tag", key, value="" if value is None else str(value)[:MAX_TEXT])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        for key, value in tags.items():
            self.tag(key, value)

    def upload_file(self, name: str, path_or_stream: Any) -> None:
        """Keep a file with the run's uploads (a job's ./outputs, as `outputs/<name>`); a PNG
        is also one of the step's images."""
        relative = Path(_name(name))
        if relative.is_absolute() or ".." in relative.parts:
            raise RunLogError(f"upload_file: {name!r} must be a relative name")
        if self._log_path is None or self._uploads is None:
            print(f"[atelier run, offline] upload {name!r}")
            return
        target = self._uploads / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(path_or_stream, "read"):
            data = path_or_stream.read()
            target.write_bytes(data.encode() if isinstance(data, str) else data)
        elif Path(path_or_stream).resolve() != target.resolve():
            shutil.copyfile(path_or_stream, target)
        self._record("file", name, file=relative.as_posix())

    def complete(self) -> None:
        """Nothing to do: a run ends when its script does."""

    def flush(self) -> None:
        """Nothing to do: every call is written at once."""


class _CurrentRun:
    """`run`: the current run, whichever it is when a call is made (a script imports it once)."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(Run.get_context(), attribute)


run: Any = _CurrentRun()
