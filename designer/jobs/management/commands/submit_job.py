import argparse
import io
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import CommandError

from designer.engine.local_backend import start_fork_server
from designer.runs.management.commands import submit_pipeline


class JobApi(submit_pipeline.Api):
    """The runs API client of submit_pipeline, submitting a job (its file and zipped code) instead."""

    def __init__(self, base_url: str, token: str, *, job: str, code: bytes) -> None:
        super().__init__(base_url, token)
        self.job = job
        self.code = code

    def submit(self, *, compute: str | None, **_pipeline_options: Any) -> dict[str, Any]:
        fields = {"job": self.job, **({"compute": compute} if compute else {})}
        body, content_type = submit_pipeline._multipart(fields, {"code": ("code.zip", self.code)})
        return self.request("POST", "/api/jobs/", body=body, content_type=content_type)


def zipped_snapshot(folder: Path) -> bytes:
    """The code folder as a zip, without what its .amlignore or .gitignore leaves out."""
    from designer.engine.snapshots import snapshot_files

    files, _ = snapshot_files(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in sorted(files):
            archive.write(folder / relative, relative.as_posix())
    return buffer.getvalue()


class Command(submit_pipeline.Command):
    help = (
        "Run a job: a code folder and its entry script (submit_job DIR --script train.py [--args ...]) or a job "
        "file (submit_job job.yaml), on this machine, or on an Atelier server with --url; shows it live; exit "
        "code 0 only if it completed (2: the server could not be used). Ctrl-C cancels it; --follow streams its output."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=".", help="the code folder (default: here) or a job file")
        parser.add_argument("--script", help="the entry script, relative to the code folder")
        parser.add_argument("--compute", help="the compute target (default: the job file's, or local)")
        parser.add_argument("--environment", help="a requirements.txt or conda environment.yml, relative to the code folder")
        parser.add_argument("--input", action="append", metavar="NAME=dataset:NAME[:VERSION]",
                            help="an input the arguments name as ${{inputs.NAME}}")
        parser.add_argument("--experiment", help="the experiment the run belongs to")
        parser.add_argument("--timeout", type=float, help="seconds the script may run")
        parser.add_argument("--follow", action="store_true",
                            help="also stream the script's log lines as it writes them (without: states and metrics)")
        parser.add_argument("--json", action="store_true", help="print one JSON document with the job's outcome")
        parser.add_argument("--url", help="run it on this Atelier server (e.g. https://atelier.example.com)")
        parser.add_argument("--token", help="with --url: an API token; default: $ATELIER_TOKEN")
        parser.add_argument("--args", dest="script_args", nargs=argparse.REMAINDER, default=[],
                            help="the script's arguments: everything after --args")

    def handle(self, *args, **options):
        if options["url"]:
            self._remote(options)
            return
        start_fork_server()  # the steps' warm process starts on another core meanwhile
        from django.db import transaction

        from designer.engine.errors import PipelineInvalid
        from designer.jobs import services as jobs
        from designer.pipelines.validation import pipeline_prepare
        from designer.runs import execution, leases, services
        from designer.runs.console import exit_invalid, print_summary
        from designer.runs.models import RunKind, RunSource

        as_json = options["json"]
        live = sys.stderr if as_json else self.stdout
        try:
            doc, folder = self._job(options)
            prepared = jobs.job_prepare(doc=doc, folder=folder, compute=options["compute"])
            pipeline, plan = pipeline_prepare(document=prepared.document)
        except PipelineInvalid as exc:
            exit_invalid(exc.errors, as_json=as_json, stdout=self.stdout, live=live)
        snapshot = prepared.job["snapshot"]
        with transaction.atomic():
            run = services.run_create(
                doc=pipeline, plan=plan, source=RunSource.CLI, kind=RunKind.JOB, job=prepared.job,
                experiment=prepared.experiment,
            )
            leases.claim(run_id=run.pk)
        live.write(
            f"Job {run.pk}: {pipeline.name} on {pipeline.settings.default_compute}; snapshot {snapshot['digest'][:12]} "
            f"({snapshot['files']} files, {snapshot['bytes'] / 1e3:.1f} kB"
            f"{', already stored' if snapshot['reused'] else ''})\n"
        )
        if prepared.job["requirements"] and prepared.job["compute"] == (options["compute"] or doc.compute):
            live.write(f"note: {prepared.job['compute']} runs jobs in its own environment (a local run); the "
                       "job's requirements are installed on docker compute\n")
        result = execution.run_execute(run=run, on_event=self._console(live, options))
        if as_json:
            self.stdout.write(json.dumps(result.summary()))
        else:
            print_summary(result, self.stdout)
        sys.exit(0 if result.status.value == "completed" else 1)

    def _console(self, live: TextIO, options: dict[str, Any]) -> Any:
        """What shows the job as it goes, here or on a server: its state changes and each metric
        as the script logs it; with --follow (or -v 2) also the script's log lines, live."""
        from designer.runs.console import LiveConsole

        return LiveConsole(live, verbose=options["follow"] or options["verbosity"] > 1, metrics=True)

    def _remote(self, options: dict[str, Any]) -> None:
        """Submit the job to a server and follow it there, as submit_pipeline does a pipeline."""
        from designer.engine.errors import PipelineInvalid

        as_json = options["json"]
        # Django's OutputWrapper writes like a text stream.
        live = cast(TextIO, sys.stderr if as_json else self.stdout)
        try:
            base = submit_pipeline._base_url(options["url"])
            token = options["token"] or os.environ.get("ATELIER_TOKEN", "")
            if not token:
                raise CommandError("an API token is needed: --token, or the ATELIER_TOKEN environment variable")
            doc, folder = self._job(options)
        except CommandError as exc:
            self._fail(f"Error: {exc}", 2)
        except PipelineInvalid as exc:
            self._invalid([e.to_json() for e in exc.errors], live, as_json)
        # The server reads the code from the zip's root.
        api = JobApi(base, token, job=json.dumps({**doc.to_data(), "code": "."}), code=zipped_snapshot(folder))
        try:
            self._submit_and_follow(
                api, b"", {}, {**options, "file": "job", "force_rerun": False, "compute": options["compute"]}, live,
                as_json,
            )
        except submit_pipeline.ServerError as exc:
            if exc.status in (401, 403):
                self._fail(f"Error: the server refused the token ({exc})", 2)
            self._fail(f"Error: {exc}", 2)

    def _job(self, options: dict[str, Any]) -> tuple[Any, Path]:
        """The job (a JobDoc) and its code folder, from a job file or from the options."""
        from designer.engine.errors import GraphError, PipelineInvalid
        from designer.engine.job_file import FORMAT, is_job_file, job_from_data, load_job

        path = Path(options["path"])
        overrides: dict[str, Any] = {}
        for key in ("environment", "experiment", "timeout", "compute"):
            if options[key] is not None:
                overrides[key] = options[key]
        inputs = {}
        for pair in options["input"] or []:
            name, sep, source = pair.partition("=")
            if not sep or not name:
                raise CommandError(f"--input takes NAME=dataset:NAME[:VERSION], got {pair!r}")
            inputs[name.strip()] = source.strip()
        if path.is_file():
            text = path.read_bytes()
            if not is_job_file(text):
                raise CommandError(f"{path}: not a job file (format: {FORMAT}); give the code folder and --script")
            doc = load_job(text)
            data = {**doc.to_data(), **overrides}
            if inputs:
                data["inputs"] = {**data.get("inputs", {}), **inputs}
            if options["script"]:
                data.pop("command", None)
                data["script"] = options["script"]
            if options["script_args"]:
                data["args"] = options["script_args"]
            doc = job_from_data(data)
            return doc, (path.parent / doc.code).resolve()
        if not path.is_dir():
            raise CommandError(f"{path}: no such folder or job file")
        if not options["script"]:
            raise PipelineInvalid([GraphError("missing_key", "--script is required with a code folder", param="script")])
        data = {
            "format": FORMAT, "name": path.resolve().name or "job", "script": options["script"],
            "args": options["script_args"], "inputs": inputs, **overrides,
        }
        return job_from_data(data), path.resolve()
