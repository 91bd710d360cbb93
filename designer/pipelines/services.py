"""Pipeline business logic: drafts, versions, duplication, import and export.

Every save writes a new numbered version and must name the version it was based on; a save
based on anything but the current version is refused (PipelineConflict), never merged or
silently overwritten. The editor's autosave names its session: its saves close together
make one version (the next number replaces the session's latest version), so the history
holds a version per editing session, not per burst of edits. Drafts must be well-formed pipeline files but may be invalid graphs:
the canvas saves work in progress, and `pipeline_check` says what is still wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound

from designer import engine_settings
from designer.engine.errors import GraphError, PipelineInvalid
from designer.engine.module_versions import pin_versions
from designer.engine.pipeline_file import FORMAT, dump_pipeline, load_pipeline, pipeline_from_data
from designer.engine.schema_propagation import propagate_schemas
from designer.samples import sample_pipeline_files

from .models import Pipeline, PipelineVersion
from .validation import pipeline_validate

ExportFormat = Literal["yaml", "json"]


class PipelineConflict(APIException):
    """A save was based on a version that is no longer the current one."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "version_conflict"

    def __init__(self, *, current: PipelineVersion, base_version: int) -> None:
        super().__init__(
            f"version {base_version} is not the current version ({current.number}): "
            "load the current version and apply your changes to it"
        )
        self.current = current


def _document(data: Any) -> dict[str, Any]:
    """A well-formed pipeline file's structure, normalized; raises PipelineInvalid otherwise.

    Each node records the version of its module it was made with, so that once the module
    changes, the node is migrated from that version instead of taken for the new one."""
    return pin_versions(pipeline_from_data(data), registry=engine_settings.registry()).to_data()


def _empty_document(*, name: str, description: str = "") -> dict[str, Any]:
    return _document({"format": FORMAT, "name": name, "description": description, "nodes": {}})


NAME_MAX_LENGTH = 200


def _lock_names(user: User) -> None:
    """Serializes the name checks of one user's creates and saves, so that two of them at
    once cannot both find a name free (the unique constraint would turn the loser into a 500)."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _name_taken(*, owner: User, name: str, pipeline: Pipeline) -> bool:
    return Pipeline.objects.filter(owner=owner, name=name).exclude(pk=pipeline.pk).exists()


def _free_name(*, owner: User, name: str, pipeline: Pipeline) -> str:
    """`name`, or the first of "name (2)", "name (3)", … that none of the owner's other
    pipelines has: the editor finds its runs by id, but people tell pipelines apart by name."""
    candidate, number = name, 1
    while _name_taken(owner=owner, name=candidate, pipeline=pipeline):
        number += 1
        suffix = f" ({number})"
        candidate = name[: NAME_MAX_LENGTH - len(suffix)] + suffix
    return candidate


def _add_version(
    *, pipeline: Pipeline, user: User, document: dict[str, Any], message: str, session: str = ""
) -> PipelineVersion:
    """Writes the next version; refuses a name another of the owner's pipelines has."""
    if _name_taken(owner=pipeline.owner, name=document["name"], pipeline=pipeline):
        raise PipelineInvalid([GraphError(
            "name_taken", f"you already have a pipeline named {document['name']!r}: choose another name",
            details={"name": document["name"]},
        )])
    pipeline.current_version += 1
    pipeline.name = document["name"]
    pipeline.description = document.get("description", "")
    pipeline.save()
    return PipelineVersion.objects.create(
        pipeline=pipeline, number=pipeline.current_version, document=document, message=message, created_by=user,
        session=session,
    )


# How long after an editor session's last save its next one still merges into it: after a
# longer pause, the session's next save starts a new version.
SESSION_VERSION_GAP = timedelta(minutes=30)


def _referenced(version: PipelineVersion) -> bool:
    """Whether rows of other apps point at the version (a run names the version it ran)."""
    return any(
        relation.related_model._default_manager.filter(**{relation.field.name: version}).exists()
        for relation in PipelineVersion._meta.related_objects
    )


def _merges_into(current: PipelineVersion, *, user: User, session: str) -> bool:
    """Whether a save of `session` replaces `current` instead of adding a version after it:
    `current` is the same person's save from the same editor session, recent, and nothing
    (no run) refers to it."""
    return (
        bool(session) and current.session == session and current.created_by_id == user.pk
        and current.created_at >= timezone.now() - SESSION_VERSION_GAP and not _referenced(current)
    )


@transaction.atomic
def pipeline_create(
    *, user: User, name: str | None = None, description: str | None = None,
    document: Any = None, message: str = "",
) -> Pipeline:
    """A new pipeline whose version 1 is `document` (an empty graph when None). `name` and
    `description`, when given, replace the document's own. A name the user has already
    given another pipeline gets a number: "name (2)"."""
    if document is None:
        if not name:
            raise PipelineInvalid([GraphError("missing_key", "name is required when no document is given")])
        document = _empty_document(name=name, description=description or "")
    else:
        document = _document(document)
        overrides = {k: v for k, v in (("name", name), ("description", description)) if v is not None}
        if overrides:
            document = _document({**document, **overrides})
    pipeline = Pipeline(owner=user)
    _lock_names(user)
    free = _free_name(owner=user, name=document["name"], pipeline=pipeline)
    if free != document["name"]:
        document = _document({**document, "name": free})
    _add_version(pipeline=pipeline, user=user, document=document, message=message or "created")
    return pipeline


