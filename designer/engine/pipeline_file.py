"""The native pipeline file (`format: atelier/pipeline@1`), in YAML or JSON.

`load_pipeline(text)` returns a `PipelineDoc` or raises `PipelineInvalid` with errors
that name the node and key at fault. Unknown keys are errors, never dropped, and so is a
key given twice (in YAML the second would silently win; for an input it means two edges).

A node's input names its upstream output as `NODE.PORT`. It may list two, `[NODE.PORT,
NODE.PORT]`, only when one of them is a Web Service Input: the other feeds the input in a
pipeline run, the Web Service Input when the pipeline serves requests (validation says so).
"""
from __future__ import annotations

import json
import re
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import GraphError, PipelineInvalid

FORMAT = "atelier/pipeline@1"
NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
MAX_FILE_BYTES = 5 * 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterDoc(_Strict):
    type: Literal["int", "float", "bool", "string"] = "string"
    default: Any = None
    description: str = ""


class SettingsDoc(_Strict):
    default_compute: str = "local"
    continue_on_step_failure: bool = False
    force_rerun: bool = False
    step_timeout: float | None = Field(default=None, gt=0)


class NodeDoc(_Strict):
    module: str
    version: int | None = None
    # port -> NODE.PORT, or [NODE.PORT, NODE.PORT] when one of them is a Web Service Input
    inputs: dict[str, str | list[str]] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    compute: str | None = None
    comment: str | None = None
    force_rerun: bool = False
    timeout: float | None = Field(default=None, gt=0)


class PipelineDoc(_Strict):
    format: Literal["atelier/pipeline@1"]
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    settings: SettingsDoc = Field(default_factory=SettingsDoc)
    parameters: dict[str, ParameterDoc] = Field(default_factory=dict)
    nodes: dict[str, NodeDoc] = Field(default_factory=dict)
    layout: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("nodes")
    @classmethod
    def _node_ids(cls, nodes: dict[str, NodeDoc]) -> dict[str, NodeDoc]:
        for node_id in nodes:
            if not NODE_ID.match(node_id):
                raise ValueError(
                    f"node id {node_id!r} must start with a letter or _ and hold only letters, digits, _ and -"
                )
        return nodes

    def to_data(self) -> dict[str, Any]:
        """The file's structure as plain data, without keys left at their defaults (but `nodes`)."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["format"] = FORMAT
        data.setdefault("nodes", {})  # always there, even empty: readers index it
        return {k: data[k] for k in ("format", "name", "description", "settings", "parameters", "nodes", "layout") if k in data}


class _Duplicates(dict[str, Any]):
    """A mapping that remembers keys it was given twice."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    out = _Duplicates()
    out.duplicates = []
    for key, value in pairs:
        if key in out:
            out.duplicates.append(key)
        out[key] = value
    return out


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        # A few lines of aliases can expand into gigabytes ("billion laughs"); pipeline
        # files never need them.
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in pipeline files", self.peek_event().start_mark
            )
        return super().compose_node(parent, index)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    return _pairs([(loader.construct_object(k, deep=True), loader.construct_object(v, deep=True)) for k, v in node.value])


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _duplicate_errors(data: Any, path: tuple[str, ...] = ()) -> list[GraphError]:
    errors = []
    if isinstance(data, dict):
        for key in getattr(data, "duplicates", []):
            if len(path) == 3 and path[0] == "nodes" and path[2] == "inputs":
                errors.append(GraphError(
                    "duplicate_input_edge",
                    f"input {key!r} has two edges; an input takes one, or a list of two when one of them is "
                    "a Web Service Input",
                    node=path[1], port=key,
                ))
            else:
                errors.append(GraphError(
                    "duplicate_key", f"key {key!r} appears twice in {'.'.join(path) or 'the file'}",
                    node=path[1] if len(path) > 1 and path[0] in ("nodes", "layout") else None,
                ))
        for key, value in data.items():
            errors.extend(_duplicate_errors(value, (*path, str(key))))
    elif isinstance(data, list):
        for item in data:
            errors.extend(_duplicate_errors(item, path))
    return errors


def parse_text(text: str | bytes) -> Any:
    """YAML or JSON text to plain data (JSON is YAML, but JSON errors read better as JSON)."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise PipelineInvalid([GraphError("file_too_large", f"the file is larger than {MAX_FILE_BYTES >> 20} MiB")])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PipelineInvalid([GraphError("not_a_pipeline_file", f"the file is not UTF-8 text (byte {exc.start})")]) from None
    if len(text) > MAX_FILE_BYTES:
        raise PipelineInvalid([GraphError("file_too_large", f"the file is larger than {MAX_FILE_BYTES >> 20} MiB")])
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text, object_pairs_hook=_pairs)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except RecursionError:
        raise PipelineInvalid([GraphError("not_a_pipeline_file", "the file is nested too deeply")]) from None
    except json.JSONDecodeError as exc:
        raise PipelineInvalid([GraphError(
            "not_a_pipeline_file", f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            details={"line": exc.lineno},
        )]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PipelineInvalid([GraphError(
            "not_a_pipeline_file", f"the file is not valid YAML{where}: {problem}",
            details={"line": mark.line + 1} if mark else {},
        )]) from None


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _pydantic_errors(exc: ValidationError) -> list[GraphError]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        node = loc[1] if len(loc) > 1 and loc[0] in ("nodes", "layout") else None
        key = ".".join(loc)
        if err["type"] == "extra_forbidden":
            code, message = "unknown_key", f"unknown key {loc[-1]!r} in {'.'.join(loc[:-1]) or 'the file'}"
        elif err["type"] == "missing":
            code, message = "missing_key", f"{key} is required"
        elif loc == ["format"]:
            code, message = "unsupported_format", f"format must be {FORMAT!r}"
        else:
            code, message = "invalid_value", f"{key}: {err['msg']}"
        errors.append(GraphError(code, message, node=node))
    return errors


def pipeline_from_data(data: Any) -> PipelineDoc:
    try:
        return _pipeline_from_data(data)
    except RecursionError:
        # Every walk over the structure recurses per nesting level; no real pipeline is that deep.
        raise PipelineInvalid([GraphError("not_a_pipeline_file", "the pipeline is nested too deeply")]) from None


def _pipeline_from_data(data: Any) -> PipelineDoc:
    if not isinstance(data, dict):
        raise PipelineInvalid([GraphError("not_a_pipeline_file", "the file must hold a mapping with format, name and nodes")])
    # No pipeline needs a NUL character, and databases (PostgreSQL's jsonb) cannot store one.
    nul_errors = [
        GraphError("invalid_value", "the node holds a NUL character (\\u0000)", node=node)
        for node, value in (data.get("nodes") or {}).items() if isinstance(data.get("nodes"), dict) and _holds_nul(value)
    ]
    if _holds_nul(data) and not nul_errors:
        nul_errors = [GraphError("invalid_value", "the pipeline holds a NUL character (\\u0000)")]
    if nul_errors:
        raise PipelineInvalid(nul_errors)
    duplicate_errors = _duplicate_errors(data)
    try:
        doc = PipelineDoc.model_validate(data)
    except ValidationError as exc:
        raise PipelineInvalid(duplicate_errors + _pydantic_errors(exc)) from None
    if duplicate_errors:
        raise PipelineInvalid(duplicate_errors)
    return doc


def load_pipeline(text: str | bytes) -> PipelineDoc:
    return pipeline_from_data(parse_text(text))


def dump_pipeline(doc: PipelineDoc, fmt: Literal["yaml", "json"] = "yaml") -> str:
    data = doc.to_data()
    if fmt == "json":
        return json.dumps(data, indent=2)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
