"""A confined step's folders on the host, shared by the local sandbox and step containers.

A confined step (in the local sandbox or in a container) sees its inputs at
/atelier/in/<port> (read-only), writes its outputs to /atelier/out and its scratch files to
/atelier/work, and finds its owner's datasets at /atelier/datasets. On the host these are
the folders of one exchange folder: the inputs are hard-linked into it from the artifact
store (copied across filesystems; mounted read-only, so a step cannot change the store's
files through them), and the outputs are moved out of it into the step's folder of the
store once the step has ended and nothing of it runs any more.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from modules.sdk.registry import PACKS_ENV, default_registry
from modules.sandbox import DATA_ROOTS_DIR, DATASETS_DIR, IN_DIR, OUT_DIR, WORK_DIR

# (host folder, folder inside), read-only.
Mounts = tuple[tuple[str, str], ...]

# Where a confined step finds Atelier's module code (CODE_DIR/modules) and the packs'
# top-level packages (PACKS_DIR/<name>): both on its PYTHONPATH.
CODE_DIR = "/opt/atelier"
PACKS_DIR = f"{CODE_DIR}/packs"


def code_mounts() -> Mounts:
    """Atelier's modules and every installed pack's code, read-only, where steps import them."""
    import modules

    packs = default_registry().packs
    return (
        (str(Path(modules.__file__).resolve().parent), f"{CODE_DIR}/modules"),
        *((str(Path(where).resolve()), f"{PACKS_DIR}/{top}") for pack in packs for top, where in pack.code),
    )


def code_environment() -> dict[str, str]:
    """The environment that makes a confined step import the mounted code and load the packs
    (whose metadata is not there)."""
    packs = default_registry().packs
    return {"PYTHONPATH": f"{CODE_DIR}:{PACKS_DIR}", PACKS_ENV: json.dumps([pack.to_json() for pack in packs])}


def resource_mounts(resources: dict[str, Any]) -> Mounts:
    """The read-only folders a run's steps may read: the owner's datasets, and the data roots
    at /atelier/data/<i> (pipelines name files relative to a root)."""
    mounts = []
    datasets = resources.get("datasets_dir")
    if datasets and Path(datasets).is_dir():
        mounts.append((str(Path(datasets).resolve()), DATASETS_DIR))
    for index, root in enumerate(resources.get("data_roots") or []):
        if Path(root).is_dir():
            mounts.append((str(Path(root).resolve()), f"{DATA_ROOTS_DIR}/{index}"))
    return tuple(mounts)


def confined_request(request: dict[str, Any]) -> dict[str, Any]:
    """STEP.json with the paths a confined step sees."""
    resources = dict(request.get("resources") or {})
    if resources.get("datasets_dir"):
        resources["datasets_dir"] = DATASETS_DIR
    if resources.get("data_roots"):
        resources["data_roots"] = [f"{DATA_ROOTS_DIR}/{index}" for index in range(len(resources["data_roots"]))]
    return {
        **request,
        "inputs": {port: f"{IN_DIR}/{port}" for port in request.get("inputs") or {}},
        "output_dir": OUT_DIR,
        "work_dir": WORK_DIR,
        "resources": resources,
    }


def make_exchange(folder: Path, *, owner: int | None = None) -> None:
    """in/, out/ and work/ of one step; out/ and work/ belong to `owner` (the step's user)
    when Atelier runs as root."""
    for sub in ("in", "out", "work"):
        (folder / sub).mkdir(parents=True)
    if owner is not None:
        for sub in ("out", "work"):
            os.chown(folder / sub, owner, owner)


def link_inputs(inputs: dict[str, str], target: Path) -> None:
    """Each input artifact under `target/<port>`: hard links where the filesystem allows."""
    for port, source in inputs.items():
        root = Path(source)
        for path in sorted(root.rglob("*")):
            dest = target / port / path.relative_to(root)
            if path.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, dest)
            except OSError:  # another filesystem
                shutil.copyfile(path, dest)
        (target / port).mkdir(parents=True, exist_ok=True)


def collect_outputs(out: Path, step_dir: Path) -> None:
    """Move a finished step's out/ to where the executor reads it (`step_dir/out`)."""
    shutil.move(out, step_dir / "out")
