from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from designer.pipelines.module_table import module_table, readme_path, readme_with_table
from modules.sdk.registry import load_registry


class Command(BaseCommand):
    help = "Rewrite the table of built-in modules in README.md from the registry (--check: fail if it is out of date)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="change nothing; fail when the README is out of date")

    def handle(self, *args: Any, **options: Any) -> None:
        path = readme_path()
        current = path.read_text()
        # Built-ins only: a module pack installed here is not part of Atelier's README.
        updated = readme_with_table(current, module_table(load_registry(with_packs=False)))
        if options["check"]:
            if updated != current:
                raise CommandError("README.md's module table is out of date: run `python manage.py module_table`")
            self.stdout.write("README.md's module table is up to date")
            return
        path.write_text(updated)
        self.stdout.write(f"wrote the module table to {path.name}")
