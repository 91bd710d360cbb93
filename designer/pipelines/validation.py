"""Whether a pipeline can run, for whom and where: the whole graph validated against this
deployment's modules, compute targets and the columns params name; then compiled into the
plan a run executes."""
from __future__ import annotations

from typing import Any, Mapping

from django.contrib.auth.models import User

from designer import engine_settings
from designer.compute.availability import (
    code_refused, compute_runtimes, compute_targets, environment_of, unavailable_compute_targets,
)
from designer.engine.compiler import Plan, compile_plan
from designer.engine.pipeline_file import PipelineDoc, load_pipeline, pipeline_from_data
from designer.engine.schema_propagation import propagate_schemas
from designer.engine.validation import Validation, validate_pipeline


def pipeline_validate(
    *, doc: PipelineDoc, parameters: Mapping[str, Any] | None = None, compute: str | None = None,
    user: User | None = None, serving: bool = False,
) -> Validation:
    """Validate the whole graph, including the columns params name where they can be known,
    for a run by `user` (None: the operator at the command line); `serving`: to serve
    requests rather than run (engine.validation.validate_pipeline)."""
    if compute:
        doc = doc.model_copy(update={"settings": doc.settings.model_copy(update={"default_compute": compute})})
    validation = validate_pipeline(
        doc, registry=engine_settings.registry(), parameters=parameters, computes=compute_targets(),
        unavailable=unavailable_compute_targets(), code_refused=code_refused(user),
        runtimes=compute_runtimes(), serving=serving,
    )
    if validation.resolved is not None:
        _, column_errors = propagate_schemas(validation.resolved)
        if column_errors:
            return Validation(errors=column_errors, resolved=None)
    return validation


def _owner(user: User | None) -> User | None:
    """Whose dataset catalog a run reads: None (the shared one) for anonymous or CLI runs."""
    return user if user is not None and user.is_authenticated else None


def pipeline_prepare(
    *,
    text: str | bytes | None = None,
    document: Any = None,
    parameters: Mapping[str, Any] | None = None,
    compute: str | None = None,
    user: User | None = None,
) -> tuple[PipelineDoc, Plan]:
    """Parse (file `text`, or `document`: the file's structure as plain data), validate and
    compile a pipeline; raises PipelineInvalid with every error. Registered datasets are
    looked up in `user`'s catalog (the shared one when None)."""
    if (text is None) == (document is None):
        raise TypeError("pipeline_prepare takes either text or document")
    doc = load_pipeline(text) if text is not None else pipeline_from_data(document)
    resolved = pipeline_validate(doc=doc, parameters=parameters, compute=compute, user=user).require()
    return resolved.doc, compile_plan(
        resolved, resources=engine_settings.step_resources(_owner(user)), environment_of=environment_of
    )
