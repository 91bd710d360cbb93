"""The content-addressed artifact store and the output cache: a local folder, or any fsspec
URL (an S3-compatible bucket) shared by many machines, with a local folder as its cache.

Layout under the store root:

    objects/<h[:2]>/<h>/     one immutable artifact folder per sha256 of its content
    cache/<k[:2]>/<k>.json   cache key -> output artifact hashes + the step's manifest
    tmp/                     steps' working folders; moved into objects/ on success

Writes are atomic renames, so a crash never leaves a half-written artifact or cache entry,
and several processes (or machines, on a shared folder) can share one store. In a remote
store each artifact folder is one tar object, written whole under a temporary name and
then moved, so no reader sees half of one.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import tarfile
import tempfile
import uuid
from pathlib import Path, PurePath
from typing import Any, Iterable, Iterator, Protocol


def _host() -> str:
    return socket.gethostname().replace(".", "_")  # the "." ends the owner in folder names


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ArtifactStore(Protocol):
    def new_step_dir(self, run_id: str, node: str) -> Path: ...
    def put_folder(self, folder: Path, *, digest: str | None = None) -> str: ...
    def path(self, digest: str) -> Path: ...
    def exists(self, digest: str) -> bool: ...
    def lookup(self, key: str) -> dict[str, Any] | None: ...
    def record(self, key: str, entry: dict[str, Any]) -> None: ...
    def discard(self, folder: Path) -> None: ...


def folder_digest(folder: Path) -> str:
    return files_digest(folder, [p.relative_to(folder) for p in folder.rglob("*") if p.is_file()])


_BLOCK = 1 << 20
CACHE_BYTES = 64 << 20  # what a digest keeps of small files' contents for a copy made after it


def files_digest(
    root: Path, files: Iterable[PurePath | str], *, copy_to: Path | None = None, cache: dict[str, bytes] | None = None,
) -> str:
    """The digest `folder_digest` gives a folder holding just these files (relative to `root`,
    as paths or posix strings), computed where they are: a snapshot known to the store is not
    copied again. With `copy_to`, the files are copied there as they are read (the digest is
    of what was copied; their folders must exist). `cache`: contents by name, used instead of
    reading the file, and filled with the files read in one block (up to CACHE_BYTES), so that
    the copy of a folder just digested does not read its small files again."""
    digest = hashlib.sha256()
    room = CACHE_BYTES - sum(map(len, cache.values())) if cache is not None else 0
    names = (name if isinstance(name, str) else name.as_posix() for name in files)
    # Ordered by their parts, as Paths are ("a/b" before "a-b"), which digests made so far follow.
    for name in sorted(names, key=lambda name: name.split("/")):
        digest.update(name.encode() + b"\0")
        held = cache.get(name) if cache is not None else None
        # Plain file descriptors: for many small files (a code folder), Python's buffered files
        # cost more system calls than the reading itself.
        copy = os.open(os.path.join(copy_to, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444) if copy_to else -1
        try:
            read = 0
            for block in [held] if held is not None else _blocks(os.path.join(root, name)):
                digest.update(block)
                read += 1
                if copy >= 0:
                    _write_all(copy, block)
        finally:
            if copy >= 0:
                os.close(copy)
        if cache is not None and held is None and read <= 1 and (size := len(block) if read else 0) <= room:
            cache[name] = block if read else b""
            room -= size
        digest.update(b"\0")
    return digest.hexdigest()


def _blocks(path: str) -> Iterator[bytes]:
    # A link put in a file's place is refused, not followed.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        while block := os.read(fd, _BLOCK):
            yield block
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class LocalArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for sub in ("objects", "cache", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def new_step_dir(self, run_id: str, node: str) -> Path:
        # Named after the process that owns it, so that a later process can tell it was
        # abandoned (see sweep_abandoned).
        folder = self.root / "tmp" / f"{_host()}-{os.getpid()}.{run_id}-{node}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        return folder

    def sweep_abandoned(self) -> int:
        """Remove the step folders of processes of this host that died without removing them
        (a killed worker's attempt, a server killed mid-run); returns how many went."""
        host = _host()
        swept = 0
        for folder in (self.root / "tmp").iterdir():
            owner, _, _ = folder.name.partition(".")
            owner_host, _, pid = owner.rpartition("-")
            if owner_host == host and pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)
                swept += 1
        return swept

    def path(self, digest: str) -> Path:
        return self.root / "objects" / digest[:2] / digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_dir()

    def put_folder(self, folder: Path, *, digest: str | None = None) -> str:
        """Move `folder` into the store under its content hash (it is consumed). `digest`: the
        host's own hash of it, made as it was written (never a step's word)."""
        digest = digest or folder_digest(folder)
        target = self.path(digest)
        if target.exists():
            shutil.rmtree(folder)
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        # Artifacts are immutable: steps downstream get them read-only.
        for current, dirs, names in os.walk(folder):
            for name in names:
                os.chmod(os.path.join(current, name), 0o444)
            for name in dirs:
                os.chmod(os.path.join(current, name), 0o555)
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



