import { describe, expect, it } from "vitest";
import { datasetDrop } from "./Palette";

describe("datasetDrop", () => {
  it("reads a table with Import Data", () => {
    expect(datasetDrop({ name: "cars", kind: "table" })).toEqual({
      module: "import_data",
      params: { source: "dataset", name: "cars" },
    });
  });

  it("reads a file dataset (an uploaded zip) with Import File Dataset, for a Script Bundle port", () => {
    expect(datasetDrop({ name: "bundle", kind: "files" })).toEqual({
      module: "import_file_dataset",
      params: { name: "bundle" },
    });
  });
});
