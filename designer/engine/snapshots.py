"""Snapshots of a job's code folder, stored content-addressed in the artifact store.

What is left out follows Azure ML: the folder's `.amlignore` when it has one, otherwise its
`.gitignore`, with gitignore semantics (pathspec's, not hand-written matching). `.git` is
always left out, and so are links (a link could bring in a file from anywhere on the
machine that submits) and whatever is not a regular file (sockets, pipes). The snapshot is an artifact like any step output: its digest names
it, so an unchanged folder is stored once and every job of it reads the same artifact.
"""
from __future__ import annotations

import os
import stat
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
    """The rules of the folder's ignore file (the first of IGNORE_FILES it has), and its name."""
    for name in IGNORE_FILES:
        path = folder / name
        if path.is_file():
            return ignore_rules(path.read_text(errors="replace")), name
    return ignore_rules(""), None


def ignore_rules(text: str) -> pathspec.PathSpec:
    """An ignore file's rules (gitignore semantics), plus what is always left out."""
    return pathspec.GitIgnoreSpec.from_lines([*ALWAYS_IGNORED, *text.splitlines()])


def is_ignored(spec: pathspec.PathSpec, relative: str) -> bool:
    """Whether a file (by its relative posix path) is left out, itself or by one of its folders."""
    parts = relative.split("/")
    return any(spec.match_file("/".join(parts[:i]) + "/") for i in range(1, len(parts))) or spec.match_file(relative)


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
            # Regular files only: no links, and no sockets or pipes (a server's, a tool's).
            if stat.S_ISREG(os.lstat(os.path.join(current, name)).st_mode) and not spec.match_file(relative.as_posix()):
                chosen.append(relative)
    return chosen, used


def too_large(sizes: list[tuple[int, str]], max_bytes: int, ignore_file: str | None) -> SnapshotRefused:
    """The refusal of a snapshot of files of these (size, relative path), naming the largest."""
    total = sum(size for size, _ in sizes)
    largest = ", ".join(f"{name} ({size / 1e6:.1f} MB)" for size, name in sorted(sizes, reverse=True)[:_LARGEST_NAMED])
    return SnapshotRefused(
        f"the code folder holds {total / 1e6:.1f} MB, more than the {max_bytes / 1e6:.0f} MB a snapshot may hold; "
        f"largest files: {largest}. Leave data and other large files out by listing them in "
        f"{ignore_file or '.amlignore'} (gitignore patterns, e.g. `data/` or `*.csv`), and give large data as "
        "job inputs instead."
    )


def snapshot_take(folder: Path, *, store: ArtifactStore, max_bytes: int = DEFAULT_MAX_BYTES) -> Snapshot:
    """Store the code of `folder` (what its ignore file leaves) and return its snapshot;
    raises SnapshotRefused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SnapshotRefused(f"{folder} is not a folder")
    files, used = snapshot_files(folder)
    sizes = [((folder / f).stat().st_size, f.as_posix()) for f in files]
    total = sum(size for size, _ in sizes)
    if total > max_bytes:
        raise too_large(sizes, max_bytes, used)
    digest = files_digest(folder, files)
    if store.exists(digest):
        return Snapshot(digest, len(files), total, used, reused=True)
    staging = store.new_step_dir("snapshot", "code") / "code"
    try:
        staging.mkdir()  # an empty folder is a snapshot too
        for parent in sorted({relative.parent for relative in files}):
            (staging / parent).mkdir(parents=True, exist_ok=True)
        copied = files_digest(folder, files, copy_to=staging)
        stored = store.put_folder(staging, digest=copied)
    finally:
        store.discard(staging.parent)
    # The files changed while they were copied: what is stored is what was copied.
    return Snapshot(stored, len(files), total, used, reused=False)
