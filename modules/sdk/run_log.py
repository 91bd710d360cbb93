"""What a user's script logs about its run: metrics, series, tables, images, tags, files.

The one logging API for code that users write (Execute Python Script today; jobs can use
the same): a script calls `run.log("rmse", 0.3)` (`from modules.sdk.run_log import run`), or
the Azure ML SDK's `Run.get_context().log(...)` through the offline stand-in in
`modules/sdk/stand_ins/azureml` (see `offline_azureml`). Whatever is logged becomes the
step's own records through its StepContext:

- a number logged with `log` is a step metric (the last value logged under a name);
  every value logged under that name, numbers or not, is kept as a series;
- `log_list`, `log_row` and `log_table` keep series and tables; `tag` keeps tags; all of
  them are the step's `run_log` visual;
- `log_image` (a PNG file or a matplotlib figure) is a step image; `upload_file` of a PNG
  is one too, other files are listed by name and size in the visual.

What a script logs is untrusted like anything else a step reports: names and sizes are
bounded here (and the host bounds the manifest again).
"""
from __future__ import annotations

import contextlib
import math
import sys
from numbers import Real
from pathlib import Path
from typing import IO, Any, Iterator, Mapping

from .context import StepContext

VISUAL = "run_log"
MAX_NAME = 200
# Bounds on what one step keeps, so a script looping over `log` cannot grow the manifest
# past what the host reads.
MAX_VALUES = 10_000
MAX_TEXT = 1_000
MAX_TAGS = 100
# Where the offline `azureml` package lives: put first on sys.path by `offline_azureml`.
STAND_INS = Path(__file__).resolve().parent / "stand_ins"


class RunLogError(ValueError):
    """A call the log cannot record (bad name, too much data); raised in the user's script."""


def _name(name: Any) -> str:
    text = str(name)
    if not text or len(text) > MAX_NAME:
        raise RunLogError(f"a logged name must have 1 to {MAX_NAME} characters, got {len(text)}")
    return text


def _value(value: Any) -> Any:
    """A JSON-safe value: finite numbers stay numbers; anything else is its text, shortened."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Real):
        number = float(value)
        return number if math.isfinite(number) else None
    return str(value)[:MAX_TEXT]


class RunLog:
    """The log of one step's script, written into `ctx` as it is called."""

    def __init__(self, ctx: StepContext) -> None:
        self._ctx = ctx
        self._series: dict[str, list[Any]] = {}
        self._tables: dict[str, dict[str, list[Any]]] = {}
        self._tags: dict[str, str] = {}
        self._files: list[dict[str, Any]] = []
        self._kept = 0

    def log(self, name: str, value: Any, description: str = "") -> None:
        """Record `value` under `name`; a number is the step's metric `name` (the last one wins)."""
        name = _name(name)
        kept = _value(value)
        self._append(name, [kept])
        if isinstance(kept, float):
            self._ctx.metric(name, kept)

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        name = _name(name)
        self._append(name, [_value(v) for v in value])

    def log_row(self, name: str, description: str = "", **row: Any) -> None:
        """Add a row (column=value) to the table `name`; a new column is empty in earlier rows."""
        table = self._table(_name(name))
        height = max((len(column) for column in table.values()), default=0)
        self._count(1 + len(row))
        for column in row:
            table.setdefault(_name(column), [None] * height)
        for column, values in table.items():
            values.append(_value(row[column]) if column in row else None)

    def log_table(self, name: str, value: Mapping[str, list[Any]], description: str = "") -> None:
        """Add the columns of `value` ({column: [values]}) to the table `name`."""
        table = self._table(_name(name))
        for column, values in value.items():
            converted = [_value(v) for v in values]
            self._count(len(converted))
            table.setdefault(_name(column), []).extend(converted)

    def log_image(self, name: str, path: str | Path | None = None, plot: Any = None, description: str = "") -> None:
        """A PNG file (`path`) or a matplotlib figure or pyplot (`plot`) as a step image."""
        name = _name(name)
        if (path is None) == (plot is None):
            raise RunLogError("log_image needs either path or plot")
        if path is not None:
            self._ctx.image(name, Path(path).read_bytes())
        else:
            self._ctx.image(name, plot.gcf() if hasattr(plot, "gcf") else plot)

    def tag(self, key: str, value: Any = None) -> None:
        if len(self._tags) >= MAX_TAGS and key not in self._tags:
            raise RunLogError(f"a step keeps at most {MAX_TAGS} tags")
        self._tags[_name(key)] = "" if value is None else str(value)[:MAX_TEXT]
        self._publish()

    def upload_file(self, name: str, path_or_stream: str | Path | IO[bytes]) -> None:
        """A PNG becomes a step image; another file is listed (name, bytes) but not kept."""
        name = _name(name)
        if isinstance(path_or_stream, (str, Path)):
            data = Path(path_or_stream).read_bytes()
        else:
            data = path_or_stream.read()
            data = data.encode() if isinstance(data, str) else data
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            self._ctx.image(Path(name).name, data)
        else:
            self._count(1)
            self._files.append({"name": name, "bytes": len(data)})
            self._ctx.log(f"upload_file({name!r}): {len(data)} bytes, listed in the run log (only images are kept)")
        self._publish()

    def _append(self, name: str, values: list[Any]) -> None:
        self._count(len(values))
        self._series.setdefault(name, []).extend(values)
        self._publish()

    def _table(self, name: str) -> dict[str, list[Any]]:
        table = self._tables.setdefault(name, {})
        self._publish()
        return table

    def _count(self, values: int) -> None:
        self._kept += values
        if self._kept > MAX_VALUES:
            raise RunLogError(f"a step's run log keeps at most {MAX_VALUES:,} values")

    def _publish(self) -> None:
        # The same dicts: later appends show without publishing again.
        self._ctx.visual(VISUAL, {"series": self._series, "tables": self._tables, "tags": self._tags, "files": self._files})


class _CurrentRun:
    """`run`: the log of the step running now (a script imports it once, at its top)."""

    _active: RunLog | None = None

    def __getattr__(self, attribute: str) -> Any:
        if _CurrentRun._active is None:
            raise RuntimeError("the run log is only available while a step runs a script")
        return getattr(_CurrentRun._active, attribute)


run: Any = _CurrentRun()


def current_log() -> RunLog | None:
    return _CurrentRun._active


@contextlib.contextmanager
def logging_to(ctx: StepContext) -> Iterator[RunLog]:
    """While the block runs, `run` (and the azureml stand-in's Run) log into `ctx`."""
    previous, _CurrentRun._active = _CurrentRun._active, RunLog(ctx)
    try:
        yield _CurrentRun._active
    finally:
        _CurrentRun._active = previous


@contextlib.contextmanager
def offline_azureml() -> Iterator[None]:
    """`import azureml.core` finds the offline stand-in while the block runs (and is forgotten
    after, so a warm worker's next script imports it fresh)."""
    sys.path.insert(0, str(STAND_INS))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(STAND_INS))
        for name in [m for m in sys.modules if m == "azureml" or m.startswith("azureml.")]:
            del sys.modules[name]
