/** How the run panel lists a run's steps: in graph order, and their states counted in words. */
import { documentToFlow } from "../canvas/graph";
import type { PipelineDocument, StepStatus } from "../types";
import { STATUS_LABEL } from "./runState";

/**
 * The nodes in graph order (each after everything it reads from); among nodes that could
 * come next, the one higher on the canvas first, then the one further left: the order a
 * person reads the graph in. Steps the file does not hold (none, unless it changed) follow
 * in the order given.
 */
export function graphOrder(doc: PipelineDocument | null | undefined, steps: string[]): string[] {
  if (!doc) return steps;
  const { nodes, edges } = documentToFlow(doc);
  const position = new Map(nodes.map((n) => [n.id, n.position]));
  const waitingOn = new Map(nodes.map((n) => [n.id, 0]));
  const downstream = new Map<string, string[]>();
  for (const edge of edges) {
    if (!waitingOn.has(edge.source) || !waitingOn.has(edge.target)) continue;
    waitingOn.set(edge.target, waitingOn.get(edge.target)! + 1);
    downstream.set(edge.source, [...(downstream.get(edge.source) ?? []), edge.target]);
  }
  const readingOrder = (a: string, b: string) => {
    const p = position.get(a)!;
    const q = position.get(b)!;
    return p.y - q.y || p.x - q.x || a.localeCompare(b);
  };
  const ready = nodes.map((n) => n.id).filter((id) => waitingOn.get(id) === 0);
  const ordered: string[] = [];
  while (ready.length) {
    ready.sort(readingOrder);
    const next = ready.shift()!;
    ordered.push(next);
    for (const target of downstream.get(next) ?? []) {
      const left = waitingOn.get(target)! - 1;
      waitingOn.set(target, left);
      if (left === 0) ready.push(target);
    }
  }
  const wanted = new Set(steps);
  const placed = ordered.filter((id) => wanted.has(id));
  const known = new Set(placed);
  return [...placed, ...steps.filter((id) => !known.has(id))];
}

/** "1 step completed · 3 steps cancelled": how many steps are in each state, in words, the
 * states in the order a step goes through them. */
export function stepCounts(statuses: StepStatus[]): string {
  return (Object.keys(STATUS_LABEL) as StepStatus[])
    .map((status) => [status, statuses.filter((s) => s === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${n === 1 ? "step" : "steps"} ${status}`)
    .join(" · ");
}
