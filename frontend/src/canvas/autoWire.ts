/**
 * A module placed from an output port (dragged out into empty space) gets its other
 * required inputs wired when there is no doubt which output each takes: e.g. Score Model
 * dragged out of Train Model's model gets Split Data's unused second table.
 *
 * The rule, for each required input still free, in the module's order:
 * - candidates are the outputs of modules already on the canvas that feed nothing yet,
 *   of the input's exact type, whose wire the canvas would accept (no cycle), and not a
 *   Web Service Input's (a request's table, beside the data of a run);
 * - those of modules related to the one the drag came from (it, its ancestors, and the
 *   modules that share an ancestor with it: its branch of the pipeline) come first; only
 *   when none is related do the others count;
 * - exactly one candidate is wired; two or more (or none) leave the input free, for the
 *   user to choose.
 * Optional inputs stay free: wiring one changes what the module does.
 */
import type { Edge } from "@xyflow/react";
import { ancestors, type ModuleFlowNode } from "./graph";
import { connectionProblem, type SpecsById } from "./ports";

export interface Wire {
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

/** The nodes on `from`'s branch: it, its ancestors, and the nodes downstream of those. */
function branch(from: string, nodes: ModuleFlowNode[], edges: Edge[]): Set<string> {
  const roots = new Set([from, ...ancestors(from, edges)]);
  return new Set(nodes.filter((n) => roots.has(n.id) || [...ancestors(n.id, edges)].some((a) => roots.has(a))).map((n) => n.id));
}

/** The wires to add for `target`, just placed from `from` (already wired to it). */
export function autoWires(target: string, from: string, nodes: ModuleFlowNode[], edges: Edge[], specs: SpecsById): Wire[] {
  const node = nodes.find((n) => n.id === target);
  const inputs = (node && specs[node.data.module]?.inputs) || [];
  const related = branch(from, nodes, edges);
  const wires: Wire[] = [];
  let current = edges;
  for (const input of inputs) {
    if (input.optional || current.some((e) => e.target === target && e.targetHandle === input.name)) continue;
    const candidates: Wire[] = nodes.flatMap((n) =>
      // A Web Service Input's table is a request's, never what an input takes in a run.
      n.id === target || specs[n.data.module]?.request_input
        ? []
        : (specs[n.data.module]?.outputs ?? [])
            .filter((o) => o.type === input.type && !current.some((e) => e.source === n.id && e.sourceHandle === o.name))
            .map((o) => ({ source: n.id, sourceHandle: o.name, target, targetHandle: input.name }))
            .filter((wire) => connectionProblem(wire, nodes, current, specs) === null),
    );
    const near = candidates.filter((c) => related.has(c.source));
    const chosen = near.length ? near : candidates;
    if (chosen.length !== 1) continue;
    wires.push(chosen[0]);
    current = [...current, { id: `${target}.${input.name}`, ...chosen[0] }];
  }
  return wires;
}