class RemoteArtifactStore:
    """A store at an fsspec URL (`s3://bucket/prefix`, …) that many machines share, with a
    local store as this machine's cache: artifacts are fetched once, when a step reads them."""

    def __init__(self, url: str, cache_root: Path, storage_options: dict[str, Any] | None = None) -> None:
        import fsspec  # only deployments with a remote store need it

        self.fs, self.base = fsspec.core.url_to_fs(url, **(storage_options or {}))
        self.base = self.base.rstrip("/")
        self.local = LocalArtifactStore(cache_root)

    def _object(self, digest: str) -> str:
        return f"{self.base}/objects/{digest[:2]}/{digest}.tar"

    def _cache_entry(self, key: str) -> str:
        return f"{self.base}/cache/{key[:2]}/{key}.json"

    def _upload(self, source: Path, target: str) -> None:
        partial = f"{target}.{uuid.uuid4().hex}.partial"
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        self.fs.put_file(str(source), partial)
        self.fs.mv(partial, target)

    def new_step_dir(self, run_id: str, node: str) -> Path:
        return self.local.new_step_dir(run_id, node)

    def discard(self, folder: Path) -> None:
        self.local.discard(folder)

    def exists(self, digest: str) -> bool:
        return self.local.exists(digest) or self.fs.exists(self._object(digest))

    def put_folder(self, folder: Path, *, digest: str | None = None) -> str:
        digest = self.local.put_folder(folder, digest=digest)
        if not self.fs.exists(self._object(digest)):
            with tempfile.TemporaryDirectory() as scratch:
                archive = Path(scratch) / "artifact.tar"
                with tarfile.open(archive, "w") as tar:
                    tar.add(self.local.path(digest), arcname=".")
                self._upload(archive, self._object(digest))
        return digest

    def path(self, digest: str) -> Path:
        """The artifact's folder on this machine, fetched into the cache if need be."""
        if not self.local.exists(digest):
            with tempfile.TemporaryDirectory(dir=self.local.root / "tmp") as scratch:
                archive = Path(scratch) / "artifact.tar"
                self.fs.get_file(self._object(digest), str(archive))
                folder = Path(scratch) / "artifact"
                with tarfile.open(archive) as tar:
                    tar.extractall(folder, filter="data")  # refuses links and paths that leave it
                for item in folder.rglob("*"):
                    item.chmod(0o644 if item.is_file() else 0o755)  # put_folder sets its own modes
                fetched = self.local.put_folder(folder)
            if fetched != digest:
                raise ValueError(f"artifact {digest} in the remote store holds other content ({fetched})")
        return self.local.path(digest)

    def lookup(self, key: str) -> dict[str, Any] | None:
        try:
            entry = json.loads(self.fs.cat_file(self._cache_entry(key)))
        except (OSError, ValueError):
            return None
        if not all(self.exists(d) for d in entry.get("artifacts", {}).values()):
            return None
        return entry

    def record(self, key: str, entry: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "entry.json"
            source.write_text(json.dumps(entry))
            self._upload(source, self._cache_entry(key))
