"""Snapshots of a job's code folder, stored content-addressed in the artifact store.

What is left out follows Azure ML: the folder's `.amlignore` when it has one, otherwise its
`.gitignore`, with gitignore semantics (pathspec's, not hand-written matching). `.git` is
always left out, and so are links (a link could bring in a file from anywhere on the
machine that submits). The snapshot is an artifact like any step output: its digest names
it, so an unchanged folder is stored once and every job of it reads the same artifact.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pathspec

from .artifact_store import ArtifactStore, files_digest

IGNORE_FILES = (".amlignore", ".gitignore")  # the first one found wins
ALWAYS_IGNORED = (".git/",)
DEFAULT_MAX_BYTES = 300 * 1024 * 1024
_LARGEST_NAMED = 5


class SnapshotRefused(Exception):
    """The folder cannot be snapshotted (too large, not a folder); the message says why and what to do."""


@dataclass(frozen=True)
class Snapshot:
    digest: str
    files: int
    bytes: int
    ignore_file: str | None  # the ignore file that applied
    reused: bool  # the store had it already


def ignore_spec(folder: Path) -> tuple[pathspec.PathSpec, str | None]:
    for name in IGNORE_FILES:
        path = folder / name
        if path.is_file():
            lines = path.read_text(errors="replace").splitlines()
            return pathspec.GitIgnoreSpec.from_lines([*ALWAYS_IGNORED, *lines]), name
    return pathspec.GitIgnoreSpec.from_lines(ALWAYS_IGNORED), None


def snapshot_files(folder: Path) -> tuple[list[Path], str | None]:
    """The files of `folder` a snapshot holds (relative paths), and the ignore file used."""
    spec, used = ignore_spec(folder)
    chosen: list[Path] = []
    for current, dirs, files in os.walk(folder):
        relative_dir = Path(current).relative_to(folder)
        # An ignored folder is not walked at all (node_modules, .venv, data/…).
        dirs[:] = [
            d for d in dirs
            if not os.path.islink(os.path.join(current, d))
            and not spec.match_file((relative_dir / d).as_posix() + "/")
        ]
        for name in files:
            relative = relative_dir / name
            if not os.path.islink(os.path.join(current, name)) and not spec.match_file(relative.as_posix()):
                chosen.append(relative)
    return chosen, used


def _too_large(folder: Path, files: list[Path], total: int, max_bytes: int, used: str | None) -> SnapshotRefused:
    sizes = sorted(((folder / f).stat().st_size, f) for f in files)[-_LARGEST_NAMED:]
    largest = ", ".join(f"{f.as_posix()} ({size / 1e6:.1f} MB)" for size, f in reversed(sizes))
    where = used or ".amlignore"
    return SnapshotRefused(
        f"the code folder holds {total / 1e6:.1f} MB, more than the {max_bytes / 1e6:.0f} MB a snapshot may hold; "
        f"largest files: {largest}. Leave data and other large files out by listing them in {where} "
        "(gitignore patterns, e.g. `data/` or `*.csv`), and give large data as job inputs instead."
    )


def snapshot_take(folder: Path, *, store: ArtifactStore, max_bytes: int = DEFAULT_MAX_BYTES) -> Snapshot:
    """Store the code of `folder` (what its ignore file leaves) and return its snapshot;
    raises SnapshotRefused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SnapshotRefused(f"{folder} is not a folder")
    files, used = snapshot_files(folder)
    total = sum((folder / f).stat().st_size for f in files)
    if total > max_bytes:
        raise _too_large(folder, files, total, max_bytes, used)
    digest = files_digest(folder, files)
    if store.exists(digest):
        return Snapshot(digest, len(files), total, used, reused=True)
    staging = store.new_step_dir("snapshot", "code") / "code"
    try:
        for relative in files:
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / relative, staging / relative)
        staging.mkdir(exist_ok=True)  # an empty folder is a snapshot too
        stored = store.put_folder(staging)
    finally:
        store.discard(staging.parent)
    # The files changed while they were copied: what is stored is what was copied.
    return Snapshot(stored, len(files), total, used, reused=False)
