"""The step contract, typed once for both sides: what the host asks of a step (`StepRequest`,
STEP.json) and what the step reports back.

The runner writes a `ResultManifest` as `<output_dir>/result.json` and `::atelier::` lines
(`StepLine`) on stdout; the host reads both with the same models. For the host they are
untrusted input: a step runs users' code, which can write any file and print any line,
so every field is bounded, unknown keys are refused, and what the host does with a value
(port names, export names and paths) is checked again against what the step may do
(`designer.engine.step_results`).
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator, model_validator

from .types import PortType

# A manifest's size on disk the host reads at most (chart data of evaluations is the bulk).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=20_000)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# A relative path of plain names: no root, no `..`, no empty or dot parts.
_RELATIVE = re.compile(r"^(?!.*(^|/)\.{1,2}(/|$))[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepRequest(BaseModel):
    """One step to run: its module and params, its input folders, where it writes, what it may
    read besides (`resources`), and whether it runs a user's code. Written by the host only.
    Keys it does not know are ignored: the fork server's own instructions (limits, sandbox)
    travel in the same document."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    node: str
    module: str
    version: int | None = None
    params: dict[str, Any] = {}
    inputs: dict[str, str] = {}  # input port -> the folder of its artifact
    output_dir: str
    work_dir: str | None = None  # None: the output folder
    resources: dict[str, Any] = {}
    user_code: bool = False
    trusted: bool = False

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StepErrorReport(_Strict):
    """A failure as the step describes it; the host adds its origin and node."""

    code: Code
    message: Text
    param: Name | None = None
    port: Name | None = None
    details: Annotated[dict[Name, Any], Field(max_length=100)] = {}


class OutputMeta(_Strict):
    """What the step says of one output port (the host hashes the files itself)."""

    type: PortType
    rows: Annotated[int, Field(ge=0)] | None = None
    schema_: Annotated[list[Any], Field(max_length=100_000)] | None = Field(default=None, alias="schema")
    meta: Annotated[dict[Name, Any], Field(max_length=1000)] | None = None
    files: Annotated[int, Field(ge=0)] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ExportRequest(_Strict):
    """Export Data asking the host to register a table folder of its output as a dataset."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    format: Literal["csv", "parquet"]
    path: Annotated[str, StringConstraints(max_length=300)]

    @field_validator("path")
    @classmethod
    def _relative(cls, path: str) -> str:
        if not _RELATIVE.match(path):
            raise ValueError("must be a relative path of plain names inside the step's output folder")
        return path


class ResultManifest(_Strict):
    status: Literal["completed", "failed"]
    outputs: Annotated[dict[Name, OutputMeta], Field(max_length=64)] = {}
    error: StepErrorReport | None = None
    metrics: Annotated[dict[Name, float | None], Field(max_length=10_000)] = {}
    visuals: Annotated[dict[Name, Any], Field(max_length=1000)] = {}
    warnings: Annotated[list[Text], Field(max_length=1000)] = []
    images: Annotated[list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,84}\.png$")]],
                      Field(max_length=1000)] = []
    exports: Annotated[list[ExportRequest], Field(max_length=100)] = []
    duration_s: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _error_when_failed(self) -> "ResultManifest":
        if self.status == "failed" and self.error is None:
            raise ValueError("a failed step must say why")
        return self

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", by_alias=True, exclude={"outputs", "error"})
        data["outputs"] = {port: meta.to_json() for port, meta in self.outputs.items()}
        data["error"] = self.error.model_dump(mode="json", exclude_none=True) if self.error else None
        return data


# -- the structured lines of a step's output --------------------------------------------------


class ProgressLine(_Strict):
    type: Literal["progress"]
    fraction: Annotated[float, Field(ge=0, le=1)]
    message: Annotated[str, StringConstraints(max_length=500)] = ""


class MetricLine(_Strict):
    type: Literal["metric"]
    name: Name
    value: float | None


class WarningLine(_Strict):
    type: Literal["warning"]
    message: Annotated[str, StringConstraints(max_length=2000)]


StepLine = Annotated[Union[ProgressLine, MetricLine, WarningLine], Field(discriminator="type")]
step_line = TypeAdapter(StepLine)
