"""Run Script: a job's own code, run as `python <script> <arguments>` in the step.

The step of every job, and the Run Script module of pipelines (Azure's command component).
The code comes in as a Files folder (a job's snapshot, bound from the artifact store, or an
upstream output); it is copied into the step's working folder, where the script runs in a
process of its own inside the step's confinement, and writes ./outputs and ./logs.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from modules.jobs import ERROR_ENV, LAUNCHER
from modules.sdk import Code, Input, Module, ModuleError, Output, ParamValues, PortType, StepContext, String, register
from modules.sdk.artifacts import TABLE_FILE
from modules.sdk.run_log import RUN_LOG_ENV, RUN_LOG_FILE, UPLOADS_ENV, record_run_log

from .data_input import dataset_version_dir, resolve_data_path
from .samples import SAMPLE_NAMES, sample_path

DIGEST = re.compile(r"^[0-9a-f]{64}$")
REFERENCE = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
JOB_FOLDER = "job"
OUTPUT_FOLDERS = ("outputs", "logs")
# Where the run API and the launcher leave what the step reads back (the job's ./.atelier).
STATE_FOLDER = ".atelier"


def parse_bindings(text: str) -> dict[str, str]:
    """`NAME=dataset:NAME[:VERSION]`, `NAME=path:RELATIVE/PATH` or `NAME=sample:NAME`, one a line (or `;`)."""
    bindings: dict[str, str] = {}
    for raw in re.split(r"[\n;]", text):
        line = raw.strip()
        if not line:
            continue
        name, sep, source = line.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ModuleError(
                f"{line!r} is not NAME=dataset:NAME[:VERSION] or NAME=path:PATH", code="invalid_param", param="inputs"
            )
        bindings[name] = source.strip()
    return bindings


@register
class RunScript(Module):
    """Run your own Python training code: an entry script with arguments, in its folder."""

    id = "run_script"
    name = "Run Script"
    category = "Python Language"
    runs_user_code = True
    # A training script's results are not a function of its inputs (seeds, clocks, data it
    # reads): like an Azure ML job it runs each time it is submitted.
    deterministic = False
    help = (
        "Runs `python <script> <arguments>` in a copy of the code folder (a job's snapshot, "
        "or a Files input), like an Azure ML command job.\n\n"
        "- `arguments` may name inputs as `${{inputs.NAME}}`: the read-only path of a table "
        "connected to `dataset1`/`dataset2` (a Parquet file), or of an input listed in `inputs` "
        "(`NAME=dataset:NAME[:VERSION]`, `NAME=path:PATH` under a data root, or `NAME=sample:NAME`, "
        "a CSV sample shipped with Atelier); `${{outputs.NAME}}` is the folder `outputs/NAME`.\n"
        "- Whatever the script writes to `./outputs` and `./logs` becomes the step's outputs.\n"
        "- `from atelier import run` (or Azure ML's `Run.get_context()`) logs metrics, series, "
        "rows, tables, images and tags with the run; `print()` output is the step's log.\n"
        "- An exception reports the script's file and line.\n"
        "- `source`: the entry script's text, written as `script` when the code has no such "
        "file (a quick script on the canvas)."
    )
    example_params = {"source": "import sys\nprint('arguments:', sys.argv[1:])\n", "arguments": "--x 1"}

    class Inputs:
        code = Input(type=PortType.FILES, optional=True, help="The code folder (a job's snapshot)")
        dataset1 = Input(type=PortType.DATAFRAME, optional=True, help="A table, ${{inputs.dataset1}}")
        dataset2 = Input(type=PortType.DATAFRAME, optional=True, help="A table, ${{inputs.dataset2}}")

    class Outputs:
        outputs = Output(type=PortType.FILES, help="What the script wrote to ./outputs")
        logs = Output(type=PortType.FILES, help="What the script wrote to ./logs")

    class Params:
        script = String(default="main.py", max_length=500, help="The entry script, relative to the code folder")
        arguments = String(default="", help="Its command-line arguments (shell quoting)")
        inputs = String(default="", help="Named inputs: NAME=dataset:NAME[:VERSION] or NAME=path:PATH, one a line")
        source = Code(language="python", default="", help="The entry script's text, when the code has none")
        snapshot = String(default="", max_length=64, help="A job's code snapshot (its sha256), when code is not connected")

    @classmethod
    def bound_inputs(cls, params: ParamValues) -> Mapping[str, str]:
        return {"code": params.snapshot} if DIGEST.match(params.snapshot or "") else {}

    def run(
        self,
        ctx: StepContext,
        params: ParamValues,
        code: Path | None = None,
        dataset1: pd.DataFrame | None = None,
        dataset2: pd.DataFrame | None = None,
    ) -> dict[str, Any]:
        if params.snapshot and not DIGEST.match(params.snapshot):
            raise ModuleError("snapshot must be a sha256 digest (64 hex digits)", code="invalid_param", param="snapshot")
        job = (ctx.work_dir / JOB_FOLDER).resolve()
        _copy_code(code, job)
        script = _entry_script(job, params.script, params.source)
        for folder in (*OUTPUT_FOLDERS, STATE_FOLDER):
            (job / folder).mkdir(exist_ok=True)
        paths = self._input_paths(ctx, params, dataset1, dataset2)
        arguments = [_substitute(argument, paths, job) for argument in _split(params.arguments)]
        state = job / STATE_FOLDER
        ctx.log(f"running python {shlex.join([script, *arguments])}")
        sys.stdout.flush()
        env = {**os.environ, RUN_LOG_ENV: str(state / RUN_LOG_FILE), UPLOADS_ENV: str(job / "outputs"),
               ERROR_ENV: str(state / "error.json"), "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
        # The script's output goes straight to the step's: its log lines arrive live.
        returncode = subprocess.call([sys.executable, str(LAUNCHER), script, *arguments], cwd=job, env=env)
        record_run_log(ctx, state, job / "outputs")
        if returncode != 0:
            raise _script_failure(state / "error.json", returncode)
        return {folder: job / folder for folder in OUTPUT_FOLDERS}

    def _input_paths(
        self, ctx: StepContext, params: ParamValues, dataset1: pd.DataFrame | None, dataset2: pd.DataFrame | None,
    ) -> dict[str, str]:
        """The path each `${{inputs.NAME}}` stands for (tables connected on the canvas are
        written where the script can read them)."""
        paths: dict[str, str] = {}
        for name, table in (("dataset1", dataset1), ("dataset2", dataset2)):
            if table is not None:
                folder = ctx.work_dir / "inputs" / name
                folder.mkdir(parents=True, exist_ok=True)
                table.to_parquet(folder / TABLE_FILE, index=False)
                paths[name] = str(folder / TABLE_FILE)
        for name, source in parse_bindings(params.inputs).items():
            kind, _, rest = source.partition(":")
            if kind == "dataset":
                dataset, _, version = rest.partition(":")
                folder = dataset_version_dir(ctx.resources.get("datasets_dir"), dataset, version or "latest")
                paths[name] = str(folder / TABLE_FILE)
            elif kind == "path":
                paths[name] = str(resolve_data_path(rest, list(ctx.resources.get("data_roots") or [])))
            elif kind == "sample" and sample_path(rest) is not None:
                paths[name] = str(sample_path(rest))
            else:
                raise ModuleError(
                    f"input {name!r}: {source!r} is not dataset:NAME[:VERSION], path:PATH or sample:NAME "
                    f"(a CSV sample: {', '.join(n for n in SAMPLE_NAMES if sample_path(n))})",
                    code="invalid_param", param="inputs",
                )
        return paths


def _copy_code(code: Path | None, job: Path) -> None:
    """The code, writable, in the job's own folder (the input is the store's, read-only)."""
    job.mkdir(parents=True, exist_ok=True)
    if code is None:
        return
    for path in sorted(code.rglob("*")):
        target = job / path.relative_to(code)
        if path.is_symlink():
            continue  # a snapshot holds no links; a Files output from a step could
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            shutil.copyfile(path, target)


def _entry_script(job: Path, script: str, source: str) -> str:
    relative = Path(script)
    if not script or relative.is_absolute() or ".." in relative.parts:
        raise ModuleError(f"script {script!r} must be a path inside the code folder", code="invalid_param", param="script")
    path = job / relative
    if not path.is_file():
        if source:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
        else:
            found = sorted(p.relative_to(job).as_posix() for p in job.rglob("*.py"))[:20]
            raise ModuleError(
                f"the code has no script {script!r}"
                + (f"; Python files in it: {', '.join(found)}" if found else " (it holds no Python file)"),
                code="script_not_found", param="script",
            )
    return relative.as_posix()


def _split(arguments: str) -> list[str]:
    try:
        return shlex.split(arguments)
    except ValueError as exc:
        raise ModuleError(f"arguments: {exc}", code="invalid_param", param="arguments") from None


def _substitute(argument: str, paths: Mapping[str, str], job: Path) -> str:
    """`${{inputs.NAME}}` is an input's path; `${{outputs.NAME}}` the folder outputs/NAME
    (made here, as Azure makes a job's output folders), kept with the step's outputs."""

    def path_of(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "outputs":
            (job / "outputs" / name).mkdir(exist_ok=True)
            return f"outputs/{name}"
        if name not in paths:
            known = ", ".join(sorted(paths)) or "none"
            raise ModuleError(
                f"${{{{inputs.{name}}}}} names no input (inputs: {known})", code="unknown_input", param="arguments"
            )
        return paths[name]

    return REFERENCE.sub(path_of, argument)


def _script_failure(error_file: Path, returncode: int) -> ModuleError:
    try:
        report = json.loads(error_file.read_text())
    except (OSError, ValueError):
        report = None
    if not isinstance(report, dict):
        return ModuleError(f"the script exited with code {returncode}", code="script_error", param="script",
                           details={"exit_code": returncode})
    file, line, message = report.get("file"), report.get("line"), str(report.get("message", ""))[:2000]
    where = f"{file}, line {line}: " if file and isinstance(line, int) else ""
    return ModuleError(
        where + message, code="script_error", param="script",
        details={"file": str(file)[:500] if file else None, "line": line if isinstance(line, int) else None,
                 "exception": str(report.get("exception", ""))[:200]},
    )
