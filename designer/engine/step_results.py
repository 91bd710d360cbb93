"""Reading what a finished step left in its output folder, as untrusted input.

A step runs users' code, which can write any file into its output folder and any result
manifest: a symbolic link named like an output port (pointing at another user's data or
anywhere on the host), an export path with `..` in it, ports its module does not have, a
manifest of gigabytes. The host reads the manifest through the contract's typed model
(modules.sdk.contract), refuses anything in the folder that is not a plain file or folder,
bounds the folder's size, and checks every port name and path against what the step may
report before it hashes and stores anything.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Mapping

from pydantic import ValidationError

from modules.sdk.contract import MAX_MANIFEST_BYTES, ExportRequest, ResultManifest
from modules.sdk.runner import RESULT_FILE

# What one step's output folder may hold, in all.
MAX_OUTPUT_BYTES = 64 * 1024**3
MAX_OUTPUT_FILES = 100_000
IMAGES = "_images"
EXPORTS = "_exports"


class ResultRefused(Exception):
    """What the step left cannot be taken; the message says what, for the step's error."""


def read_manifest(out: Path) -> ResultManifest | None:
    """The step's manifest (None: it wrote none, e.g. its process was killed)."""
    try:
        fd = os.open(out / RESULT_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a link, say
        raise ResultRefused(f"its result manifest cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ResultRefused("its result manifest is not a file")
        data = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise ResultRefused(f"its result manifest is larger than {MAX_MANIFEST_BYTES >> 20} MB")
    try:
        return ResultManifest.model_validate(json.loads(data))
    except (ValueError, ValidationError) as exc:
        raise ResultRefused(f"its result manifest does not fit the step contract: {_first_problem(exc)}") from None


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "manifest"
        return f"{where}: {error['msg']}"
    return str(exc)


def check_output_folder(out: Path, *, max_bytes: int = MAX_OUTPUT_BYTES, max_files: int = MAX_OUTPUT_FILES) -> None:
    """Only plain folders and files under `out` (no links, devices, pipes or sockets), within
    the size bounds. Called before anything of `out` is read, hashed or moved."""
    total = files = 0
    for folder, dirs, names in os.walk(out, followlinks=False):
        for name in dirs + names:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a plain file"
                raise ResultRefused(f"its output {os.path.relpath(path, out)!r} is {kind}")
            total += info.st_size
            files += 1
            if total > max_bytes or files > max_files:
                raise ResultRefused(
                    f"its outputs exceed the limit of {max_files} files and {max_bytes >> 30} GB per step"
                )


def check_outputs(manifest: ResultManifest, declared: Mapping[str, str], out: Path) -> None:
    """A completed step's outputs are exactly its module's ports, of their declared types,
    each a folder the step wrote."""
    if set(manifest.outputs) != set(declared):
        raise ResultRefused(
            f"it reported the outputs {sorted(manifest.outputs)}, but its module has {sorted(declared)}"
        )
    for port, meta in manifest.outputs.items():
        if meta.type.value != declared[port]:
            raise ResultRefused(f"it reported output {port!r} as {meta.type.value}, but the port is {declared[port]}")
        if not (out / port).is_dir():
            raise ResultRefused(f"its output {port!r} was not written")


def export_folder(out: Path, export: ExportRequest) -> Path:
    """The table folder an export names, which must lie under the output's exports folder."""
    folder = (out / export.path).resolve()
    exports = (out / EXPORTS).resolve()
    if not folder.is_relative_to(exports) or folder == exports or not folder.is_dir():
        raise ResultRefused(f"export {export.name!r} names {export.path!r}, which is not a table it wrote")
    return folder
