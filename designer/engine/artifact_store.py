"""The content-addressed artifact store and the output cache, in a local folder.

Layout under the store root:

    objects/<h[:2]>/<h>/     one immutable artifact folder per sha256 of its content
    cache/<k[:2]>/<k>.json   cache key -> output artifact hashes + the step's manifest
    tmp/                     steps' working folders; moved into objects/ on success

Writes are atomic renames, so a crash never leaves a half-written artifact or cache entry,
and several processes (or machines, on a shared folder) can share one store.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Protocol


class ArtifactStore(Protocol):
    def new_step_dir(self, run_id: str, node: str) -> Path: ...
    def put_folder(self, folder: Path) -> str: ...
    def path(self, digest: str) -> Path: ...
    def exists(self, digest: str) -> bool: ...
    def lookup(self, key: str) -> dict[str, Any] | None: ...
    def record(self, key: str, entry: dict[str, Any]) -> None: ...


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


class LocalArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for sub in ("objects", "cache", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def new_step_dir(self, run_id: str, node: str) -> Path:
        folder = self.root / "tmp" / f"{run_id}-{node}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        return folder

    def path(self, digest: str) -> Path:
        return self.root / "objects" / digest[:2] / digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_dir()

    def put_folder(self, folder: Path) -> str:
        """Move `folder` into the store under its content hash (it is consumed)."""
        digest = folder_digest(folder)
        target = self.path(digest)
        if target.exists():
            shutil.rmtree(folder)
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        for path in folder.rglob("*"):
            # Artifacts are immutable: steps downstream get them read-only.
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            os.rename(folder, target)
        except OSError:
            if not target.exists():
                raise
            shutil.rmtree(folder, ignore_errors=True)  # another process stored the same content first
        return digest

    def _cache_path(self, key: str) -> Path:
        return self.root / "cache" / key[:2] / f"{key}.json"

    def lookup(self, key: str) -> dict[str, Any] | None:
        try:
            entry = json.loads(self._cache_path(key).read_text())
        except (OSError, ValueError):
            return None
        if not all(self.exists(d) for d in entry.get("artifacts", {}).values()):
            return None  # an artifact was cleaned away: the step must run again
        return entry

    def record(self, key: str, entry: dict[str, Any]) -> None:
        path = self._cache_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
            json.dump(entry, handle)
        os.replace(handle.name, path)

    def discard(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
