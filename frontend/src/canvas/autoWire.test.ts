import type { Edge } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import { autoWires } from "./autoWire";
import { documentToFlow, makeEdge } from "./graph";
import { spec } from "./testSpecs";

const specs = {
  import_data: spec("import_data", [], [["dataset", "DataFrame"]]),
  split_data: spec("split_data", [["dataset", "DataFrame"]], [["first", "DataFrame"], ["second", "DataFrame"]]),
  linear_regression: spec("linear_regression", [], [["model", "UntrainedModel"]]),
  train_model: spec("train_model", [["model", "UntrainedModel"], ["dataset", "DataFrame"]], [["model", "TrainedModel"]]),
  score_model: spec("score_model", [["model", "TrainedModel"], ["dataset", "DataFrame"]], [["dataset", "DataFrame"]]),
  export_data: spec("export_data", [["dataset", "DataFrame"]], []),
  web_service_input: spec("web_service_input", [], [["dataset", "DataFrame"]], true),
  evaluate_model: spec("evaluate_model", [["scored", "DataFrame"], ["scored_compare", "DataFrame", true]], [["results", "DataFrame"]]),
};

/** The tutorial up to Train Model, and `extra` nodes. */
function graph(extra: Record<string, string> = {}, wires: [string, string, string, string][] = []) {
  const modules: Record<string, string> = {
    cars: "import_data", split: "split_data", algo: "linear_regression", train: "train_model", ...extra,
  };
  const { nodes } = documentToFlow({
    format: "atelier/pipeline@1",
    name: "t",
    nodes: Object.fromEntries(Object.entries(modules).map(([id, module]) => [id, { module }])),
  });
  const edges: Edge[] = [
    makeEdge("cars", "dataset", "split", "dataset"),
    makeEdge("split", "first", "train", "dataset"),
    makeEdge("algo", "model", "train", "model"),
    ...wires.map(([s, sp, t, tp]) => makeEdge(s, sp, t, tp)),
  ];
  return { nodes, edges };
}

describe("wiring a module placed from an output port", () => {
  it("gives Score Model dragged out of Train Model the split's unused table", () => {
    const { nodes, edges } = graph({ score: "score_model" }, [["train", "model", "score", "model"]]);
    expect(autoWires("score", "train", nodes, edges, specs)).toEqual([
      { source: "split", sourceHandle: "second", target: "score", targetHandle: "dataset" },
    ]);
  });

  it("prefers the branch the drag came from, and leaves an input free when two outputs could fill it", () => {
    const { nodes, edges } = graph({ score: "score_model", other: "import_data", split3: "split_data" }, [
      ["train", "model", "score", "model"], ["other", "dataset", "split3", "dataset"],
    ]);
    // `split.second` is on the branch; `split3`'s tables are not: the branch wins.
    expect(autoWires("score", "train", nodes, edges, specs)).toEqual([
      { source: "split", sourceHandle: "second", target: "score", targetHandle: "dataset" },
    ]);
    const { nodes: twice, edges: both } = graph({ score: "score_model", split2: "split_data" }, [
      ["train", "model", "score", "model"], ["cars", "dataset", "split2", "dataset"],
    ]);
    // Three unused tables on the branch (split.second, split2.first, split2.second): the user chooses.
    expect(autoWires("score", "train", twice, both, specs)).toEqual([]);
  });

  it("takes an output off the branch only when none is on it, and only a sole one", () => {
    const { nodes, edges } = graph({ score: "score_model", sink: "export_data", lone: "import_data" }, [
      ["train", "model", "score", "model"], ["split", "second", "sink", "dataset"],
    ]);
    expect(autoWires("score", "train", nodes, edges, specs)).toEqual([
      { source: "lone", sourceHandle: "dataset", target: "score", targetHandle: "dataset" },
    ]);
    const { nodes: two, edges: same } = graph({ score: "score_model", sink: "export_data", lone: "import_data", lone2: "import_data" }, [
      ["train", "model", "score", "model"], ["split", "second", "sink", "dataset"],
    ]);
    expect(autoWires("score", "train", two, same, specs)).toEqual([]);
  });

  it("never wires an optional input, or an output that feeds something already", () => {
    const { nodes, edges } = graph({ score: "score_model", evaluate: "evaluate_model" }, [
      ["train", "model", "score", "model"], ["split", "second", "score", "dataset"], ["score", "dataset", "evaluate", "scored"],
    ]);
    expect(autoWires("evaluate", "score", nodes, edges, specs)).toEqual([]);
    // Train Model placed from the import: the only untrained model already feeds the other.
    const { nodes: more, edges: used } = graph({ train2: "train_model" }, [["cars", "dataset", "train2", "dataset"]]);
    expect(autoWires("train2", "cars", more, used, specs)).toEqual([]);
  });

  it("never takes a Web Service Input's table, which is a request's", () => {
    const { nodes, edges } = graph({ score: "score_model", sink: "export_data", request: "web_service_input" }, [
      ["train", "model", "score", "model"], ["split", "second", "sink", "dataset"],
    ]);
    expect(autoWires("score", "train", nodes, edges, specs)).toEqual([]);
  });
});
