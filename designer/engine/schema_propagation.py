"""Schema propagation: the columns of every table output, known before anything runs.

Modules that can tell their output columns from their inputs' (select, edit metadata,
split, join…) implement `Module.infer_schema`; walking the graph in order gives column
pickers their choices and lets validation name a missing column before a run starts.
"""
from __future__ import annotations

from typing import Mapping

import networkx as nx

from modules.sdk import ModuleError
from modules.sdk.schema import Schema

from .errors import GraphError
from .validation import ResolvedGraph

NodeSchemas = dict[str, dict[str, Schema | None]]


def propagate_schemas(
    resolved: ResolvedGraph, *, known: Mapping[tuple[str, str], Schema] | None = None
) -> tuple[NodeSchemas, list[GraphError]]:
    """Schemas per node and output port (None where unknown), and the column errors found.

    `known` holds schemas observed on earlier runs' outputs, used where inference can't tell.
    """
    known = known or {}
    schemas: NodeSchemas = {}
    errors: list[GraphError] = []
    for node_id in nx.topological_sort(resolved.graph):
        node = resolved.nodes[node_id]
        inputs = {port: schemas[src].get(src_port) for port, (src, src_port) in node.inputs.items()}
        try:
            inferred = node.module.infer_schema(node.params, inputs)
        except ModuleError as exc:
            errors.append(GraphError(exc.code, exc.message, node=node_id, param=exc.param, details=exc.details))
            inferred = {}
        except Exception:  # noqa: BLE001 (a module's inference is a convenience, never fatal)
            inferred = {}
        schemas[node_id] = {
            port: inferred.get(port) or known.get((node_id, port)) for port in node.module.spec.outputs
        }
    # A Web Service Input's table has the columns of the data wired beside it: the request
    # takes that data's place (its edges are not in the graph, so this comes after the walk).
    for node in resolved.nodes.values():
        for port, (request, request_port) in node.requests.items():
            if port in node.inputs and schemas[request].get(request_port) is None:
                source, source_port = node.inputs[port]
                schemas[request][request_port] = schemas[source].get(source_port)
    return schemas, errors