@transaction.atomic
def pipeline_save(
    *, pipeline: Pipeline, user: User, document: Any, base_version: int, message: str = "", session: str = ""
) -> PipelineVersion:
    """Save `document` as the pipeline's next version, if `base_version` is still current.

    The pipeline row is locked for the check-then-write so that of two saves from the same
    base exactly one wins and the other gets PipelineConflict. A save of an editor
    `session` whose previous save is the current version replaces that version (see
    `_merges_into`) under the next number, so that anyone else holding the replaced number
    is refused exactly as if a version had been added.
    """
    document = _document(document)
    _lock_names(pipeline.owner)
    locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    current = locked.versions.get(number=locked.current_version)
    if base_version != locked.current_version:
        raise PipelineConflict(current=current, base_version=base_version)
    merged = _merges_into(current, user=user, session=session)
    version = _add_version(pipeline=locked, user=user, document=document, message=message, session=session)
    if merged:
        current.delete()
    pipeline.refresh_from_db()
    return version


def pipeline_update_info(
    *, pipeline: Pipeline, user: User, name: str | None = None, description: str | None = None,
    base_version: int | None = None, message: str = "",
) -> PipelineVersion:
    """Rename or re-describe a pipeline: a new version of the current document with the new
    name/description (the document is where they live). Without `base_version` it applies on
    top of whatever is current, which is safe since nothing but these two keys changes."""
    with transaction.atomic():
        _lock_names(pipeline.owner)  # before the pipeline, in the order pipeline_save takes them
        locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        current = locked.versions.get(number=locked.current_version)
        changes = {k: v for k, v in (("name", name), ("description", description)) if v is not None}
        return pipeline_save(
            pipeline=pipeline, user=user, document={**current.document, **changes},
            base_version=locked.current_version if base_version is None else base_version,
            message=message or f"changed {' and '.join(changes) or 'nothing'}",
        )


@transaction.atomic
def pipeline_duplicate(*, pipeline: Pipeline, user: User, name: str | None = None) -> Pipeline:
    """A new pipeline, owned by `user`, starting from the current version's document; its
    name is the original's with a number ("name (2)") unless given."""
    current = pipeline.versions.get(number=pipeline.current_version)
    return pipeline_create(
        user=user, document=current.document, name=name or pipeline.name,
        message=f"duplicated from {pipeline.name!r} version {current.number}",
    )


def pipeline_delete(*, pipeline: Pipeline) -> None:
    # Versions go with it (cascade); runs keep their own snapshot of what ran.
    pipeline.delete()


def pipeline_import(*, user: User, text: str | bytes, name: str | None = None) -> Pipeline:
    """A new pipeline from a pipeline file (YAML or JSON). A malformed file raises
    PipelineInvalid with every error; an invalid graph is imported as a draft."""
    return pipeline_create(user=user, document=load_pipeline(text).to_data(), name=name, message="imported")


def pipeline_export(
    *, pipeline: Pipeline, fmt: ExportFormat, version: PipelineVersion | None = None
) -> tuple[str, str]:
    """The pipeline file's text (current version unless `version`) and a safe file name."""
    version = version or pipeline.versions.get(number=pipeline.current_version)
    text = dump_pipeline(pipeline_from_data(version.document), fmt)
    stem = slugify(version.document["name"])[:100] or "pipeline"
    return text, f"{stem}.{fmt}"


# node -> output port -> its columns ([{name, kind, role}]), None where unknown before a run
NodeColumns = dict[str, dict[str, list[dict[str, Any]] | None]]


@dataclass(frozen=True)
class PipelineCheck:
    errors: list[GraphError]
    # Known only when the graph is valid: the canvas checks the part upstream of a node to
    # fill that node's column pickers while the rest is still being built.
    schemas: NodeColumns = field(default_factory=dict)


def pipeline_check(
    *, document: Any, user: User, parameters: Mapping[str, Any] | None = None, compute: str | None = None
) -> PipelineCheck:
    """Every problem with a pipeline document, as data: a malformed file's errors, or the
    whole-graph validation's (modules, ports, types, cycles, params…); and, for a valid graph,
    the columns of every table output as far as schema propagation can tell."""
    try:
        doc = pipeline_from_data(document)
    except PipelineInvalid as exc:
        return PipelineCheck(errors=exc.errors)
    validation = pipeline_validate(doc=doc, parameters=parameters, compute=compute, user=user)
    if validation.resolved is None:
        return PipelineCheck(errors=validation.errors)
    schemas, _ = propagate_schemas(validation.resolved)
    return PipelineCheck(
        errors=validation.errors,
        schemas={
            node: {port: None if schema is None else schema.to_json() for port, schema in ports.items()}
            for node, ports in schemas.items()
        },
    )


def pipeline_from_sample(*, user: User, slug: str) -> Pipeline:
    """A new draft from one of the sample pipeline files shipped in designer/samples."""
    path = next((p for p in sample_pipeline_files() if p.stem == slug), None)
    if path is None:
        raise NotFound(f"there is no sample pipeline {slug!r}")
    return pipeline_import(user=user, text=path.read_bytes())
