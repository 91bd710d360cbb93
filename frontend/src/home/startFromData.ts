/** "Start from data" on Home: a new pipeline that holds one node reading a dataset. */
import { flowToDocument, newNodeId } from "../canvas/graph";
import { startingParams } from "../canvas/store";
import type { PaletteDrop } from "../palette/Palette";
import type { ModuleSpec, PipelineDocument } from "../types";

/** The pipeline's document: named after the dataset (the server numbers a name the user
 * already has), with the node the palette would drop for it, where the canvas opens. */
export function documentFromData(name: string, drop: PaletteDrop, spec: ModuleSpec | undefined): PipelineDocument {
  const node = {
    id: newNodeId(drop.module, []),
    type: "module" as const,
    position: { x: 0, y: 0 },
    data: { module: drop.module, params: { ...startingParams(spec), ...drop.params } },
  };
  return flowToDocument({ format: "atelier/pipeline@1", name }, [node], []);
}
