"""The dependency rule: each layer imports only the layers below it, and nothing imports in a
circle. Below the apps (modules, the engine), no frameworks at all."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
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


# Lowest first. A module belongs to the longest name here that it starts with; it may import
# its own layer and those before it. Between the engine and the apps: the project's shared
# parts (settings, API defaults, the engine as settings configure it, the realtime publisher,
# which takes plain data); stored tables as the API shows them; then the apps in their order.
LAYERS = [
    ["modules"],
    ["designer.engine", "designer.exporters"],
    [
        "designer.settings", "designer.celery", "designer.api_defaults", "designer.api_errors",
        "designer.api_schema", "designer.request_limits", "designer.sign_in_limits", "designer.samples",
        "designer.engine_settings", "designer.realtime.publish",
    ],
    ["designer.tables"],
    ["designer.compute"],
    ["designer.datasets"],
    ["designer.pipelines"],
    ["designer.runs"],
    ["designer.jobs"],
    ["designer.realtime"],
    ["designer.web", "designer.urls", "designer.asgi", "designer.wsgi"],
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    """Every import (at load or at call time) between modules of designer/ and modules/."""
    paths = [p for top in ("designer", "modules") for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts]
    known = {module_name(p) for p in paths}
    graph = nx.DiGraph()
    for path in paths:
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph.add_node(name)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                # `from x import y` imports the module x.y when there is one, else a name of x.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph.add_edge(name, target, line=node.lineno)
    return graph


def layer_of(name: str) -> int:
    matches = [(len(prefix), i) for i, layer in enumerate(LAYERS) for prefix in layer
               if name == prefix or name.startswith(prefix + ".")]
    assert matches, f"{name} is in no layer: add it to LAYERS"
    return max(matches)[1]


def test_no_module_imports_a_layer_above_its_own():
    graph = import_graph()
    upward = [
        f"{a} (line {graph.edges[a, b]['line']}) imports {b}"
        for a, b in graph.edges if layer_of(b) > layer_of(a) and b != "designer"
    ]
    assert not upward, "\n".join(upward)


def test_nothing_imports_in_a_circle():
    # A package's __init__ importing its own modules is not a circle of dependencies.
    graph = import_graph()
    graph.remove_edges_from([(a, b) for a, b in graph.edges if b.startswith(a + ".") or a.startswith(b + ".")])
    assert list(nx.simple_cycles(graph)) == []


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
