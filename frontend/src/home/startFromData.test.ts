import { describe, expect, it } from "vitest";
import { sampleDrop } from "../palette/Palette";
import type { ModuleSpec } from "../types";
import { documentFromData } from "./startFromData";

const importData = {
  id: "import_data",
  params: [
    { name: "source", type: "choice", required: true, default: "sample" },
    { name: "name", type: "string", required: false, default: null },
  ],
} as unknown as ModuleSpec;

describe("starting a pipeline from data", () => {
  it("holds the node the palette would drop, named after the data", () => {
    expect(documentFromData("automobile-price-raw", sampleDrop("automobile-price-raw"), importData)).toEqual({
      format: "atelier/pipeline@1",
      name: "automobile-price-raw",
      nodes: { import_data: { module: "import_data", params: { source: "sample", name: "automobile-price-raw" } } },
      layout: { import_data: { x: 0, y: 0 } },
    });
  });

  it("gives a plugin module's node an id without its namespace dot", () => {
    const document = documentFromData("bundle", { module: "acme.read", params: { name: "bundle" } }, undefined);
    expect(Object.keys(document.nodes)).toEqual(["acme_read"]);
  });
});
