"""Serving requests: a pipeline's scoring part run on a request's tables.

A request names a table for each Web Service Input. The serving plan binds each one (as a
stored artifact) to the inputs its Web Service Input feeds, in place of the data they take
in a pipeline run, and holds only the steps that lead to a Web Service Output. Its steps are
the pipeline run's, with the same signatures, so whatever does not depend on the request
(import, split, training) is reused from the cache the last run filled; only the steps the
request reaches run. The response holds each Web Service Output's table by its name.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Collection, Mapping

import networkx as nx
import pandas as pd

from modules.builtin.web_service import OUTPUT_ID
from modules.sdk.artifacts import read_table, write_table
from modules.sdk.table_limits import TableLimits

from .artifact_store import ArtifactStore
from .compiler import EnvironmentOf, Plan, compile_plan
from .errors import GraphError, PipelineInvalid
from .events import SUCCEEDED
from .executor import Executor, RunResult, step_inputs
from .validation import ResolvedGraph


class ServingFailed(Exception):
    """A step of a served request failed; `run` says which and why."""

    def __init__(self, run: RunResult) -> None:
        failed = {node: step.error for node, step in run.steps.items() if step.error}
        super().__init__("; ".join(f"{node}: {(error or {}).get('message')}" for node, error in failed.items()))
        self.run = run
        self.errors = failed


def request_inputs(resolved: ResolvedGraph) -> dict[str, str]:
    """The pipeline's Web Service Inputs: the name a request gives its table -> node."""
    return {node.params["name"]: node_id for node_id, node in resolved.nodes.items() if node.module.spec.request_input}


def response_outputs(resolved: ResolvedGraph) -> dict[str, str]:
    """The pipeline's Web Service Outputs: the name of the response's table -> node."""
    return {node.params["name"]: node_id for node_id, node in resolved.nodes.items() if node.module.spec.id == OUTPUT_ID}


def request_errors(resolved: ResolvedGraph, names: Collection[str]) -> list[GraphError]:
    """Why a request with tables `names` cannot be served by the pipeline (none: it can)."""
    expected, outputs = request_inputs(resolved), response_outputs(resolved)
    errors = []
    if not expected:
        errors.append(GraphError("no_request_input", "the pipeline has no Web Service Input: a request has no way in"))
    if not outputs:
        errors.append(GraphError("no_response_output", "the pipeline has no Web Service Output: a request gets nothing back"))
    for name in sorted(set(names) - set(expected)):
        errors.append(GraphError(
            "unknown_request_input",
            f"the request's table {name!r} is not the name of a Web Service Input "
            f"(the pipeline's: {', '.join(sorted(expected)) or 'none'})",
            details={"name": name},
        ))
    for name, node_id in sorted(expected.items()):
        if name not in names:
            errors.append(GraphError(
                "missing_request_input", f"the request has no table {name!r} for Web Service Input {node_id!r}",
                node=node_id, details={"name": name},
            ))
    return errors


def serving_plan(
    resolved: ResolvedGraph,
    tables: Mapping[str, str],
    *,
    resources: Mapping[str, Any] | None = None,
    environment_of: EnvironmentOf | None = None,
) -> Plan:
    """The plan serving a request whose tables are stored artifacts (`tables`: name ->
    digest); raises PipelineInvalid when the names do not fit the pipeline's."""
    errors = request_errors(resolved, tables.keys())
    if errors:
        raise PipelineInvalid(errors)
    digest_of = {node_id: tables[name] for name, node_id in request_inputs(resolved).items()}
    graph: nx.DiGraph[str] = nx.DiGraph()
    nodes = {}
    for node_id, node in resolved.nodes.items():
        if node.module.spec.request_input:
            continue
        # An input a request feeds takes the request's table instead of its run's data.
        inputs = {port: source for port, source in node.inputs.items() if port not in node.requests}
        nodes[node_id] = dataclasses.replace(node, inputs=inputs)
        graph.add_node(node_id)
        graph.add_edges_from((source, node_id) for source, _ in inputs.values())
    needed = set(response_outputs(resolved).values())
    for node_id in list(needed):
        needed |= nx.ancestors(graph, node_id)
    served = ResolvedGraph(
        doc=resolved.doc, nodes={n: nodes[n] for n in needed}, graph=graph.subgraph(needed).copy(),
        parameters=resolved.parameters,
    )
    plan = compile_plan(served, resources=resources, environment_of=environment_of)
    steps = tuple(
        dataclasses.replace(step, bound={
            **step.bound, **{port: digest_of[request] for port, (request, _) in resolved.nodes[step.node].requests.items()},
        })
        for step in plan.steps
    )
    return dataclasses.replace(plan, steps=steps)


def store_table(store: ArtifactStore, table: pd.DataFrame, limits: TableLimits = TableLimits()) -> str:
    """Put a request's table into the store as a table artifact; its digest."""
    folder = store.new_step_dir("request", "table")
    write_table(table, folder, limits)
    return store.put_folder(folder)


def serve(
    resolved: ResolvedGraph,
    tables: Mapping[str, pd.DataFrame],
    *,
    executor: Executor,
    resources: Mapping[str, Any] | None = None,
    environment_of: EnvironmentOf | None = None,
    limits: TableLimits = TableLimits(),
) -> dict[str, pd.DataFrame]:
    """Run the pipeline's scoring part on a request (its tables by Web Service Input name);
    each Web Service Output's table by its name. Raises PipelineInvalid when the request does
    not fit the pipeline, ServingFailed when a step fails."""
    errors = request_errors(resolved, tables.keys())
    if errors:
        raise PipelineInvalid(errors)
    store = executor.store
    digests = {name: store_table(store, table, limits) for name, table in tables.items()}
    plan = serving_plan(resolved, digests, resources=resources, environment_of=environment_of)
    run = executor.run(plan)
    if not all(step.status in SUCCEEDED for step in run.steps.values()):
        raise ServingFailed(run)
    outputs = {node: step.outputs for node, step in run.steps.items()}
    return {
        name: read_table(store.path(step_inputs(plan.step(node_id), outputs)["dataset"]), limits)
        for name, node_id in response_outputs(resolved).items()
    }
