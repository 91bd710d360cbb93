"""Whole-graph validation. Every problem is reported, each naming its node and port/param.

Validation also resolves the graph (modules looked up, nodes saved with an older module
version upgraded through its migration, pipeline parameters substituted, params cleaned),
so that compilation never re-does that work.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping

import networkx as nx

from modules.builtin import web_service
from modules.sdk import Module, ParamValues, Registry
from modules.sdk.types import ESTIMATOR_PORT_TYPES, PortType

from .errors import GraphError, PipelineInvalid
from .module_versions import NodeUpgrade, node_upgrade, resolve_node, upgraded_node
from .pipeline_file import NodeDoc, ParameterDoc, PipelineDoc

PARAM_REF = re.compile(r"\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class ResolvedNode:
    id: str
    module: type[Module]
    params: ParamValues
    inputs: Mapping[str, tuple[str, str]]  # port -> (upstream node, upstream output port)
    compute: str
    force_rerun: bool
    timeout: float | None
    # port -> the request input (Web Service Input node, port) that feeds it instead of
    # `inputs` when the pipeline serves requests; inactive in a pipeline run.
    requests: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.module.version


@dataclass
class ResolvedGraph:
    """A valid graph, ready to compile. `doc` is the pipeline as it runs: every node names the
    module version it runs as, and nodes saved with an older one are upgraded (`upgrades`)."""

    doc: PipelineDoc
    nodes: dict[str, ResolvedNode]
    graph: nx.DiGraph
    parameters: dict[str, Any] = field(default_factory=dict)
    upgrades: list[NodeUpgrade] = field(default_factory=list)


@dataclass
class Validation:
    errors: list[GraphError]
    resolved: ResolvedGraph | None
    upgrades: list[NodeUpgrade] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def require(self) -> ResolvedGraph:
        if self.errors or self.resolved is None:
            raise PipelineInvalid(self.errors)
        return self.resolved


def coerce_parameter(decl: ParameterDoc, value: Any) -> Any:
    """A pipeline parameter value (typed, or text from the command line) as its type."""
    if decl.type == "string":
        if isinstance(value, (dict, list)):
            raise ValueError("must be text")
        if "\x00" in str(value):
            raise ValueError("must not contain a NUL character")
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if decl.type == "bool":
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError(f"must be true or false, got {value!r}")
        try:
            return int(text) if decl.type == "int" else float(text)
        except ValueError:
            raise ValueError(f"must be {'an integer' if decl.type == 'int' else 'a number'}, got {value!r}") from None
    if decl.type == "bool" and isinstance(value, bool):
        return value
    if decl.type == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if decl.type == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"must be of type {decl.type}, got {value!r}")


def _resolve_parameters(doc: PipelineDoc, given: Mapping[str, Any]) -> tuple[dict[str, Any], list[GraphError]]:
    values: dict[str, Any] = {}
    errors = []
    for name in given:
        if name not in doc.parameters:
            errors.append(GraphError(
                "unknown_parameter",
                f"the pipeline has no parameter {name!r} (it has: {', '.join(doc.parameters) or 'none'})",
                details={"parameter": name},
            ))
    for name, decl in doc.parameters.items():
        raw = given.get(name, decl.default)
        if raw is None:
            errors.append(GraphError("missing_parameter", f"pipeline parameter {name!r} has no value and no default",
                                     details={"parameter": name}))
            continue
        try:
            values[name] = coerce_parameter(decl, raw)
        except ValueError as exc:
            errors.append(GraphError("invalid_parameter", f"pipeline parameter {name!r} {exc}", details={"parameter": name}))
    return values, errors


class _Unresolved(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


class _BadValue(Exception):
    """A declared parameter whose value is wrong: reported once, on the parameter."""


def _substitute(value: Any, values: Mapping[str, Any], declared: Collection[str]) -> Any:
    if isinstance(value, str):
        whole = PARAM_REF.fullmatch(value.strip())
        if whole:  # the whole value is a reference: keep the parameter's type
            return _lookup(whole.group(1), values, declared)
        return PARAM_REF.sub(lambda match: str(_lookup(match.group(1), values, declared)), value)
    if isinstance(value, dict):
        return {k: _substitute(v, values, declared) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values, declared) for v in value]
    return value


def _lookup(name: str, values: Mapping[str, Any], declared: Collection[str]) -> Any:
    if name in values:
        return values[name]
    raise _BadValue if name in declared else _Unresolved(name)


def validate_pipeline(
    doc: PipelineDoc,
    *,
    registry: Registry,
    parameters: Mapping[str, Any] | None = None,
    computes: Collection[str] = ("local",),
    unavailable: Mapping[str, str] | None = None,
    code_refused: Mapping[str, str] | None = None,
    runtimes: Mapping[str, Collection[str]] | None = None,
    serving: bool = False,
) -> Validation:
    """`computes` are the compute targets steps may run on; `unavailable` those that exist
    but cannot run steps now, with the reason (told apart from a name that is wrong);
    `code_refused` those where modules that run users' code may not run, with the reason;
    `runtimes` the programs besides Python (e.g. "R") each compute target provides (none
    where it is not named). `serving`: validated to serve requests, where an input a Web
    Service Input feeds alone has its data (in a pipeline run it has none, an error)."""
    values, errors = _resolve_parameters(doc, parameters or {})

    def compute_error(name: str, what: str, node: str | None = None) -> GraphError:
        if unavailable and name in unavailable:
            return GraphError("compute_unavailable", f"{what} {name!r} is not available: {unavailable[name]}", node=node)
        return GraphError(
            "unknown_compute", f"{what} {name!r} is not a compute target here (known: {', '.join(computes)})", node=node
        )

    graph: nx.DiGraph[str] = nx.DiGraph()
    nodes: dict[str, ResolvedNode] = {}

    if doc.settings.default_compute not in computes:
        errors.append(compute_error(doc.settings.default_compute, "default compute"))

    modules: dict[str, type[Module]] = {}
    raw_params: dict[str, dict[str, Any]] = {}
    upgraded_nodes: dict[str, NodeDoc] = {}
    upgrades: list[NodeUpgrade] = []
    for node_id, node in doc.nodes.items():
        graph.add_node(node_id)
        resolution = resolve_node(registry, node_id, node)
        if isinstance(resolution, GraphError):
            errors.append(resolution)
            continue
        modules[node_id] = resolution.module
        raw_params[node_id] = resolution.params
        upgraded_nodes[node_id] = upgraded_node(node, resolution, pin=True)
        upgrade = node_upgrade(node_id, resolution)
        if upgrade is not None:
            upgrades.append(upgrade)

    for node_id, node in doc.nodes.items():
        cls = modules.get(node_id)
        if cls is None:
            continue
        spec = cls.spec
        compute = node.compute or doc.settings.default_compute
        if node.compute and node.compute not in computes:
            errors.append(compute_error(node.compute, "compute", node_id))
        elif missing := [r for r in spec.runtimes if r not in (runtimes or {}).get(compute, ())]:
            having = sorted(c for c in computes if all(r in (runtimes or {}).get(c, ()) for r in spec.runtimes))
            errors.append(GraphError(
                "runtime_unavailable",
                f"{spec.name} needs {' and '.join(missing)}, which compute {compute!r} does not have: "
                + (f"run it on {', '.join(map(repr, having))}" if having else
                   "no compute target here has it (an administrator can add a docker target whose "
                   "environment includes it)"),
                node=node_id, details={"runtimes": missing, "computes": having},
            ))
        elif spec.runs_user_code and code_refused and compute in code_refused:
            errors.append(GraphError(
                "code_not_allowed", f"{spec.name} runs your code, and compute {compute!r} {code_refused[compute]}",
                node=node_id,
            ))

        params = raw_params[node_id]
        try:
            substituted = _substitute(params, values, doc.parameters.keys())
        except _BadValue:
            substituted = None
        except _Unresolved as exc:
            bad = next((k for k, v in params.items() if _mentions(v, exc.name)), None)
            errors.append(GraphError(
                "unresolved_parameter",
                f"${{{{parameters.{exc.name}}}}} does not name a pipeline parameter "
                f"(the pipeline has: {', '.join(doc.parameters) or 'none'})",
                node=node_id, param=bad,
            ))
            substituted = None
        cleaned: dict[str, Any] = {}
        if substituted is not None:
            cleaned, param_errors = spec.clean_params(substituted)
            for name, message in param_errors.items():
                if name in spec.params:
                    # In the words of the form the user fills in ("Label column is required: …").
                    errors.append(GraphError(
                        "invalid_param", f"{spec.params[name].display_label} {message}", node=node_id, param=name,
                    ))
                else:
                    errors.append(GraphError("unknown_param", f"param {name!r} {message}", node=node_id, param=name))

        inputs: dict[str, tuple[str, str]] = {}
        requests: dict[str, tuple[str, str]] = {}
        for port, given in node.inputs.items():
            if port not in spec.inputs:
                errors.append(GraphError(
                    "unknown_port",
                    f"{spec.id} has no input {port!r} (inputs: {', '.join(spec.inputs) or 'none'})",
                    node=node_id, port=port,
                ))
                continue
            refs = [given] if isinstance(given, str) else given
            if not isinstance(given, str) and len(given) != 2:
                errors.append(GraphError(
                    "too_many_sources",
                    f"input {port!r} lists {len(refs)} sources; an input takes one, or two when one of them "
                    "is a Web Service Input",
                    node=node_id, port=port,
                ))
                continue
            found = [_source(port, ref, node_id, spec.inputs[port].type, doc, modules, errors) for ref in refs]
            if None in found:
                continue
            served = [source for source in found if source and modules[source[0]].spec.request_input]
            ran = [source for source in found if source and not modules[source[0]].spec.request_input]
            if len(found) == 2 and len(served) != 1:
                errors.append(GraphError(
                    "too_many_sources",
                    f"input {port!r} has two sources, {refs[0]} and {refs[1]}; an input takes one, or two "
                    "when one of them is a Web Service Input (its data when the pipeline serves requests) "
                    "and the other the data it takes in a pipeline run",
                    node=node_id, port=port,
                ))
                continue
            if served:
                requests[port] = served[0]
                if not ran and not serving:
                    request_spec = modules[served[0][0]].spec
                    errors.append(GraphError(
                        "request_input_alone",
                        f"{request_spec.name} {served[0][0]!r} feeds {spec.name}'s {port} only when the "
                        f"pipeline serves requests; wire the data {port} takes in a pipeline run to it too",
                        node=node_id, port=port, details={"request_input": served[0][0]},
                    ))
            if ran:
                inputs[port] = ran[0]
                graph.add_edge(ran[0][0], node_id)
            if ran and served:
                # As it runs, a file lists the data an input takes in a run first.
                listed = {**upgraded_nodes[node_id].inputs, port: [".".join(ran[0]), ".".join(served[0])]}
                upgraded_nodes[node_id] = upgraded_nodes[node_id].model_copy(update={"inputs": listed})
        for port, decl in spec.inputs.items():
            if not decl.optional and port not in node.inputs:
                errors.append(GraphError(
                    "missing_input", f"required input {port!r} ({decl.type.value}) is not connected",
                    node=node_id, port=port,
                ))
        nodes[node_id] = ResolvedNode(
            id=node_id, module=cls, params=ParamValues(cleaned), inputs=inputs, compute=compute,
            force_rerun=node.force_rerun, timeout=node.timeout or doc.settings.step_timeout, requests=requests,
        )

    if code_refused:
        for node_id in sorted(user_code_nodes(nodes)):
            node_spec, compute = nodes[node_id].module.spec, nodes[node_id].compute
            if not node_spec.runs_user_code and compute in code_refused:  # those are reported above
                errors.append(GraphError(
                    "code_not_allowed",
                    f"{node_spec.name} runs your code (a model that holds it reaches it), and compute {compute!r} "
                    f"{code_refused[compute]}",
                    node=node_id,
                ))

    errors += _web_service_name_errors(nodes)
    for cycle in _cycles(graph):
        errors.append(GraphError(
            "cycle", f"nodes {' -> '.join([*cycle, cycle[0]])} form a cycle", node=cycle[0], details={"nodes": cycle},
        ))
    for node_id in doc.layout:
        if node_id not in doc.nodes:
            errors.append(GraphError("unknown_node", f"layout names node {node_id!r}, which does not exist", node=node_id))

    resolved = None
    if not errors:
        # What runs is recorded exactly: every node with the module version it ran as.
        doc = doc.model_copy(update={"nodes": upgraded_nodes})
        resolved = ResolvedGraph(doc=doc, nodes=nodes, graph=graph, parameters=values, upgrades=upgrades)
    return Validation(errors=errors, resolved=resolved, upgrades=upgrades)


def _web_service_name_errors(nodes: Mapping[str, ResolvedNode]) -> list[GraphError]:
    """A request names each Web Service Input's table, and a response each Web Service
    Output's: names must be given, and unique among each kind."""
    errors = []
    for module_id in (web_service.INPUT_ID, web_service.OUTPUT_ID):
        seen: dict[str, str] = {}
        for node_id, node in nodes.items():
            if node.module.spec.id != module_id or "name" not in node.params:
                continue
            name, what = node.params["name"], node.module.spec.name
            if not name or not name.strip():
                errors.append(GraphError(
                    "invalid_param", f"Name of a {what} is required: the request names its table by it",
                    node=node_id, param="name",
                ))
            elif name in seen:
                errors.append(GraphError(
                    "duplicate_name", f"Name {name!r} is taken by {what} {seen[name]!r}: each {what} has its own",
                    node=node_id, param="name", details={"other": seen[name]},
                ))
            else:
                seen[name] = node_id
    return errors


