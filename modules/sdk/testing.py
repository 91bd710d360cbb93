"""Test harness for modules: call a module directly, or through the real step runner."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifacts import read_value, write_value
from .context import StepContext
from .contract import StepRequest
from .errors import ModuleError
from .module import ParamValues
from .registry import default_registry
from .runner import execute


@dataclass
class ModuleRun:
    outputs: dict[str, Any]
    ctx: StepContext


def call_module(
    module_id: str,
    params: dict[str, Any] | None = None,
    *,
    resources: dict[str, Any] | None = None,
    work_dir: Path | None = None,
    **inputs: Any,
) -> ModuleRun:
    """Clean `params` as the engine would and call `run` in this process.

    Invalid params raise ModuleError naming the param, like validation would report.
    """
    cls = default_registry().get(module_id)
    if cls is None:
        raise LookupError(module_id)
    cleaned, errors = cls.spec.clean_params(params or {})
    if errors:
        name, message = next(iter(errors.items()))
        raise ModuleError(f"param {name!r} {message}", code="invalid_param", param=name)
    folder = work_dir or Path(tempfile.mkdtemp(prefix="atelier-test-"))
    ctx = StepContext(node=module_id, work_dir=folder, output_dir=folder / "out", resources=resources)
    full_inputs = {name: inputs.get(name) for name in cls.spec.inputs}
    outputs = cls().run(ctx, ParamValues(cleaned), **full_inputs) or {}
    return ModuleRun(outputs, ctx)


def run_through_runner(
    module_id: str,
    params: dict[str, Any] | None,
    folder: Path,
    *,
    resources: dict[str, Any] | None = None,
    **inputs: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write `inputs` as artifacts, run the step runner in this process, read outputs back.

    Returns (manifest, outputs by port).
    """
    cls = default_registry().get(module_id)
    assert cls is not None, module_id
    input_dirs = {}
    for name, value in inputs.items():
        if value is not None:
            write_value(cls.spec.inputs[name].type, value, folder / "in" / name)
            input_dirs[name] = str(folder / "in" / name)
    manifest = execute(
        StepRequest(
            node=module_id, module=module_id, params=params or {}, inputs=input_dirs,
            output_dir=str(folder / "out"), work_dir=str(folder / "work"), resources=resources or {},
        ).to_json()
    )
    outputs = {}
    if manifest["status"] == "completed":
        for name, decl in cls.spec.outputs.items():
            outputs[name] = read_value(decl.type, folder / "out" / name)
    return manifest, outputs
