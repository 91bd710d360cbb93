"""The conformance check every registered module passes (see tests/modules/test_conformance.py).

`check_module(cls)` returns the problems it finds, an empty list when the module conforms:

1. **The spec is well formed**: the id is lowercase snake case (`split_data`) for a
   built-in and namespaced (`acme.churn_features`) for a pack; name, category and help
   are given; port and param names are identifiers; the spec serializes to strict JSON;
   every default passes its own `Param.clean`; required params have no default;
   `example_params` are valid and give every required param a value; `run` accepts the
   input ports by name.
2. **It runs**: through the real step runner, on small example inputs with
   `example_params`, it completes (the runner fails a step that leaves an output unset);
   where `infer_schema` announces an output's columns, the run produces those columns.
3. **Its errors are user-facing**: no attempt fails with `internal_error` (an exception
   that is not a ModuleError), and with every table input emptied to 0 rows it completes
   or fails with a ModuleError.

A module that needs a program besides Python (`runtimes`, e.g. R) passes the run check
where that program is absent by refusing every run with `runtime_unavailable`. A request
input (`Module.request_input`, Web Service Input) is never a step: only its spec is checked.
A module that reads the step's resources (a dataset catalog) gets them from `example_resources`.

Example inputs are made per port type by `ExampleInputs`, from the registry itself, so
the check needs no knowledge of particular modules and covers module packs too.
"""
from __future__ import annotations

import inspect
import itertools
import json
import keyword
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from .errors import RUNTIME_UNAVAILABLE
from .artifacts import read_table, write_table
from .contract import StepRequest
from .module import Module, ParamValues
from .params import Param, ParamError, Struct
from .registry import default_registry
from .runner import execute
from .schema import Schema, schema_of
from .types import ESTIMATOR_PORT_TYPES, PortType

BUILTIN_ID = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
PACK_ID = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# Input ports arrive as keyword arguments of run(ctx, params, **inputs).
RESERVED_INPUT_NAMES = frozenset({"self", "ctx", "params"})
# Input combinations tried before a module is declared unable to run: enough for a module
# taking a model to reach the kind it needs (two-class, anomaly…) among all the learners.
MAX_ATTEMPTS = 32


def example_table(rows: int = 40, seed: int = 0) -> pd.DataFrame:
    """The small mixed table every module must run on.

    Columns: `x1` float, `x2` int, `color` text (red/green/blue), `flag` bool,
    `target` float (a noisy linear function of x1, x2: for regression), `klass` text
    (yes/no, from x1: for two-class classification), `grade` text (a/b/c: multiclass).
    """
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=rows)
    x2 = rng.integers(0, 10, size=rows)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "color": rng.choice(["red", "green", "blue"], size=rows),
            "flag": rng.random(rows) > 0.5,
            "target": 3 * x1 + 0.5 * x2 + rng.normal(scale=0.1, size=rows),
            "klass": np.where(x1 + rng.normal(scale=0.3, size=rows) > 0, "yes", "no"),
            "grade": np.array(["a", "b", "c"])[np.digitize(x1, [-0.5, 0.5])],
        }
    )


def check_module(cls: type[Module], *, examples: "ExampleInputs | None" = None) -> list[str]:
    """Every way `cls` falls short of the module contract, as readable sentences.

    `cls` must be in `default_registry()` (the step runner looks it up there). Pass one
    `examples` to many checks so the example models are trained once.
    """
    problems = check_spec(cls)
    if problems:
        return problems  # running a malformed module would only add noise
    if cls.spec.request_input:
        return []  # never a step: nothing of it runs (see Module.request_input)
    if examples is not None:
        return check_runs(cls, examples)
    with tempfile.TemporaryDirectory(prefix="atelier-conformance-") as folder:
        return check_runs(cls, ExampleInputs(Path(folder)))


