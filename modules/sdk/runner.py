"""The step runner: one step = one process, files in, files out.

    python -m modules.sdk.runner STEP.json

STEP.json names the module, its params, one folder per connected input, the output
folder and the scratch folder. The runner writes each output port to
`<output_dir>/<port>/` and then `<output_dir>/result.json`, the manifest the executor
reads (status, output metadata, metrics, warnings, and a user-facing error). Logs go to
stdout/stderr; progress and metrics go out as `::atelier::{json}` lines.

The same contract runs in a subprocess, a forked warm worker, a container, or a Celery
worker on another machine.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .artifacts import read_value, write_value
from .context import StepContext, emit_event
from .contract import ResultManifest, StepRequest
from .errors import ModuleError
from .module import ParamValues
from .registry import MigrationFailed, UnknownModule, UnknownVersion, default_registry
from .table_limits import TableLimits, TableTooLarge

RESULT_FILE = "result.json"
# A file the host downloaded for the step arrives as an input folder named with this
# prefix and the fetch's name, holding one file.
FETCHED_PREFIX = "_fetched_"
FETCHED_FILE = "content"


def _fail(error: dict[str, Any]) -> dict[str, Any]:
    return {"status": "failed", "outputs": {}, "metrics": {}, "warnings": [], "error": error}


def execute(document: dict[str, Any]) -> dict[str, Any]:
    """Run the step a StepRequest `document` asks for in this process and return its manifest
    (also written to disk)."""
    started = time.perf_counter()
    request = StepRequest.model_validate(document)
    output_dir = Path(request.output_dir)
    work_dir = Path(request.work_dir or output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    manifest = _execute(request, output_dir, work_dir)
    manifest["duration_s"] = round(time.perf_counter() - started, 6)
    try:
        # Written in the contract's shape, as the host will read it.
        manifest = ResultManifest.model_validate(manifest).to_json()
    except ValidationError as exc:
        manifest = _fail({"code": "internal_error", "message": f"the step's result does not fit the step contract: {exc}"})
    tmp = output_dir / (RESULT_FILE + ".tmp")
    tmp.write_text(json.dumps(manifest, default=str))
    tmp.replace(output_dir / RESULT_FILE)
    return manifest


def _execute(request: StepRequest, output_dir: Path, work_dir: Path) -> dict[str, Any]:
    registry = default_registry()
    try:
        # A step compiled by an older installation (a worker upgraded under a queued run)
        # runs as this one's version of the module, its params migrated.
        resolution = registry.resolve(request.module, request.version, request.params)
    except UnknownModule as exc:
        return _fail({"code": "unknown_module", "message": str(exc)})
    except (UnknownVersion, MigrationFailed) as exc:
        return _fail({"code": "unknown_version", "message": str(exc)})
    module_cls = resolution.module
    spec = module_cls.spec
    params, errors = spec.clean_params(resolution.params)
    if errors:
        name, message = next(iter(errors.items()))
        return _fail({"code": "invalid_param", "message": f"param {name!r} {message}", "param": name})

    ctx = StepContext(
        node=request.node,
        work_dir=work_dir,
        output_dir=output_dir,
        resources=request.resources,
        fetched={
            port[len(FETCHED_PREFIX):]: Path(folder) / FETCHED_FILE
            for port, folder in request.inputs.items() if port.startswith(FETCHED_PREFIX)
        },
    )
    limits = TableLimits.from_resources(ctx.resources)
    try:
        inputs: dict[str, Any] = {}
        for name, decl in spec.inputs.items():
            folder = request.inputs.get(name)
            if folder is None:
                if not decl.optional:
                    raise ModuleError(f"input {name!r} is not connected", code="missing_input", port=name)
                inputs[name] = None
            else:
                with _named_port(name):
                    inputs[name] = read_value(decl.type, Path(folder), limits)
        emit_event({"type": "progress", "fraction": 0.0, "message": "running"})
        produced = module_cls().run(ctx, ParamValues(params), **inputs) or {}
        outputs: dict[str, Any] = {}
        for name, port in spec.outputs.items():
            if produced.get(name) is None:
                raise RuntimeError(f"module {spec.id} did not produce output {name!r}")
            with _named_port(name):
                outputs[name] = write_value(port.type, produced[name], output_dir / name, limits)
    except ModuleError as exc:
        manifest = _fail(exc.as_dict())
    except MemoryError:
        manifest = _fail({"code": "out_of_memory", "message": "memory limit exceeded: the step ran out of memory"})
    except Exception as exc:  # anything else is a bug in the module, reported as such
        traceback.print_exc()
        manifest = _fail(
            {
                "code": "internal_error",
                "message": f"internal error in module {spec.id}: {type(exc).__name__}: {exc}",
            }
        )
    else:
        manifest = {"status": "completed", "outputs": outputs, "error": None}
    manifest.update(
        metrics=ctx.metrics,
        visuals=ctx.visuals,
        warnings=ctx.warnings,
        images=ctx.images,
        exports=ctx.exports,
    )
    return manifest


@contextlib.contextmanager
def _named_port(port: str) -> Iterator[None]:
    """A table over the limits, read or written for `port`, is named by it."""
    try:
        yield
    except TableTooLarge as exc:
        exc.port = port
        raise


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m modules.sdk.runner STEP.json", file=sys.stderr)
        return 2
    document = json.loads(Path(argv[0]).read_text())
    request = StepRequest.model_validate(document)
    os.chdir(request.work_dir or request.output_dir)
    manifest = execute(document)
    return 0 if manifest["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
