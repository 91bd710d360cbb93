"""Jobs: people's own code run as a run. A job is a run (designer.runs) of a one-node
Run Script pipeline whose code is a snapshot in the artifact store; everything a run has
(history, statuses, events, cancel, rerun, ownership) a job has."""
from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User

from designer import engine_settings
from designer.compute.models import ComputeTarget, Environment
from designer.engine.cache_keys import canonical_json, sha256_text
from designer.engine.environments import normalize_requirements
from designer.engine.errors import GraphError, PipelineInvalid
from designer.engine.job_file import JobDoc, environment_requirements, job_pipeline
from designer.engine.snapshots import (
    IGNORE_FILES, Snapshot, SnapshotRefused, ignore_rules, is_ignored, snapshot_take, too_large,
)
from designer.runs.models import Run, RunKind, RunSource
from designer.runs.services import run_submit


def _invalid(code: str, message: str, param: str = "code") -> PipelineInvalid:
    return PipelineInvalid([GraphError(code, message, param=param)])


def job_snapshot(*, folder: Path) -> Snapshot:
    """Store the job's code folder (what its .amlignore or .gitignore leaves); PipelineInvalid when refused."""
    try:
        return snapshot_take(folder, store=engine_settings.artifact_store(), max_bytes=settings.ATELIER["JOB_SNAPSHOT_MAX_BYTES"])
    except SnapshotRefused as exc:
        raise _invalid("snapshot_refused", str(exc)) from None


@dataclass(frozen=True)
class PreparedJob:
    """A job ready to be recorded as a run: its pipeline file, what the run keeps of the job."""

    document: dict[str, Any]
    job: dict[str, Any]
    experiment: str


def job_prepare(*, doc: JobDoc, folder: Path, compute: str | None = None) -> PreparedJob:
    """Snapshot `folder` (the job's code) and make the job's one-node pipeline. Raises
    PipelineInvalid (the snapshot refused, the script not in it, a bad environment file)."""
    script, _ = doc.entry
    relative = PurePosixPath(script)
    if relative.is_absolute() or ".." in relative.parts:
        raise _invalid("invalid_value", f"script {script!r} must be a path inside the code folder", param="script")
    requirements = environment_requirements(folder / doc.environment) if doc.environment else ()
    target = job_compute(compute=compute or doc.compute, requirements=requirements)
    snapshot = job_snapshot(folder=folder)
    if not engine_settings.artifact_store().path(snapshot.digest).joinpath(relative).is_file():
        raise _invalid(
            "script_not_found", f"the snapshot has no script {script!r} (is it missing, or ignored?)", param="script"
        )
    return PreparedJob(
        document=job_pipeline(doc, snapshot=snapshot.digest, compute=target),
        job={
            "file": doc.to_data(),
            "snapshot": {"digest": snapshot.digest, "files": snapshot.files, "bytes": snapshot.bytes,
                         "ignore_file": snapshot.ignore_file, "reused": snapshot.reused},
            "requirements": list(requirements),
            "compute": target,
        },
        experiment=doc.experiment,
    )


def job_compute(*, compute: str, requirements: tuple[str, ...]) -> str:
    """The compute target a job runs on. With no requirements of its own, or on a target with
    no environment (local: the server's own, as Azure's local runs), `compute` itself; on a
    docker target, a target like it whose environment adds the job's requirements: one per
    set of requirements, made the first time, so its image is built once and then reused
    (environment digests, designer.engine.environments), and a changed requirement builds anew."""
    base = ComputeTarget.objects.select_related("environment").filter(name=compute).first()
    if not requirements or base is None or base.environment is None:
        return compute  # an unknown target is refused by the pipeline's validation, by name
    merged = normalize_requirements([*base.environment.requirement_lines(), *requirements])
    digest = sha256_text(canonical_json({"base": base.environment.base_image, "requirements": merged}))[:12]
    environment, _ = Environment.objects.get_or_create(name=f"job-{digest}", defaults={
        "description": f"A job's environment: {base.environment.name} and its requirements",
        "base_image": base.environment.base_image, "requirements": "\n".join(merged),
    })
    target, _ = ComputeTarget.objects.get_or_create(name=f"{compute[:80]}-job-{digest}", defaults={
        "backend": base.backend, "description": f"{compute} with the environment of a job ({environment.name})",
        "capacity": base.capacity, "memory_mb": base.memory_mb, "cpus": base.cpus, "pids": base.pids,
        "environment": environment,
    })
    return target.name


def job_submit(
    *, user: User, doc: JobDoc, folder: Path, compute: str | None = None, source: str = RunSource.API,
) -> Run:
    """Snapshot `folder` and submit the job as a run, which starts once the transaction
    commits. Raises PipelineInvalid with every error (the job's, or its pipeline's: an
    unknown compute target, one without a sandbox for someone else's code…)."""
    prepared = job_prepare(doc=doc, folder=folder, compute=compute)
    return run_submit(
        user=user, document=prepared.document, source=source, kind=RunKind.JOB, job=prepared.job,
        experiment=prepared.experiment,
    )


def job_submit_archive(*, user: User, doc: JobDoc, archive: IO[bytes], compute: str | None = None) -> Run:
    """Submit a job whose code folder comes as a zip (from the page or the CLI's --url)."""
    with tempfile.TemporaryDirectory(prefix="atelier-job-") as scratch:
        folder = Path(scratch) / "code"
        _unzip(archive, folder, max_bytes=settings.ATELIER["JOB_SNAPSHOT_MAX_BYTES"])
        return job_submit(user=user, doc=doc, folder=folder / doc.code if doc.code != "." else folder,
                          compute=compute, source=RunSource.API)


def _unzip(archive: IO[bytes], folder: Path, *, max_bytes: int) -> None:
    """Extract a zip of a code folder, leaving out what its .amlignore or .gitignore lists
    (so that its data need not be sent twice to be left out), refusing members outside it,
    links, and more than `max_bytes` of content (what the members say, and what they hold)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir() and not stat.S_ISLNK(m.external_attr >> 16)]
            for member in members:
                path = PurePosixPath(member.filename.replace("\\", "/"))
                if path.is_absolute() or ".." in path.parts:
                    raise _invalid("unsafe_archive", f"the code archive has a member outside its folder: {member.filename!r}")
            names = {m.filename: m for m in members}
            used = next((name for name in IGNORE_FILES if name in names), None)
            spec = ignore_rules(zf.read(names[used]).decode(errors="replace") if used else "")
            kept = [m for m in members if not is_ignored(spec, m.filename.replace("\\", "/"))]
            if sum(m.file_size for m in kept) > max_bytes:
                raise too_large([(m.file_size, m.filename) for m in kept], max_bytes, used)
            folder.mkdir(parents=True)
            for member in kept:
                target = folder / member.filename.replace("\\", "/")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, length=1 << 20)
                    if out.tell() > member.file_size:
                        raise _invalid("unsafe_archive", f"{member.filename!r} holds more than its size says")
    except SnapshotRefused as exc:
        raise _invalid("snapshot_refused", str(exc)) from None
    except zipfile.BadZipFile as exc:
        raise _invalid("bad_archive", f"the code is not a readable zip file: {exc}") from None


def job_folder_of(*, job_file: Path, doc: JobDoc) -> Path:
    """The code folder a job file names (relative to the file's own folder)."""
    return (job_file.parent / doc.code).resolve()
