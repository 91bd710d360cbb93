/** Auto-layout with ELK's layered algorithm: data flows top to bottom, ports in order. */
import type { Edge, XYPosition } from "@xyflow/react";
import type { ModuleFlowNode } from "./graph";

const DEFAULT_SIZE = { width: 220, height: 80 };

export async function autoLayout(nodes: ModuleFlowNode[], edges: Edge[]): Promise<Record<string, XYPosition>> {
  // Loaded on first use: the layout engine is large and most sessions never ask for it.
  const { default: ELK } = await import("elkjs/lib/elk.bundled.js");
  const elk = new ELK();
  const graph = await elk.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.layered.spacing.nodeNodeBetweenLayers": "60",
      "elk.spacing.nodeNode": "50",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
    },
    children: nodes.map((n) => ({
      id: n.id,
      width: n.measured?.width ?? DEFAULT_SIZE.width,
      height: n.measured?.height ?? DEFAULT_SIZE.height,
    })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const positions: Record<string, XYPosition> = {};
  for (const child of graph.children ?? []) positions[child.id] = { x: (child.x ?? 0) + 40, y: (child.y ?? 0) + 40 };
  return positions;
}
