import type { Edge } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import { documentToFlow, makeEdge } from "./graph";
import { spec } from "./testSpecs";
import { insertion } from "./insertIntoWire";

const specs = {
  import_data: spec("import_data", [], [["dataset", "DataFrame"]]),
  clean: spec("clean", [["dataset", "DataFrame"]], [["dataset", "DataFrame"], ["transform", "Transform"]]),
  split_data: spec("split_data", [["dataset", "DataFrame"]], [["first", "DataFrame"], ["second", "DataFrame"]]),
  apply: spec("apply", [["transform", "Transform"], ["dataset", "DataFrame"]], [["dataset", "DataFrame"]]),
  linear_regression: spec("linear_regression", [], [["model", "UntrainedModel"]]),
  web_service_input: spec("web_service_input", [], [["dataset", "DataFrame"]], true),
  select: spec("select", [["dataset", "DataFrame"]], [["dataset", "DataFrame"]]),
};

function graph(modules: Record<string, string>, wires: [string, string, string, string, boolean?][]) {
  const { nodes } = documentToFlow({
    format: "atelier/pipeline@1",
    name: "t",
    nodes: Object.fromEntries(Object.entries(modules).map(([id, module]) => [id, { module }])),
  });
  const edges: Edge[] = wires.map(([s, sp, t, tp, beside]) => makeEdge(s, sp, t, tp, beside));
  return { nodes, edges };
}

describe("a module dropped onto a wire", () => {
  it("takes the wire's table and gives its own table to the wire's input", () => {
    const { nodes, edges } = graph({ cars: "import_data", split: "split_data", new: "clean" }, [["cars", "dataset", "split", "dataset"]]);
    expect(insertion("new", edges[0], nodes, edges, specs)).toEqual({ input: "dataset", output: "dataset" });
  });

  it("uses the input that takes the wire's type, not the first one", () => {
    const { nodes, edges } = graph({ cars: "import_data", split: "split_data", new: "apply" }, [["cars", "dataset", "split", "dataset"]]);
    expect(insertion("new", edges[0], nodes, edges, specs)).toEqual({ input: "dataset", output: "dataset" });
  });

  it("does not go into a wire it cannot carry, or a Web Service Input's", () => {
    const { nodes, edges } = graph({ cars: "import_data", split: "split_data", algo: "linear_regression" }, [["cars", "dataset", "split", "dataset"]]);
    expect(insertion("algo", edges[0], nodes, edges, specs)).toBeNull();
    const served = graph({ cars: "import_data", request: "web_service_input", select: "select", new: "clean" }, [
      ["cars", "dataset", "select", "dataset"], ["request", "dataset", "select", "dataset", true],
    ]);
    expect(insertion("new", served.edges[1], served.nodes, served.edges, specs)).toBeNull();
    expect(insertion("new", served.edges[0], served.nodes, served.edges, specs)).toEqual({ input: "dataset", output: "dataset" });
  });
});
