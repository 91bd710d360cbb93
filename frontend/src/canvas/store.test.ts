import { beforeEach, describe, expect, it } from "vitest";
import { useEditor } from "./store";

const doc = {
  format: "atelier/pipeline@1" as const,
  name: "t",
  nodes: { a: { module: "select_columns" }, b: { module: "select_columns", inputs: { dataset: "a.dataset" } } },
  layout: { a: { x: 0, y: 0 }, b: { x: 0, y: 100 } },
};

describe("editor store", () => {
  beforeEach(() => useEditor.getState().load(doc));

  it("undoes and redoes edits", () => {
    const editor = useEditor.getState();
    editor.addNode("split_data", { x: 5, y: 5 });
    expect(useEditor.getState().nodes.map((n) => n.id)).toContain("split_data");
    useEditor.getState().undo();
    expect(useEditor.getState().nodes.map((n) => n.id)).toEqual(["a", "b"]);
    useEditor.getState().redo();
    expect(useEditor.getState().nodes).toHaveLength(3);
  });

  it("coalesces typing in one field into one undo step", () => {
    const editor = useEditor.getState();
    editor.setParam("a", "columns", "x");
    useEditor.getState().setParam("a", "columns", "xy");
    useEditor.getState().setParam("b", "columns", "z");
    expect(useEditor.getState().past).toHaveLength(2);
    useEditor.getState().undo();
    useEditor.getState().undo();
    expect(useEditor.getState().nodes[0].data.params).toEqual({});
  });

  it("renames a node and its edges", () => {
    expect(useEditor.getState().renameNode("a", "source")).toBeNull();
    expect(useEditor.getState().document().nodes.b.inputs).toEqual({ dataset: "source.dataset" });
    expect(useEditor.getState().renameNode("b", "source")).toContain("already");
    expect(useEditor.getState().renameNode("b", "1bad")).toContain("starts with");
  });

  it("copies and pastes nodes with the edges between them, under new names", () => {
    useEditor.getState().selectAll();
    const clip = useEditor.getState().copySelection()!;
    useEditor.getState().paste(clip, { x: 40, y: 40 });
    const document = useEditor.getState().document();
    expect(Object.keys(document.nodes)).toEqual(["a", "b", "select_columns", "select_columns_2"]);
    expect(document.nodes.select_columns_2.inputs).toEqual({ dataset: "select_columns.dataset" });
  });

  it("keeps a Web Service Input's edge beside the data an input takes in a run", () => {
    const spec = (id: string, request_input: boolean) => ({
      id, version: 1, name: id, category: "x", description: "", help: "", deterministic: true, replaces: [], params: [],
      inputs: [], outputs: [{ name: "dataset", type: "DataFrame", help: "" }], request_input, keywords: [],
    });
    useEditor.setState({ specs: { select_columns: spec("select_columns", false), web_service_input: spec("web_service_input", true) } });
    const editor = useEditor.getState();
    const request = editor.addNode("web_service_input", { x: 300, y: 0 });
    useEditor.getState().connect(request, "dataset", "b", "dataset");
    expect(useEditor.getState().document().nodes.b.inputs).toEqual({ dataset: ["a.dataset", request + ".dataset"] });
    // Other data replaces the data, not the request beside it; choosing none removes only that edge.
    useEditor.getState().addNode("select_columns", { x: 0, y: 300 });
    useEditor.getState().connect("select_columns", "dataset", "b", "dataset");
    expect(useEditor.getState().document().nodes.b.inputs).toEqual({ dataset: ["select_columns.dataset", request + ".dataset"] });
    useEditor.getState().disconnect("b", "dataset", "select_columns");
    expect(useEditor.getState().document().nodes.b.inputs).toEqual({ dataset: request + ".dataset" });
  });

  it("deletes the selection and the edges touching it", () => {
    useEditor.getState().selectOnly(["a"]);
    useEditor.getState().deleteSelection();
    expect(useEditor.getState().document().nodes).toEqual({ b: { module: "select_columns" } });
  });
});

describe("moves", () => {
  beforeEach(() => useEditor.getState().load(doc));

  it("records a drag once, and a click that moved nothing not at all", () => {
    const editor = useEditor.getState();
    editor.beginDrag();
    useEditor.getState().onNodesChange([{ id: "a", type: "position", position: { x: 0, y: 0 }, dragging: false }]);
    expect(useEditor.getState().past).toHaveLength(0);
    expect(useEditor.getState().revision).toBe(0);

    useEditor.getState().beginDrag();
    useEditor.getState().onNodesChange([{ id: "a", type: "position", position: { x: 30, y: 0 }, dragging: true }]);
    useEditor.getState().onNodesChange([{ id: "a", type: "position", position: { x: 60, y: 0 }, dragging: false }]);
    expect(useEditor.getState().past).toHaveLength(1);
    expect(useEditor.getState().revision).toBe(1);
    useEditor.getState().undo();
    expect(useEditor.getState().nodes[0].position).toEqual({ x: 0, y: 0 });
  });
});
