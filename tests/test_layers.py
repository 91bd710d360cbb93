"""The dependency rule: modules <- designer.engine <- Django apps. Below the apps, no frameworks."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLAIN = ["modules", "designer/engine", "designer/exporters"]
FRAMEWORKS = {"django", "rest_framework", "channels", "celery"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", [p for d in PLAIN for p in sorted((ROOT / d).rglob("*.py"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_plain_layers_import_no_framework(path):
    assert not imported_roots(path) & FRAMEWORKS


def test_modules_never_import_the_engine_or_the_apps():
    for path in (ROOT / "modules").rglob("*.py"):
        assert "designer" not in imported_roots(path), path


def test_a_step_runs_as_a_bare_process_without_django(tmp_path):
    request = {
        "node": "cars", "module": "import_data", "params": {"source": "sample", "name": "iris"},
        "inputs": {}, "output_dir": str(tmp_path / "out"), "work_dir": str(tmp_path / "work"),
    }
    (tmp_path / "work").mkdir()
    (tmp_path / "step.json").write_text(json.dumps(request))
    probe = (
        "import runpy, sys; sys.argv = ['runner', sys.argv[1]]\n"
        "try:\n    runpy.run_module('modules.sdk.runner', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert not {'django', 'celery', 'channels'} & set(sys.modules), 'a framework was imported'\n"
        "    raise\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "step.json")], cwd=ROOT,
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "result.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["outputs"]["dataset"]["rows"] == 150
    assert (tmp_path / "out" / "dataset" / "table.parquet").is_file()
