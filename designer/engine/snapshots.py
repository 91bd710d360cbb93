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
    return [Path(relative) for relative, _ in _walk(folder, spec)], used


def _walk(folder: Path, spec: pathspec.PathSpec) -> list[tuple[str, int]]:
    """(relative posix path, size) of the files of `folder` the spec keeps, in the order of
    their digest. scandir's entries carry their type and one lstat each, and an ignored
    folder is not walked at all (node_modules, .venv, data/…)."""
    chosen: list[tuple[str, int]] = []
    pending = [""]
    while pending:
        relative_dir = pending.pop()
        with os.scandir(os.path.join(folder, relative_dir)) as entries:
            for entry in entries:
                relative = f"{relative_dir}{entry.name}"
                # Links are not followed: a link could bring in a file from anywhere.
                if entry.is_dir(follow_symlinks=False):
                    if not spec.match_file(relative + "/"):
                        pending.append(relative + "/")
                elif entry.is_file(follow_symlinks=False) and not spec.match_file(relative):
                    # Regular files only (is_file is False for links, sockets and pipes).
                    chosen.append((relative, entry.stat(follow_symlinks=False).st_size))
    # The order of files_digest's Paths: by their parts, which is not the strings' order ("a-b" < "a/b").
    chosen.sort(key=lambda file: file[0].split("/"))
    return chosen


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
    spec, used = ignore_spec(folder)
    files = _walk(folder, spec)
    total = sum(size for _, size in files)
    if total > max_bytes:
        raise too_large([(size, relative) for relative, size in files], max_bytes, used)
    names = [relative for relative, _ in files]
    cache: dict[str, bytes] = {}  # a first snapshot then reads its small files once
    digest = files_digest(folder, names, cache=cache)
    if store.exists(digest):
        return Snapshot(digest, len(files), total, used, reused=True)
    staging = store.new_step_dir("snapshot", "code") / "code"
    try:
        staging.mkdir()  # an empty folder is a snapshot too
        for parent in sorted({os.path.dirname(relative) for relative in names} - {""}):
            (staging / parent).mkdir(parents=True, exist_ok=True)
        copied = files_digest(folder, names, copy_to=staging, cache=cache)
        stored = store.put_folder(staging, digest=copied)
    finally:
        store.discard(staging.parent)
    # The files changed while they were copied: what is stored is what was copied.
    return Snapshot(stored, len(files), total, used, reused=False)
