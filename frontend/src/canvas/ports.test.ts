import { describe, expect, it } from "vitest";
import type { ModuleSpec } from "../types";
import { documentToFlow, makeEdge } from "./graph";
import { connectionProblem, modulesAccepting } from "./ports";

const spec = (id: string, inputs: [string, string][], outputs: [string, string][]): ModuleSpec => ({
  id, version: 1, name: id, category: "x", description: "", help: "", deterministic: true, replaces: [], params: [], keywords: [],
  request_input: id === "web_service_input",
  inputs: inputs.map(([name, type]) => ({ name, type, help: "" })),
  outputs: outputs.map(([name, type]) => ({ name, type, help: "" })),
});

const specs = {
  import_data: spec("import_data", [], [["dataset", "DataFrame"]]),
  linear_regression: spec("linear_regression", [], [["model", "UntrainedModel"]]),
  train_model: spec("train_model", [["model", "UntrainedModel"], ["dataset", "DataFrame"]], [["model", "TrainedModel"]]),
  select_columns: spec("select_columns", [["dataset", "DataFrame"]], [["dataset", "DataFrame"]]),
  web_service_input: spec("web_service_input", [], [["dataset", "DataFrame"]]),
};

const { nodes } = documentToFlow({
  format: "atelier/pipeline@1",
  name: "t",
  nodes: {
    cars: { module: "import_data" },
    algo: { module: "linear_regression" },
    train: { module: "train_model" },
    a: { module: "select_columns" },
    b: { module: "select_columns" },
    request: { module: "web_service_input" },
    request2: { module: "web_service_input" },
  },
});
const connect = (source: string, sourceHandle: string, target: string, targetHandle: string) => ({ source, sourceHandle, target, targetHandle });

describe("connection rules", () => {
  it("accepts ports of the same type", () => {
    expect(connectionProblem(connect("cars", "dataset", "train", "dataset"), nodes, [], specs)).toBeNull();
  });

  it("refuses a type mismatch, saying both types", () => {
    const problem = connectionProblem(connect("cars", "dataset", "train", "model"), nodes, [], specs);
    expect(problem).toContain("takes a UntrainedModel");
    expect(problem).toContain("is a DataFrame");
  });

  it("refuses a second edge into one input", () => {
    const edges = [makeEdge("cars", "dataset", "train", "dataset")];
    expect(connectionProblem(connect("a", "dataset", "train", "dataset"), nodes, edges, specs)).toContain("one connection");
  });

  it("takes a Web Service Input beside an input's data in a run, and the data beside one", () => {
    const data = [makeEdge("cars", "dataset", "train", "dataset")];
    expect(connectionProblem(connect("request", "dataset", "train", "dataset"), nodes, data, specs)).toBeNull();
    const request = [makeEdge("request", "dataset", "train", "dataset")];
    expect(connectionProblem(connect("cars", "dataset", "train", "dataset"), nodes, request, specs)).toBeNull();
  });

  it("refuses a second Web Service Input, or a second source of data, beside a Web Service Input", () => {
    const both = [makeEdge("cars", "dataset", "train", "dataset"), makeEdge("request", "dataset", "train", "dataset", true)];
    expect(connectionProblem(connect("request2", "dataset", "train", "dataset"), nodes, both, specs)).toContain(
      "already takes the Web Service Input request",
    );
    expect(connectionProblem(connect("a", "dataset", "train", "dataset"), nodes, both, specs)).toContain(
      "already takes cars.dataset: an input takes one connection (and a Web Service Input beside it)",
    );
  });

  it("refuses cycles and self-loops", () => {
    const edges = [makeEdge("a", "dataset", "b", "dataset")];
    expect(connectionProblem(connect("b", "dataset", "a", "dataset"), nodes, edges, specs)).toContain("cycle");
    expect(connectionProblem(connect("a", "dataset", "a", "dataset"), nodes, [], specs)).toContain("itself");
  });
});

describe("modulesAccepting", () => {
  it("lists the modules with an input of the type, by name, with that input", () => {
    expect(modulesAccepting("UntrainedModel", specs).map(({ spec, input }) => [spec.id, input])).toEqual([["train_model", "model"]]);
    expect(modulesAccepting("DataFrame", specs).map(({ spec, input }) => [spec.id, input])).toEqual([
      ["select_columns", "dataset"],
      ["train_model", "dataset"],
    ]);
    expect(modulesAccepting("Image", specs)).toEqual([]);
  });
});
