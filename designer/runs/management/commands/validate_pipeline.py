import json
import sys

from django.core.management.base import BaseCommand

from designer.engine.errors import PipelineInvalid
from designer.engine.pipeline_file import load_pipeline
from designer.pipelines import validation
from designer.runs.console import print_errors

from ._pipeline_args import parse_params, read_pipeline_file


class Command(BaseCommand):
    # Nothing here depends on URLs or admin checks; skipping them keeps start-up short.
    requires_system_checks: list[str] = []
    help = "Check a pipeline file and print every error (exit code 1 when there is any)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--param", action="append", metavar="NAME=VALUE", help="a pipeline parameter value")
        parser.add_argument("--json", action="store_true", help="print the errors as a JSON list")

    def handle(self, *args, **options):
        text = read_pipeline_file(options["file"])
        try:
            doc = load_pipeline(text)
            errors = validation.pipeline_validate(doc=doc, parameters=parse_params(options["param"])).errors
        except PipelineInvalid as exc:
            errors = exc.errors
        if options["json"]:
            self.stdout.write(json.dumps([e.to_json() for e in errors], indent=2))
        elif errors:
            print_errors(errors, self.stdout)
        else:
            self.stdout.write(f"{options['file']}: valid ({len(doc.nodes)} nodes)")
        if errors:
            sys.exit(1)