def check_spec(cls: type[Module]) -> list[str]:
    """Problems with the declarations alone, found without running anything."""
    if not cls.id:
        return ["has no id"]
    spec = cls.spec
    problems: list[str] = []
    if cls.__module__.startswith("modules.builtin."):
        if not BUILTIN_ID.fullmatch(spec.id):
            problems.append(f"id {spec.id!r} is not lowercase snake case, e.g. split_data")
    elif not PACK_ID.fullmatch(spec.id):
        problems.append(f"id {spec.id!r} is not namespaced lowercase snake case, e.g. acme.churn_features")
    if isinstance(spec.version, bool) or not isinstance(spec.version, int) or spec.version < 1:
        problems.append(f"version {spec.version!r} is not a positive integer")
    # The spec falls back to the id and "Other"; a palette entry needs real ones.
    for attribute in ("name", "category"):
        if not str(getattr(cls, attribute)).strip():
            problems.append(f"declares no {attribute}")
    if not spec.help.strip():
        problems.append("has no help (set help, or write a docstring)")
    # Searched as typed (lowercase); a bare string would be taken letter by letter.
    if isinstance(cls.keywords, str) or any(not isinstance(k, str) or not k.strip() or k != k.lower() for k in spec.keywords):
        problems.append(f"keywords {cls.keywords!r} are not a tuple of lowercase phrases")
    for name, decl in spec.inputs.items():
        if not _is_identifier(name) or name in RESERVED_INPUT_NAMES:
            problems.append(f"input port name {name!r} is not a usable identifier")
        if not isinstance(decl.type, PortType):
            problems.append(f"input port {name!r} has type {decl.type!r}, not a PortType")
    for name, out in spec.outputs.items():
        if not _is_identifier(name):
            problems.append(f"output port name {name!r} is not a usable identifier")
        if not isinstance(out.type, PortType):
            problems.append(f"output port {name!r} has type {out.type!r}, not a PortType")
    for name, param in spec.params.items():
        if hasattr(ParamValues, name):
            problems.append(f"param name {name!r} is hidden by a dict method of ParamValues")
        problems += _param_problems(param, f"param {name!r}")
    try:
        json.dumps(spec.to_json(), allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"spec.to_json() is not JSON: {exc}")
    problems += _example_params_problems(cls)
    if spec.request_input and (spec.inputs or [o.type for o in spec.outputs.values()] != [PortType.DATAFRAME]):
        problems.append("is a request input, so it takes no input and has one table output")
    try:
        inspect.signature(cls.run).bind(None, None, None, **dict.fromkeys(spec.inputs))
    except TypeError as exc:
        problems.append(f"run(ctx, params, {', '.join(spec.inputs)}) does not fit its signature: {exc}")
    return problems


def _is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _param_problems(param: Param, where: str) -> list[str]:
    problems = []
    if not _is_identifier(param.name):
        problems.append(f"{where}: the name is not an identifier")
    if param.required and param.default is not None:
        problems.append(f"{where} is required but has a default ({param.default!r})")
    elif param.default is not None:
        try:
            param.clean(param.default)
        except ParamError as exc:
            problems.append(f"{where}: the default {param.default!r} {exc}")
    if isinstance(param, Struct):
        for sub in param.fields:
            problems += _param_problems(sub, f"{where} field {sub.name!r}")
    return problems


def _example_params_problems(cls: type[Module]) -> list[str]:
    _, errors = cls.spec.clean_params(cls.example_params)
    problems = []
    for name, message in errors.items():
        if name in cls.spec.params and name not in cls.example_params and cls.spec.params[name].required:
            problems.append(f"required param {name!r} needs a value in example_params")
        else:
            problems.append(f"example_params[{name!r}] {message}")
    return problems


@dataclass(frozen=True)
class StepRun:
    """One run of a module through the step runner."""

    inputs: dict[str, Path]
    manifest: dict[str, Any]
    output_dir: Path

    @property
    def completed(self) -> bool:
        return self.manifest["status"] == "completed"

    @property
    def error(self) -> dict[str, Any]:
        return self.manifest.get("error") or {}


