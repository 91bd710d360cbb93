import { describe, expect, it } from "vitest";
import type { PipelineDocument } from "../types";
import { graphOrder, stepCounts } from "./stepOrder";

const node = (module: string, inputs: Record<string, string> = {}) => ({ module, inputs });

// A diamond drawn with the right branch higher than the left one, and the file listing the
// nodes backwards: neither the file's order nor the ids' order is the graph's.
const doc = {
  format: "atelier/pipeline@1",
  name: "diamond",
  nodes: {
    evaluate: node("evaluate_model", { left: "left.dataset", right: "right.dataset" }),
    left: node("clean_missing_data", { dataset: "data.dataset" }),
    right: node("normalize_data", { dataset: "data.dataset" }),
    data: node("import_data"),
    lonely: node("enter_data_manually"),
  },
  layout: {
    data: { x: 200, y: 0 },
    lonely: { x: 600, y: 0 },
    left: { x: 0, y: 200 },
    right: { x: 400, y: 150 },
    evaluate: { x: 200, y: 100 }, // drawn above its inputs: the graph's order still wins
  },
} as unknown as PipelineDocument;

describe("graphOrder", () => {
  it("puts each step after its inputs, and ties in reading order (top, then left)", () => {
    expect(graphOrder(doc, ["evaluate", "left", "right", "data", "lonely"])).toEqual(["data", "lonely", "right", "left", "evaluate"]);
  });

  it("keeps only the steps asked for, and those the file lacks at the end", () => {
    expect(graphOrder(doc, ["gone", "evaluate", "data"])).toEqual(["data", "evaluate", "gone"]);
  });

  it("keeps the given order without a file", () => {
    expect(graphOrder(null, ["b", "a"])).toEqual(["b", "a"]);
  });
});

describe("stepCounts", () => {
  it("counts the steps of each state in words", () => {
    expect(stepCounts(["cancelled", "completed", "cancelled", "cancelled"])).toBe("1 step completed · 3 steps cancelled");
    expect(stepCounts([])).toBe("");
  });
});
