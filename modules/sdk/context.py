"""What a running module can use: its scratch folder, resources, and the event channel."""
from __future__ import annotations

import io
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .artifacts import EXPORT_FILE, write_table

# Structured lines on stdout start with this; every other line is a plain log line.
EVENT_PREFIX = "::atelier::"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def emit_event(event: dict[str, Any]) -> None:
    sys.stdout.write(EVENT_PREFIX + json.dumps(event, default=str) + "\n")
    sys.stdout.flush()


class StepContext:
    """Handed to `Module.run`. Modules never build storage paths themselves."""

    def __init__(
        self,
        *,
        node: str,
        work_dir: Path,
        output_dir: Path,
        resources: Mapping[str, Any] | None = None,
        fetched: Mapping[str, Path] | None = None,
    ) -> None:
        self.node = node
        self.work_dir = work_dir
        self._output_dir = output_dir
        self.resources: Mapping[str, Any] = resources or {}
        # Files the host downloaded for the step (Module.fetches), by name.
        self.fetched: Mapping[str, Path] = fetched or {}
        self.metrics: dict[str, float] = {}
        self.visuals: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.images: list[str] = []
        self.exports: list[dict[str, Any]] = []

    def log(self, message: str) -> None:
        print(message, flush=True)

    def progress(self, fraction: float, message: str = "") -> None:
        emit_event({"type": "progress", "fraction": max(0.0, min(1.0, fraction)), "message": message})

    def metric(self, name: str, value: float) -> None:
        value = float(value)
        self.metrics[name] = value
        emit_event({"type": "metric", "name": name, "value": value if math.isfinite(value) else None})

    def visual(self, name: str, data: Any) -> None:
        """Chart data for the canvas (ROC points, confusion matrix…), kept in the manifest."""
        self.visuals[name] = data

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        emit_event({"type": "warning", "message": message})

    def image(self, name: str, figure_or_png: Any) -> None:
        """Save a PNG (bytes, or a matplotlib figure) shown with the step's outputs."""
        folder = self._output_dir / "_images"
        folder.mkdir(parents=True, exist_ok=True)
        filename = _SAFE_NAME.sub("_", name).strip("._")[:80] or "image"
        if not filename.endswith(".png"):
            filename += ".png"
        if isinstance(figure_or_png, (bytes, bytearray)):
            data = bytes(figure_or_png)
        else:
            buffer = io.BytesIO()
            figure_or_png.savefig(buffer, format="png")
            data = buffer.getvalue()
        (folder / filename).write_bytes(data)
        self.images.append(filename)

    def export_dataset(self, name: str, df: pd.DataFrame, *, fmt: str, escape_formulas: bool = True) -> None:
        """Ask the host to register `df` as a new version of dataset `name`, recorded in
        format `fmt`; its CSV downloads escape formulas unless `escape_formulas` is False."""
        folder = self._output_dir / "_exports" / _SAFE_NAME.sub("_", name)
        write_table(df, folder)
        (folder / EXPORT_FILE).write_text(json.dumps({"format": fmt, "escape_formulas": escape_formulas}))
        self.exports.append({"name": name, "format": fmt, "path": str(folder.relative_to(self._output_dir))})
