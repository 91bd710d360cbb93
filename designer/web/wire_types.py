"""What the server sends besides REST responses, in the OpenAPI schema so that the canvas's
types are generated from it like the REST ones (frontend/src/api-schema.gen.ts): the
WebSocket messages, the pipeline file, a step's error. Their pydantic models are the source;
tests/test_api_schema.py fails when frontend/openapi.yaml is out of date.
"""
from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from designer.engine.pipeline_file import PipelineDoc
from designer.realtime.schemas import (
    RunStatusMessage, SnapshotMessage, StepErrorPayload, StepLogMessage, StepMetricMessage, StepProgressMessage,
    StepStatusMessage, UserRunStatusMessage,
)

_RUN_MESSAGES: list[type[BaseModel]] = [
    SnapshotMessage, RunStatusMessage, StepStatusMessage, StepLogMessage, StepProgressMessage, StepMetricMessage,
]
_REF = "#/components/schemas/{model}"


def _without_titles(schema: Any) -> Any:
    # pydantic titles every field after its name; the names say it already.
    if isinstance(schema, dict):
        return {k: _without_titles(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_without_titles(v) for v in schema]
    return schema


def _message_type(model: type[BaseModel]) -> str:
    """The value of a message model's `type` (a one-value Literal)."""
    (value,) = get_args(model.model_fields["type"].annotation)
    return str(value)


def wire_components(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: the wire models as components, and `RunMessage`, the union of
    a run's socket messages told apart by `type`."""
    models: list[type[BaseModel]] = [*_RUN_MESSAGES, UserRunStatusMessage, StepErrorPayload, PipelineDoc]
    _, definitions = models_json_schema([(model, "validation") for model in models], ref_template=_REF)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in definitions["$defs"].items():
        assert name not in schemas, f"the wire model {name} has the name of a REST component"
        schemas[name] = _without_titles(schema)
    refs = {_message_type(m): _REF.format(model=m.__name__) for m in _RUN_MESSAGES}
    schemas["RunMessage"] = {
        "oneOf": [{"$ref": ref} for ref in refs.values()],
        "discriminator": {"propertyName": "type", "mapping": refs},
    }
    return result
