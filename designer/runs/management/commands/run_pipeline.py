import json
import sys

from django.core.management.base import BaseCommand

from designer.engine.local_backend import start_fork_server

from ._pipeline_args import parse_params, read_pipeline_file


class Command(BaseCommand):
    # Nothing here depends on URLs or admin checks; skipping them keeps start-up short.
    requires_system_checks: list[str] = []
    help = "Run a pipeline file on this machine, showing each step live; exit code 0 only if it completed."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--param", action="append", metavar="NAME=VALUE", help="a pipeline parameter value")
        parser.add_argument("--compute", help="the compute target for nodes that don't name one (default: the file's)")
        parser.add_argument("--force-rerun", action="store_true", help="run every step, reusing no earlier output")
        parser.add_argument("--json", action="store_true", help="print one JSON document with the run's outcome")

    def handle(self, *args, **options):
        # The steps' warm process imports pandas and scikit-learn on another core while this
        # one loads the engine; hence the imports below, after it has started.
        start_fork_server()
        from designer.engine.errors import PipelineInvalid
        from django.db import transaction

        from designer.pipelines import validation
        from designer.runs import execution, leases, services
        from designer.runs.console import LiveConsole, exit_invalid, print_summary
        from designer.runs.models import RunSource

        as_json = options["json"]
        # With --json, stdout carries the JSON document alone; the live view goes to stderr.
        live = sys.stderr if as_json else self.stdout
        text = read_pipeline_file(options["file"])
        try:
            doc, plan = validation.pipeline_prepare(
                text=text, parameters=parse_params(options["param"]), compute=options["compute"]
            )
        except PipelineInvalid as exc:
            exit_invalid(exc.errors, as_json=as_json, stdout=self.stdout, live=live)

        with transaction.atomic():
            run = services.run_create(doc=doc, plan=plan, source=RunSource.CLI, force_rerun=options["force_rerun"])
            # Recorded as this process's run: if it is killed, a server ends the run as interrupted.
            leases.claim(run_id=run.pk)
        live.write(f"Run {run.pk}: {doc.name}, {len(plan.steps)} steps\n")
        result = execution.run_execute(run=run, on_event=LiveConsole(live, verbose=options["verbosity"] > 1))
        if as_json:
            self.stdout.write(json.dumps(result.summary()))
        else:
            print_summary(result, self.stdout)
        sys.exit(0 if result.status.value == "completed" else 1)