def _source(
    port: str, ref: str, node_id: str, expected: PortType, doc: PipelineDoc, modules: Mapping[str, type[Module]],
    errors: list[GraphError],
) -> tuple[str, str] | None:
    """The upstream (node, output port) `ref` names for input `port`, or None after adding
    the reason to `errors` (nothing for a node whose module is unknown: that is reported
    on its own node)."""
    source, _, source_port = ref.partition(".")
    if not source or not source_port:
        errors.append(GraphError(
            "bad_reference", f"input {port!r} must name an upstream output as NODE.PORT, got {ref!r}",
            node=node_id, port=port,
        ))
        return None
    if source not in doc.nodes:
        errors.append(GraphError(
            "unknown_node", f"input {port!r} refers to node {source!r}, which does not exist",
            node=node_id, port=port,
        ))
        return None
    source_cls = modules.get(source)
    if source_cls is None:
        return None
    out = source_cls.spec.outputs.get(source_port)
    if out is None:
        errors.append(GraphError(
            "unknown_port",
            f"input {port!r} refers to {ref!r}, but {source_cls.spec.id} has no output {source_port!r} "
            f"(outputs: {', '.join(source_cls.spec.outputs) or 'none'})",
            node=node_id, port=port,
        ))
        return None
    if not expected.accepts(out.type):
        errors.append(GraphError(
            "type_mismatch",
            f"input {port!r} takes a {expected.value}, but {ref} is a {out.type.value}",
            node=node_id, port=port, details={"expected": expected.value, "got": out.type.value},
        ))
        return None
    return source, source_port


def user_code_nodes(nodes: Mapping[str, ResolvedNode]) -> set[str]:
    """The nodes that run users' code: those whose module does, and those a model or transform
    from such a node reaches (Train and Score Model run a Python model's code)."""
    running = {node_id for node_id, node in nodes.items() if node.module.spec.runs_user_code}
    grew = True
    while grew:  # to a fixed point: a trained model carries the code on to Score Model
        grew = False
        for node_id, node in nodes.items():
            if node_id in running:
                continue
            spec = node.module.spec
            if any(
                source in running and spec.inputs[port].type in ESTIMATOR_PORT_TYPES
                for port, (source, _) in node.inputs.items()
            ):
                running.add(node_id)
                grew = True
    return running


def _mentions(value: Any, name: str) -> bool:
    return f"parameters.{name}" in str(value)


def _cycles(graph: nx.DiGraph) -> list[list[str]]:
    if nx.is_directed_acyclic_graph(graph):
        return []
    # One cycle per strongly connected component is enough to show the user where.
    found = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            found.append(list(nx.find_cycle(graph.subgraph(component)))[0:])
    return [[edge[0] for edge in cycle] for cycle in found]
