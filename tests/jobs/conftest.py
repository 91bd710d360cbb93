"""The runs tests' fixtures (a job is a run), and job code folders."""
from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.cluster import ROOT, database_url  # noqa: F401 (test_cli takes database_url from here)
from tests.runs.conftest import manage  # noqa: F401 (fixture)

SAMPLE_JOB = ROOT / "designer" / "samples" / "jobs" / "adult-income"


@pytest.fixture(autouse=True)
def no_warm_containers(settings) -> None:
    """Jobs run on docker compute in this process keep no warm container: one would outlive
    the test (found by a later test's check that no step container is left), and one started
    on an environment that failed to build would build it again while the test reads it."""
    settings.ATELIER = {**settings.ATELIER, "DOCKER_WARM_POOL": 0}


def write_code(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def zipped(folder: Path) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    buffer.seek(0)
    buffer.name = "code.zip"
    return buffer


@pytest.fixture
def code(tmp_path: Path):
    """A code folder holding `files` (name -> text)."""

    def make(files: dict[str, str], name: str = "code") -> Path:
        return write_code(tmp_path / name, files)

    return make
