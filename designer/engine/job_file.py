"""The job file (`format: atelier/job@1`), in YAML or JSON: people's own code, run as a step.

    format: atelier/job@1
    name: adult-income-train
    description: Train a classifier on the adult census data
    code: .                        # the folder to snapshot, relative to this file
    script: train.py               # or command: python train.py --epochs 5
    args: [--data, "${{inputs.train}}", --epochs, 5]
    inputs:
      train: dataset:adult:1       # or {dataset: NAME, version: N}, {path: PATH}, sample:NAME
    outputs:
      model: the trained model     # ${{outputs.model}} is the folder ./outputs/model
    environment: environment.yml   # or requirements.txt (relative to the code folder)
    compute: local
    experiment: adult-income
    timeout: 600                   # seconds

`load_job(text)` returns a `JobDoc` or raises `PipelineInvalid` whose errors name the key
at fault (`param`), like pipeline files. A job runs as a one-node pipeline of the Run Script
module (`job_pipeline`).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import GraphError, PipelineInvalid
from .pipeline_file import FORMAT as PIPELINE_FORMAT, parse_text

FORMAT = "atelier/job@1"
JOB_NODE = "job"
RUN_SCRIPT = "run_script"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATASET = re.compile(r"^dataset:([A-Za-z0-9][A-Za-z0-9_.-]{0,99})(?::(\d+|latest))?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetInput(_Strict):
    dataset: str = Field(min_length=1, max_length=100)
    version: int | Literal["latest"] = "latest"


class PathInput(_Strict):
    path: str = Field(min_length=1, max_length=1000)


class JobDoc(_Strict):
    format: Literal["atelier/job@1"]
    name: str = Field(default="job", min_length=1, max_length=200)
    description: str = ""
    code: str = "."
    script: str | None = Field(default=None, min_length=1, max_length=500)
    command: str | None = Field(default=None, min_length=1, max_length=10_000)
    args: list[str | int | float] = Field(default_factory=list)
    inputs: dict[str, str | DatasetInput | PathInput] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)
    environment: str | None = None
    compute: str = "local"
    experiment: str = Field(default="", max_length=200)
    timeout: float | None = Field(default=None, gt=0)

    @field_validator("inputs", "outputs")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"{name!r} must start with a letter or _ and hold only letters, digits and _")
        return value

    @field_validator("inputs")
    @classmethod
    def _sources(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, source in value.items():
            if isinstance(source, str) and not (_DATASET.match(source) or source.startswith(("path:", "sample:"))):
                raise ValueError(f"input {name!r}: {source!r} is not dataset:NAME[:VERSION], path:PATH or sample:NAME")
        return value

    @model_validator(mode="after")
    def _entry(self) -> "JobDoc":
        if (self.script is None) == (self.command is None):
            raise ValueError("give either script (with args) or command")
        if self.command is not None:
            if self.args:
                raise ValueError("args go with script; a command holds its own arguments")
            try:
                words = shlex.split(self.command)
            except ValueError as exc:
                raise ValueError(f"command: {exc}") from None
            if len(words) < 2 or words[0] not in ("python", "python3"):
                raise ValueError("command must be `python SCRIPT [ARGS...]` (jobs run a Python entry script)")
        return self

    @property
    def entry(self) -> tuple[str, list[str]]:
        """The entry script and its arguments, whichever way the file gives them."""
        if self.command is not None:
            words = shlex.split(self.command)
            return words[1], words[2:]
        assert self.script is not None
        return self.script, [str(a) for a in self.args]

    def input_bindings(self) -> dict[str, str]:
        """Inputs as Run Script's `NAME=dataset:NAME[:VERSION]` / `NAME=path:PATH` bindings."""
        bindings = {}
        for name, source in self.inputs.items():
            if isinstance(source, DatasetInput):
                bindings[name] = f"dataset:{source.dataset}:{source.version}"
            elif isinstance(source, PathInput):
                bindings[name] = f"path:{source.path}"
            else:
                bindings[name] = source
        return bindings

    def to_data(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["format"] = FORMAT
        return data


def _errors(exc: ValidationError) -> list[GraphError]:
    errors = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            errors.append(GraphError("unknown_key", f"unknown key {loc!r} in the job file", param=loc))
        elif err["type"] == "missing":
            errors.append(GraphError("missing_key", f"{loc} is required", param=loc))
        elif loc == "format":
            errors.append(GraphError("unknown_format", f"format must be {FORMAT!r}", param="format"))
        else:
            message = err["msg"].removeprefix("Value error, ")
            errors.append(GraphError("invalid_value", f"{loc}: {message}" if loc else message, param=loc or None))
    return errors


def job_from_data(data: Any) -> JobDoc:
    if not isinstance(data, dict):
        raise PipelineInvalid([GraphError("not_a_job_file", "the job file must hold a mapping with format and script")])
    try:
        return JobDoc.model_validate(data)
    except ValidationError as exc:
        raise PipelineInvalid(_errors(exc)) from None


def load_job(text: str | bytes) -> JobDoc:
    return job_from_data(parse_text(text))


def is_job_file(text: str | bytes) -> bool:
    """Whether the text declares the job format (so `submit_job FILE` tells a job file from a folder's script)."""
    try:
        data = parse_text(text)
    except PipelineInvalid:
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def environment_requirements(path: Path) -> tuple[str, ...]:
    """The pip requirements of an environment file: a requirements.txt, or the `pip:` section
    of a conda environment.yml (its conda packages cannot be installed here: refused, named)."""
    where = path.name
    try:
        text = path.read_text()
    except OSError as exc:
        raise PipelineInvalid([GraphError("bad_environment", f"cannot read {where}: {exc.strerror}", param="environment")]) from None
    if path.suffix not in (".yml", ".yaml"):
        lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
        requirements = tuple(line for line in lines if line)
        refused = [line for line in requirements if line.startswith("-")]
        if refused:
            raise PipelineInvalid([GraphError(
                "bad_environment", f"{where}: pip options are not supported in a job environment: {', '.join(refused)}",
                param="environment",
            )])
        return requirements
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PipelineInvalid([GraphError("bad_environment", f"{where} is not valid YAML: {exc}", param="environment")]) from None
    pip: list[str] = []
    refused = []
    for entry in data.get("dependencies") or [] if isinstance(data, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("pip"), list):
            pip += [str(item) for item in entry["pip"]]
        elif isinstance(entry, str) and re.match(r"^(python|pip)([<>=!~ ].*)?$", entry):
            continue  # the image's own Python and pip
        else:
            refused.append(str(entry))
    if refused:
        raise PipelineInvalid([GraphError(
            "conda_not_supported",
            f"{where}: conda packages cannot be installed here, only its pip: section; move these to pip: "
            + ", ".join(refused),
            param="environment", details={"refused": refused},
        )])
    return tuple(pip)


def job_pipeline(doc: JobDoc, *, snapshot: str, compute: str | None = None) -> dict[str, Any]:
    """The one-node pipeline file that runs the job on its snapshot (a sha256 in the store)."""
    script, arguments = doc.entry
    params: dict[str, Any] = {
        "script": script,
        "arguments": shlex.join(arguments),
        "snapshot": snapshot,
    }
    bindings = doc.input_bindings()
    if bindings:
        params["inputs"] = "\n".join(f"{name}={source}" for name, source in bindings.items())
    node: dict[str, Any] = {"module": RUN_SCRIPT, "params": params}
    if doc.timeout:
        node["timeout"] = doc.timeout
    return {
        "format": PIPELINE_FORMAT,
        "name": doc.name,
        "description": doc.description,
        "settings": {"default_compute": compute or doc.compute},
        "nodes": {JOB_NODE: node},
    }