class ExampleInputs:
    """Example artifacts for every port type, made on demand and kept in `folder`.

    - DataFrame: `example_table()` first; then the tables that registered modules derive
      from it with a model or transform (scored, clustered, transformed), which
      evaluation-like modules need. Plain table-to-table outputs would only add near
      copies of the example table.
    - Files: a folder holding `example.csv`.
    - Model and transform types: the outputs of the registered modules that produce them
      (learners, then training on their output…), each run on examples of its own inputs.

    Each producing module adds the outputs of its first completed run.

    Every input port of one type gets the same example (a table joined to itself, a model
    compared with itself), which keeps the combinations to try few.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._labels: dict[Path, str] = {}
        self._made: dict[PortType, list[Path]] = {}
        self._makers: dict[PortType, Iterator[Path]] = {}
        self._making: set[PortType] = set()
        self._runs: dict[tuple[str, int, tuple[tuple[str, Path], ...]], StepRun] = {}
        self._emptied: dict[Path, Path] = {}

    def candidates(self, port_type: PortType) -> Iterator[Path]:
        """Example artifact folders of `port_type`, best first, made as they are asked for."""
        made = self._made.setdefault(port_type, [])
        index = 0
        while True:
            if index == len(made):
                if port_type in self._making:
                    return  # making this type needs this type: settle for what exists
                self._making.add(port_type)
                try:
                    made.append(next(self._makers.setdefault(port_type, self._make(port_type))))
                except StopIteration:
                    return
                finally:
                    self._making.discard(port_type)
            yield made[index]
            index += 1

    def label(self, folder: Path) -> str:
        return self._labels.get(folder, str(folder))

    def runs(self, cls: type[Module]) -> Iterator[StepRun]:
        """Runs of `cls` on successive combinations of example inputs (at most MAX_ATTEMPTS)."""
        decls = cls.spec.inputs
        # Tables vary slowest, so that every model is tried with example_table() first.
        types = sorted(dict.fromkeys(d.type for d in decls.values()), key=lambda t: t is not PortType.DATAFRAME)
        if any(next(self.candidates(t), None) is None for t in types):
            return
        for choice in itertools.islice(self._choices(types), MAX_ATTEMPTS):
            yield self.run(cls, {name: choice[decl.type] for name, decl in decls.items()})

    def run(self, cls: type[Module], inputs: dict[str, Path]) -> StepRun:
        """Run `cls` with `example_params` on these input folders (once per combination)."""
        key = (cls.id, cls.version, tuple(sorted(inputs.items())))
        if key not in self._runs:
            folder = self.folder / "runs" / f"{len(self._runs):03d}-{cls.id}"
            manifest = execute(
                StepRequest(
                    node=cls.id, module=cls.id, version=cls.version, params=dict(cls.example_params),
                    inputs={name: str(path) for name, path in inputs.items()},
                    output_dir=str(folder / "out"), work_dir=str(folder / "work"),
                    resources=cls.example_resources(self.folder / "resources" / cls.id),
                ).to_json()
            )
            self._runs[key] = StepRun(inputs, manifest, folder / "out")
        return self._runs[key]

    def emptied(self, table_folder: Path) -> Path:
        """The same table with no rows (same columns, dtypes and roles)."""
        if table_folder not in self._emptied:
            folder = self.folder / "empty" / str(len(self._emptied))
            write_table(read_table(table_folder).iloc[0:0], folder)
            self._labels[folder] = f"{self.label(table_folder)} with 0 rows"
            self._emptied[table_folder] = folder
        return self._emptied[table_folder]

    def _choices(self, types: list[PortType]) -> Iterator[dict[PortType, Path]]:
        if not types:
            yield {}
            return
        for value in self.candidates(types[0]):
            for rest in self._choices(types[1:]):
                yield {types[0]: value, **rest}

    def _make(self, port_type: PortType) -> Iterator[Path]:
        registry = default_registry()
        if port_type is PortType.DATAFRAME:
            folder = self.folder / "example_table"
            write_table(example_table(), folder)
            self._labels[folder] = "example_table()"
            yield folder
            producers = [m for m in registry if any(d.type in ESTIMATOR_PORT_TYPES for d in m.spec.inputs.values())]
        elif port_type is PortType.FILES:
            folder = self.folder / "files"
            folder.mkdir(parents=True, exist_ok=True)
            example_table().to_csv(folder / "example.csv", index=False)
            self._labels[folder] = "a folder holding example.csv"
            yield folder
            return
        else:
            producers = list(registry)
        for producer in producers:
            ports = [name for name, out in producer.spec.outputs.items() if out.type is port_type]
            if not ports:
                continue
            # One run per producer: variety comes from different modules, not from one
            # module fed every example in turn.
            run = next((run for run in self.runs(producer) if run.completed), None)
            if run is None:
                continue
            for port in ports:
                self._labels[run.output_dir / port] = f"{producer.id}.{port}"
                yield run.output_dir / port


def check_runs(cls: type[Module], examples: ExampleInputs) -> list[str]:
    """Problems found by running `cls` through the step runner on example inputs."""
    tried: list[StepRun] = []
    for run in examples.runs(cls):
        tried.append(run)
        if run.completed:
            break
    problems = [
        f"fails with an internal error on {_describe(run.inputs, examples)}: {run.error.get('message')}"
        for run in tried
        if run.error.get("code") == "internal_error"
    ]
    if not tried:
        return problems + ["no example inputs could be made for its input ports"]
    if cls.spec.runtimes and all(run.error.get("code") == RUNTIME_UNAVAILABLE for run in tried):
        # It needs a program this machine lacks (e.g. R), and says so: that is its contract
        # here; its runs are tested where that program is (an environment image with it).
        return problems
    if not tried[-1].completed:
        first = tried[0]
        return problems + [
            f"did not complete on any of {len(tried)} example input combinations; on "
            f"{_describe(first.inputs, examples)} it failed with {first.error.get('code')}: "
            f"{first.error.get('message')}"
        ]
    return problems + _schema_problems(cls, tried[-1]) + _empty_table_problems(cls, tried[-1], examples)


def _describe(inputs: dict[str, Path], examples: ExampleInputs) -> str:
    if not inputs:
        return "no inputs"
    return ", ".join(f"{name}={examples.label(folder)}" for name, folder in inputs.items())


def _schema_problems(cls: type[Module], run: StepRun) -> list[str]:
    """Column pickers trust infer_schema before anything runs: it must match the real output."""
    cleaned, _ = cls.spec.clean_params(cls.example_params)
    schemas: dict[str, Schema | None] = {
        name: schema_of(read_table(run.inputs[name])) if decl.type is PortType.DATAFRAME else None
        for name, decl in cls.spec.inputs.items()
    }
    try:
        inferred = cls.infer_schema(ParamValues(cleaned), schemas)
    except Exception as exc:  # any failure here breaks the canvas, whatever it is
        return [f"infer_schema raised {type(exc).__name__}: {exc}"]
    problems = []
    for port, schema in inferred.items():
        if schema is None:
            continue
        if port not in run.manifest["outputs"]:
            problems.append(f"infer_schema returns a schema for {port!r}, which is not an output port")
            continue
        produced = Schema.from_json(run.manifest["outputs"][port].get("schema", []))
        if schema.names != produced.names:
            problems.append(
                f"infer_schema says output {port!r} has columns {schema.names}, but the run produced {produced.names}"
            )
    return problems


def _empty_table_problems(cls: type[Module], run: StepRun, examples: ExampleInputs) -> list[str]:
    tables = [name for name, decl in cls.spec.inputs.items() if decl.type is PortType.DATAFRAME]
    if not tables:
        return []
    inputs = {name: examples.emptied(folder) if name in tables else folder for name, folder in run.inputs.items()}
    empty_run = examples.run(cls, inputs)
    if empty_run.error.get("code") == "internal_error":
        return [
            f"with 0-row tables ({_describe(inputs, examples)}) it fails with an internal error "
            f"instead of a clear message: {empty_run.error.get('message')}"
        ]
    return []
