"""What a user's script logged about its run, recorded with its step.

Scripts log through one API (`script_api/`: `from atelier import run`, or the Azure ML
SDK's `Run.get_context()` through the `azureml` stand-in beside it), in a job's own
process (Run Script) or in the step's (Execute Python Script). The API appends JSON lines
to a run log file; when the script ends, `record_run_log` turns them into the step's
records:

- a number logged with `log` is a step metric (the last value logged under a name; it
  also went out live); every value logged under a name, `log_list`'s too, is a series;
- `log_row` and `log_table` keep tables (a new column is empty in earlier rows); `tag`
  keeps tags; all of them are the step's `run_log` visual;
- `log_image` is a step image; so is a PNG given to `upload_file`, whose other files are
  listed by name and size.

The file is written by the user's code: every line is untrusted, and what is kept is
bounded here whatever the API itself enforces.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import math
import sys
from pathlib import Path
from typing import Any, Iterator

from .context import StepContext

VISUAL = "run_log"
# Put first on a script's sys.path: `atelier` and `azureml`.
SCRIPT_API_DIR = Path(__file__).resolve().parent / "script_api"
RUN_LOG_ENV = "ATELIER_RUN_LOG"
UPLOADS_ENV = "ATELIER_RUN_UPLOADS"
RUN_LOG_FILE = "run_log.jsonl"
MAX_RECORDS = 20_000
MAX_VALUES = 20_000
MAX_NAME = 200
MAX_TEXT = 1_000
MAX_TAGS = 100
MAX_FILES = 1_000
_PNG = b"\x89PNG\r\n\x1a\n"


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    return str(value)[:MAX_TEXT]


class _Log:
    """The run log being read, within its bounds."""

    def __init__(self) -> None:
        self.series: dict[str, list[Any]] = {}
        self.tables: dict[str, dict[str, list[Any]]] = {}
        self.tags: dict[str, str] = {}
        self.files: list[dict[str, Any]] = []
        self.metrics: dict[str, float] = {}
        self.images: list[tuple[str, Path]] = []
        self.values = 0

    def take(self, count: int) -> bool:
        self.values += count
        return self.values <= MAX_VALUES

    def add(self, record: dict[str, Any], folder: Path, uploads: Path | None) -> None:
        kind, name, value = record.get("kind"), str(record.get("name"))[:MAX_NAME], record.get("value")
        if kind == "metric" and self.take(1):
            kept = _value(value)
            self.series.setdefault(name, []).append(kept)
            if isinstance(kept, float):
                self.metrics[name] = kept
        elif kind == "list" and isinstance(value, list) and self.take(len(value)):
            self.series.setdefault(name, []).extend(_value(v) for v in value)
        elif kind == "row" and isinstance(value, dict) and self.take(len(value)):
            table = self.tables.setdefault(name, {})
            height = max((len(column) for column in table.values()), default=0)
            for column in value:
                table.setdefault(str(column)[:MAX_NAME], [None] * height)
            for column, values in table.items():
                values.append(_value(value.get(column)))
        elif kind == "table" and isinstance(value, dict):
            columns = {str(k)[:MAX_NAME]: v for k, v in value.items() if isinstance(v, list)}
            if self.take(sum(map(len, columns.values()))):
                table = self.tables.setdefault(name, {})
                for column, values in columns.items():
                    table.setdefault(column, []).extend(_value(v) for v in values)
        elif kind == "tag" and (name in self.tags or len(self.tags) < MAX_TAGS):
            self.tags[name] = str(value)[:MAX_TEXT]
        elif kind == "image":
            self._image(name, folder / "images" / Path(str(record.get("file"))).name)
        elif kind == "file" and uploads is not None and len(self.files) < MAX_FILES:
            path = uploads / str(record.get("file"))
            if not _inside(path, uploads):
                return
            if _is_png(path):
                self._image(Path(name).name, path)
            else:
                self.files.append({"name": name, "bytes": path.stat().st_size})

    def _image(self, name: str, path: Path) -> None:
        if _is_png(path):
            self.images.append((name, path))


def _inside(path: Path, folder: Path) -> bool:
    """A regular file under `folder`, reached without links (the script wrote both)."""
    try:
        return path.resolve().is_relative_to(folder.resolve()) and not path.is_symlink() and path.is_file()
    except OSError:
        return False


def _is_png(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(len(_PNG)) == _PNG


def record_run_log(ctx: StepContext, folder: Path, uploads: Path | None = None) -> None:
    """Record what the script logged into `folder`'s run log (and uploaded into `uploads`)
    as the step's metrics, images and `run_log` visual."""
    path = folder / RUN_LOG_FILE
    if path.is_symlink() or not path.is_file():
        return
    log = _Log()
    with path.open(errors="replace") as handle:
        for count, line in enumerate(handle):
            if count >= MAX_RECORDS or log.values > MAX_VALUES:
                ctx.warn(f"the run log holds more than {MAX_VALUES:,} values; the rest was not recorded")
                break
            try:
                record = json.loads(line)
            except ValueError:
                continue  # the script's own process wrote the file: a broken line is dropped
            if isinstance(record, dict):
                log.add(record, folder, uploads)
    # Metrics already went out live, as the API's structured lines.
    ctx.metrics.update(log.metrics)
    for name, image in log.images:
        ctx.image(name, image.read_bytes())
    if log.series or log.tables or log.tags or log.files:
        ctx.visual(VISUAL, {"series": log.series, "tables": log.tables, "tags": log.tags, "files": log.files})


@contextlib.contextmanager
def script_api(folder: Path, uploads: Path | None = None) -> Iterator[None]:
    """While the block runs a script in this process, `atelier` and `azureml` import from
    `script_api/` and log into `folder` (which must exist); both are forgotten after, so a
    warm process's next script imports them fresh. (Told directly, not through the
    environment, which the script reads: it holds nothing of Atelier's.)"""
    sys.path.insert(0, str(SCRIPT_API_DIR))
    try:
        api = importlib.import_module("atelier.run")
        api.Run._where = (str(folder / RUN_LOG_FILE), str(uploads) if uploads is not None else None)
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(SCRIPT_API_DIR))
        for name in [m for m in sys.modules if m.split(".")[0] in ("atelier", "azureml")]:
            del sys.modules[name]
