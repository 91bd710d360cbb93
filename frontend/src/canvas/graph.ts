/**
 * The pipeline file <-> the canvas's nodes and edges. A node's id is its id in the file; an
 * edge's handles are port names, and its id is its target input (`node.port`), which is
 * what makes "one edge per input" hold by construction. The one exception, an input fed
 * both by its data in a run and by a Web Service Input (`[a.port, b.port]` in the file),
 * gives its second edge the id `node.port~source`.
 */
import type { Edge, Node } from "@xyflow/react";
import type { PipelineDocument, PipelineNode } from "../types";

export interface ModuleNodeData extends Record<string, unknown> {
  module: string;
  version?: number;
  params: Record<string, unknown>;
  comment?: string;
  compute?: string;
  force_rerun?: boolean;
  timeout?: number;
}

export type ModuleFlowNode = Node<ModuleNodeData, "module">;

/** The fields a file sets: a null (allowed in files) means the same as leaving it out. */
function present<T extends object>(fields: T): { [K in keyof T]?: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value != null)) as { [K in keyof T]?: NonNullable<T[K]> };
}

/** Everything of a pipeline file except its nodes and layout. */
export type DocumentMeta = Omit<PipelineDocument, "nodes" | "layout">;

export function edgeId(target: string, targetPort: string): string {
  return `${target}.${targetPort}`;
}

/** `beside`: the input's second edge (see above). */
export function makeEdge(source: string, sourcePort: string, target: string, targetPort: string, beside = false): Edge {
  const id = beside ? `${edgeId(target, targetPort)}~${source}` : edgeId(target, targetPort);
  return { id, source, sourceHandle: sourcePort, target, targetHandle: targetPort };
}

/** Whether `edge` is its input's second edge, beside the first. */
export function isBeside(edge: Edge): boolean {
  return edge.id !== edgeId(edge.target, edge.targetHandle ?? "");
}

/** `upstream.port` -> [upstream, port]; node ids never hold a dot. */
export function parseRef(ref: string): [string, string] | null {
  const dot = ref.indexOf(".");
  return dot > 0 ? [ref.slice(0, dot), ref.slice(dot + 1)] : null;
}

export function documentToFlow(doc: PipelineDocument): { meta: DocumentMeta; nodes: ModuleFlowNode[]; edges: Edge[] } {
  const { nodes: fileNodes, layout, ...meta } = doc;
  const nodes: ModuleFlowNode[] = [];
  const edges: Edge[] = [];
  Object.entries(fileNodes ?? {}).forEach(([id, node], index) => {
    const { inputs, params, module, version, ...rest } = node;
    // Nodes without a saved position go on a grid; auto-layout can tidy them.
    const position = layout?.[id] ?? { x: 40 + (index % 4) * 260, y: 40 + Math.floor(index / 4) * 140 };
    nodes.push({ id, type: "module", position: { ...position }, data: { module, params: { ...(params ?? {}) }, ...present({ version, ...rest }) } });
    for (const [port, given] of Object.entries(inputs ?? {})) {
      (Array.isArray(given) ? given : [given]).forEach((ref, n) => {
        const parsed = parseRef(ref);
        if (parsed) edges.push(makeEdge(parsed[0], parsed[1], id, port, n > 0));
      });
    }
  });
  return { meta, nodes, edges };
}

/** Whether the file places every node (a file written by hand, or by a script, often has
 * no layout: the canvas lays it out when it opens). */
export function isLaidOut(doc: PipelineDocument): boolean {
  return Object.keys(doc.nodes ?? {}).every((id) => doc.layout?.[id] !== undefined);
}

export function flowToDocument(meta: DocumentMeta, nodes: ModuleFlowNode[], edges: Edge[]): PipelineDocument {
  const fileNodes: Record<string, PipelineNode> = {};
  const layout: Record<string, { x: number; y: number }> = {};
  for (const node of nodes) {
    const { module, params, version, comment, compute, force_rerun, timeout } = node.data;
    const out: PipelineNode = { module };
    if (version !== undefined) out.version = version;
    const refs: Record<string, string[]> = {};
    // The first edge of an input first, so that a file reads the same after a round trip.
    for (const edge of [...edges].sort((a, b) => Number(isBeside(a)) - Number(isBeside(b)))) {
      if (edge.target === node.id && edge.targetHandle) (refs[edge.targetHandle] ??= []).push(`${edge.source}.${edge.sourceHandle}`);
    }
    const inputs = Object.fromEntries(Object.entries(refs).map(([port, list]) => [port, list.length === 1 ? list[0] : list]));
    if (Object.keys(inputs).length) out.inputs = inputs;
    if (Object.keys(params).length) out.params = params;
    if (comment) out.comment = comment;
    if (compute) out.compute = compute;
    if (force_rerun) out.force_rerun = true;
    if (timeout !== undefined) out.timeout = timeout;
    fileNodes[node.id] = out;
    layout[node.id] = { x: Math.round(node.position.x), y: Math.round(node.position.y) };
  }
  return { ...meta, nodes: fileNodes, layout } as PipelineDocument;
}

/** A node id for a new instance of `moduleId`, short and unused: `split_data`, `split_data_2`… */
export function newNodeId(moduleId: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  // Plugin ids are namespaced (`acme.churn`); a node id may not hold a dot.
  const base = moduleId.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^[^A-Za-z_]/, "_").slice(0, 90);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
}

/** The nodes upstream of `nodeId` (not itself), following edges backwards. */
export function ancestors(nodeId: string, edges: Edge[]): Set<string> {
  const seen = new Set<string>();
  const stack = [nodeId];
  while (stack.length) {
    const current = stack.pop()!;
    for (const edge of edges) {
      if (edge.target === current && !seen.has(edge.source)) {
        seen.add(edge.source);
        stack.push(edge.source);
      }
    }
  }
  return seen;
}
