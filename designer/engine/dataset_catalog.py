"""Registered datasets as versioned folders: `<root>/<name>/v<N>/table.parquet`.

Import Data reads them (`source: dataset`); Export Data adds versions through the host,
never from inside a step, so that steps stay isolated from each other's data.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Protocol

DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ExportRefused(Exception):
    """The catalog will not take an exported table (too large, not a table); the message
    says why, for the step's error."""


class DatasetCatalog(Protocol):
    def register(self, name: str, folder: Path) -> int:
        """Add the table in `folder` as the next version of dataset `name`; returns the
        version number. Raises ExportRefused."""


class FolderDatasetCatalog:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def versions(self, name: str) -> list[int]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(int(p.name[1:]) for p in folder.iterdir() if p.name[1:].isdigit() and p.name[0] == "v")

    def register(self, name: str, folder: Path) -> int:
        """Copy a table folder in as the next version of `name`; returns the version number."""
        if not DATASET_NAME.match(name):
            raise ValueError(f"invalid dataset name {name!r}")
        (self.root / name).mkdir(parents=True, exist_ok=True)
        staging = self.root / name / f".staging-{os.getpid()}"
        shutil.copytree(folder, staging, dirs_exist_ok=True)
        while True:
            version = (self.versions(name) or [0])[-1] + 1
            try:
                os.rename(staging, self.root / name / f"v{version}")
                return version
            except OSError:
                if not (self.root / name / f"v{version}").exists():
                    raise
                # a concurrent export took that number: try the next one
