"""The README's module table is generated from the registry; this fails when it is out of date."""
from __future__ import annotations

from designer.pipelines.module_table import END, START, module_table, readme_path, readme_with_table
from modules.sdk.registry import load_registry


def test_the_readme_lists_every_built_in_module_as_the_registry_describes_it() -> None:
    readme = readme_path().read_text()
    assert readme == readme_with_table(readme, module_table(load_registry(with_packs=False))), (
        "README.md's module table is out of date: run `python manage.py module_table` (or `make readme`)"
    )


def test_the_table_has_a_row_per_module_with_its_version() -> None:
    registry = load_registry(with_packs=False)
    table = module_table(registry)
    rows = table.splitlines()[2:]
    assert len(rows) == len(list(registry))
    assert "| Model Scoring and Evaluation | Evaluate Model | `evaluate_model` | 2 |" in table
    assert rows[0].startswith("| Data Input and Output |")


def test_only_the_text_between_the_markers_is_replaced() -> None:
    readme = f"intro\n{START}\nold\n{END}\noutro\n"
    assert readme_with_table(readme, "new") == f"intro\n{START}\nnew\n{END}\noutro\n"
