/**
 * The columns a node's column pickers offer: what reaches the input a param refers to,
 * known from schema propagation (the server validates the part of the graph upstream of
 * the node, which can be complete while the node itself is not), or else from the
 * outputs of the run shown.
 */
import type { Edge } from "@xyflow/react";
import { useEffect, useState } from "react";
import { api } from "../api";
import { ancestors, flowToDocument, type DocumentMeta, type ModuleFlowNode } from "../canvas/graph";
import { useEditor } from "../canvas/store";
import { useRunView } from "../runs/runStore";
import type { ColumnInfo, ModuleSpec, ParamSpec } from "../types";

/** The input port a columns param picks from: `left_keys` from `left`, otherwise the first table input. */
export function inputForParam(spec: ModuleSpec, param: ParamSpec): string | undefined {
  const tables = spec.inputs.filter((p) => p.type === "DataFrame");
  const prefixed = tables.find((p) => param.name.startsWith(`${p.name}_`));
  return (prefixed ?? tables.find((p) => p.name === "dataset") ?? tables[0])?.name;
}

const cache = new Map<string, Promise<Record<string, Record<string, ColumnInfo[] | null>>>>();

function upstreamDocument(meta: DocumentMeta, nodes: ModuleFlowNode[], edges: Edge[], nodeId: string) {
  const upstream = ancestors(nodeId, edges);
  return flowToDocument(
    meta,
    nodes.filter((n) => upstream.has(n.id)),
    edges.filter((e) => upstream.has(e.source) && upstream.has(e.target)),
  );
}

export interface UpstreamColumns {
  columns: ColumnInfo[] | null;
  /** Where the columns come from, or why they are unknown. */
  note: string;
}

export function useUpstreamColumns(pipelineId: number | null, nodeId: string, inputPort: string | undefined): UpstreamColumns {
  const edges = useEditor((s) => s.edges);
  const nodes = useEditor((s) => s.nodes);
  const meta = useEditor((s) => s.meta);
  const run = useRunView((s) => s.run);
  const edge = edges.find((e) => e.target === nodeId && e.targetHandle === inputPort);
  const [inferred, setInferred] = useState<ColumnInfo[] | null | undefined>(undefined);

  // Positions and selection don't change columns: key the request on the graph upstream only.
  const document = edge ? upstreamDocument(meta, nodes, edges, nodeId) : null;
  if (document) delete document.layout;
  const key = document ? JSON.stringify(document) : "";

  useEffect(() => {
    if (!document || pipelineId === null || !edge) {
      setInferred(undefined);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      let request = cache.get(key);
      if (!request) {
        // One entry per upstream graph seen; a long session starts afresh now and then.
        if (cache.size > 100) cache.clear();
        request = api.pipelines.validate(pipelineId, { document }).then((r) => r.schemas ?? {});
        cache.set(key, request);
        request.catch(() => cache.delete(key));
      }
      request.then(
        (schemas) => !cancelled && setInferred(schemas[edge.source]?.[edge.sourceHandle ?? ""] ?? null),
        () => !cancelled && setInferred(null),
      );
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
    // `document` is described by `key`.
  }, [key, pipelineId, edge?.source, edge?.sourceHandle]);

  if (!edge) return { columns: null, note: `Connect the ${inputPort ?? "table"} input to pick its columns.` };
  if (inferred) return { columns: inferred, note: `Columns of ${edge.source}.${edge.sourceHandle}.` };
  const observed = run?.outputs[edge.source]?.[edge.sourceHandle ?? ""]?.schema;
  if (observed) return { columns: observed, note: `Columns of ${edge.source}.${edge.sourceHandle} in the last run.` };
  if (inferred === undefined) return { columns: null, note: "Finding the columns…" };
  return { columns: null, note: "The columns are known once what is upstream is complete, or after a run. Type names meanwhile." };
}
