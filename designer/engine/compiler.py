"""Compiling a validated graph into an execution plan (steps in topological order)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping

import networkx as nx

from .cache_keys import local_environment_id, step_signature
from .validation import ResolvedGraph, user_code_nodes


@dataclass(frozen=True)
class PlanStep:
    node: str
    module: str
    version: int
    params: dict[str, Any]
    inputs: dict[str, tuple[str, str]]  # port -> (upstream node, port)
    outputs: dict[str, str]  # port -> port type
    compute: str
    force_rerun: bool
    deterministic: bool
    timeout: float | None
    signature: str
    upstream: tuple[str, ...] = field(default=())
    runs_user_code: bool = False
    fetches: dict[str, str] = field(default_factory=dict)  # name -> URL the host downloads first
    bound: dict[str, str] = field(default_factory=dict)  # port -> digest of a stored artifact (Module.bound_inputs)


@dataclass(frozen=True)
class Plan:
    pipeline: str
    steps: tuple[PlanStep, ...]
    continue_on_step_failure: bool
    force_rerun: bool
    parameters: dict[str, Any]

    def step(self, node: str) -> PlanStep:
        return next(s for s in self.steps if s.node == node)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Plan":
        steps = tuple(
            PlanStep(**{**s, "inputs": {p: tuple(r) for p, r in s["inputs"].items()}, "upstream": tuple(s["upstream"])})
            for s in data["steps"]
        )
        return cls(**{**data, "steps": steps})


EnvironmentOf = Callable[[str], str]


def compile_plan(
    resolved: ResolvedGraph,
    *,
    resources: Mapping[str, Any] | None = None,
    environment_of: EnvironmentOf | None = None,
) -> Plan:
    """`environment_of(compute)` names the environment a compute target runs steps in. The plan
    is a pipeline run's: Web Service Inputs are not steps and their edges are inactive."""
    named = environment_of or (lambda _compute: local_environment_id())
    environments: dict[str, str] = {}

    def env(compute: str) -> str:  # asked once per compute target, not once per node
        if compute not in environments:
            environments[compute] = named(compute)
        return environments[compute]

    steps = []
    running_code = user_code_nodes(resolved.nodes)
    for node_id in nx.lexicographical_topological_sort(resolved.graph):
        node = resolved.nodes[node_id]
        spec = node.module.spec
        if spec.request_input:
            continue  # never a step: a request's table is bound where it feeds (engine/serving.py)
        fingerprint = node.module.fingerprint(node.params, resources or {})
        steps.append(PlanStep(
            node=node_id,
            module=spec.id,
            version=spec.version,
            params=dict(node.params),
            inputs=dict(node.inputs),
            outputs={name: out.type.value for name, out in spec.outputs.items()},
            compute=node.compute,
            force_rerun=node.force_rerun,
            deterministic=spec.deterministic,
            timeout=node.timeout,
            signature=step_signature(
                module_id=spec.id, version=spec.version, params=node.params,
                environment=env(node.compute), fingerprint=fingerprint, pack=node.module.pack,
            ),
            upstream=tuple(sorted(resolved.graph.predecessors(node_id))),
            runs_user_code=node_id in running_code,
            fetches=dict(node.module.fetches(node.params)),
            bound={port: digest for port, digest in node.module.bound_inputs(node.params).items() if port not in node.inputs},
        ))
    settings = resolved.doc.settings
    return Plan(
        pipeline=resolved.doc.name,
        steps=tuple(steps),
        continue_on_step_failure=settings.continue_on_step_failure,
        force_rerun=settings.force_rerun,
        parameters=resolved.parameters,
    )
