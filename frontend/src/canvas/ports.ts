/**
 * Which connections the canvas accepts, and why it refuses the others: the same rules as
 * the server's validation (exact port types, one edge per input, or two when one comes
 * from a Web Service Input, no cycles), checked while the user drags so the refusal can
 * say why.
 */
import type { Connection, Edge } from "@xyflow/react";
import type { ModuleSpec, PortSpec } from "../types";
import type { ModuleFlowNode } from "./graph";

export type SpecsById = Record<string, ModuleSpec>;

function port(ports: PortSpec[] | undefined, name: string | null | undefined): PortSpec | undefined {
  return ports?.find((p) => p.name === name);
}

function reaches(from: string, to: string, edges: Pick<Edge, "source" | "target">[]): boolean {
  const stack = [from];
  const seen = new Set<string>();
  while (stack.length) {
    const current = stack.pop()!;
    if (current === to) return true;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const edge of edges) if (edge.source === current) stack.push(edge.target);
  }
  return false;
}

/** Why `connection` cannot be made (a sentence for the user), or null when it can. */
export function connectionProblem(
  connection: Connection | Edge,
  nodes: ModuleFlowNode[],
  edges: Edge[],
  specs: SpecsById,
): string | null {
  const source = nodes.find((n) => n.id === connection.source);
  const target = nodes.find((n) => n.id === connection.target);
  if (!source || !target) return "Connect an output port to an input port.";
  if (source.id === target.id) return "A module cannot feed itself.";
  const output = port(specs[source.data.module]?.outputs, connection.sourceHandle);
  const input = port(specs[target.data.module]?.inputs, connection.targetHandle);
  if (!output || !input) return "Connect an output port (bottom) to an input port (top).";
  if (output.type !== input.type) {
    return `"${input.name}" of ${target.id} takes a ${input.type}, but "${output.name}" of ${source.id} is a ${output.type}.`;
  }
  const taken = besideOf(connection.source!, target.id, input.name, nodes, edges, specs).taken;
  if (taken) {
    return isRequestInput(taken.source, nodes, specs)
      ? `"${input.name}" of ${target.id} already takes the Web Service Input ${taken.source}: an input takes one. Delete that one first.`
      : `"${input.name}" of ${target.id} already takes ${taken.source}.${taken.sourceHandle}: an input takes one connection ` +
          "(and a Web Service Input beside it). Delete that one first.";
  }
  if (reaches(target.id, source.id, edges)) return "This connection would make a cycle: a pipeline runs in one direction.";
  return null;
}

/** Whether node `id` is a Web Service Input (it feeds an input only when the pipeline serves requests). */
export function isRequestInput(id: string, nodes: ModuleFlowNode[], specs: SpecsById): boolean {
  const node = nodes.find((n) => n.id === id);
  return node !== undefined && specs[node.data.module]?.request_input === true;
}

/**
 * A new edge from `source` into `target`'s `port`, against the edges the port has: the one
 * it would clash with (`taken`), and the one it may stay beside (`kept`): an input takes
 * one edge, and beside it one from a Web Service Input.
 */
export function besideOf(
  source: string,
  target: string,
  port: string,
  nodes: ModuleFlowNode[],
  edges: Edge[],
  specs: SpecsById,
): { taken?: Edge; kept?: Edge } {
  const there = edges.filter((e) => e.target === target && e.targetHandle === port);
  const request = isRequestInput(source, nodes, specs);
  const taken = there.find((e) => isRequestInput(e.source, nodes, specs) === request);
  const kept = there.find((e) => e !== taken);
  return { taken, kept };
}

/** The modules with an input that takes `type` (the first such input of each), by name. */
export function modulesAccepting(type: string, specs: SpecsById): { spec: ModuleSpec; input: string }[] {
  return Object.values(specs)
    .flatMap((spec) => {
      const input = spec.inputs.find((p) => p.type === type);
      return input ? [{ spec, input: input.name }] : [];
    })
    .sort((a, b) => a.spec.name.localeCompare(b.spec.name));
}
