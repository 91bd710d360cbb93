import { describe, expect, it } from "vitest";
import type { PipelineDocument } from "../types";
import { ancestors, documentToFlow, flowToDocument, isLaidOut, newNodeId } from "./graph";

const doc: PipelineDocument = {
  format: "atelier/pipeline@1",
  name: "cars",
  settings: { default_compute: "local" },
  parameters: { train_fraction: { type: "float", default: 0.7 } },
  nodes: {
    cars: { module: "import_data", params: { source: "sample" } },
    split: {
      module: "split_data",
      inputs: { dataset: "cars.dataset" },
      params: { fraction: "${{parameters.train_fraction}}" },
      comment: "70/30",
    },
    algorithm: { module: "linear_regression" },
    train: { module: "train_model", inputs: { model: "algorithm.model", dataset: "split.first" }, force_rerun: true },
  },
  layout: { cars: { x: 40, y: 40 }, split: { x: 40, y: 140 }, algorithm: { x: 300, y: 140 }, train: { x: 160, y: 240 } },
};

describe("pipeline file <-> canvas", () => {
  it("round-trips a document", () => {
    const { meta, nodes, edges } = documentToFlow(doc);
    expect(edges.map((e) => e.id).sort()).toEqual(["split.dataset", "train.dataset", "train.model"]);
    expect(flowToDocument(meta, nodes, edges)).toEqual(doc);
  });

  it("round-trips an input fed by its data and by a Web Service Input, as two edges", () => {
    const doc = {
      format: "atelier/pipeline@1" as const, name: "t",
      nodes: { a: { module: "import_data" }, r: { module: "web_service_input" }, s: { module: "select_columns", inputs: { dataset: ["a.dataset", "r.dataset"] } } },
      layout: { a: { x: 0, y: 0 }, r: { x: 200, y: 0 }, s: { x: 0, y: 100 } },
    };
    const { meta, nodes, edges } = documentToFlow(doc);
    expect(edges.map((e) => [e.id, e.source])).toEqual([["s.dataset", "a"], ["s.dataset~r", "r"]]);
    // Whatever order the canvas holds them in, the file lists the first edge first.
    expect(flowToDocument(meta, nodes, [...edges].reverse())).toEqual(doc);
  });

  it("places nodes without a layout on a grid", () => {
    const { nodes } = documentToFlow({ ...doc, layout: undefined });
    expect(new Set(nodes.map((n) => `${n.position.x},${n.position.y}`)).size).toBe(nodes.length);
  });

  it("tells a file that places every node from one that does not", () => {
    expect(isLaidOut(doc)).toBe(true);
    expect(isLaidOut({ ...doc, layout: undefined })).toBe(false);
    expect(isLaidOut({ ...doc, layout: { cars: { x: 0, y: 0 } } })).toBe(false);
    expect(isLaidOut({ ...doc, nodes: {}, layout: undefined })).toBe(true);
  });

  it("names new nodes after their module, never twice", () => {
    expect(newNodeId("split_data", [])).toBe("split_data");
    expect(newNodeId("split_data", ["split_data", "split_data_2"])).toBe("split_data_3");
    expect(newNodeId("acme.churn", [])).toBe("acme_churn");
  });

  it("finds what is upstream of a node", () => {
    const { edges } = documentToFlow(doc);
    expect([...ancestors("train", edges)].sort()).toEqual(["algorithm", "cars", "split"]);
    expect(ancestors("cars", edges).size).toBe(0);
  });
});
