/**
 * A module dropped onto a wire goes into it: the wire's source feeds the module's first
 * input that takes it, and the module's first output that the wire's input takes feeds
 * that input instead. One drag instead of a drag, a delete and two wirings.
 */
import type { Edge } from "@xyflow/react";
import { isBeside, type ModuleFlowNode } from "./graph";
import { connectionProblem, type SpecsById } from "./ports";

export interface Insertion {
  input: string;
  output: string;
}

/** How module `id` (just placed, unwired) goes into `edge`; null when it cannot. */
export function insertion(id: string, edge: Edge, nodes: ModuleFlowNode[], edges: Edge[], specs: SpecsById): Insertion | null {
  const node = nodes.find((n) => n.id === id);
  const source = nodes.find((n) => n.id === edge.source);
  const spec = node && specs[node.data.module];
  // A Web Service Input's wire carries a request's table beside the run's data: nothing goes between.
  if (!spec || !source || isBeside(edge) || specs[source.data.module]?.request_input) return null;
  const rest = edges.filter((e) => e !== edge);
  const inputs = [...spec.inputs].sort((a, b) => Number(!!a.optional) - Number(!!b.optional));
  const input = inputs.find(
    (p) => connectionProblem({ source: edge.source, sourceHandle: edge.sourceHandle ?? "", target: id, targetHandle: p.name }, nodes, rest, specs) === null,
  );
  if (!input) return null;
  const fed = [...rest, { id: `${id}.${input.name}`, source: edge.source, sourceHandle: edge.sourceHandle, target: id, targetHandle: input.name }];
  const output = spec.outputs.find(
    (p) => connectionProblem({ source: id, sourceHandle: p.name, target: edge.target, targetHandle: edge.targetHandle ?? "" }, nodes, fed, specs) === null,
  );
  return output ? { input: input.name, output: output.name } : null;
}
