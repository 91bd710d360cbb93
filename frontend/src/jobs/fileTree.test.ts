import { describe, expect, it } from "vitest";
import { fileTree, formatBytes } from "./fileTree";

describe("fileTree", () => {
  it("puts each file in its folders, folders first, by name", () => {
    const tree = fileTree([
      { path: "model.joblib", bytes: 10 },
      { path: "plots/roc/b.png", bytes: 2 },
      { path: "plots/a.csv", bytes: 3 },
      { path: "plots/roc/a.png", bytes: 1 },
      { path: "data.csv", bytes: 4 },
    ]);
    expect(tree.files.map((f) => f.name)).toEqual(["data.csv", "model.joblib"]);
    expect(tree.folders.map((f) => f.name)).toEqual(["plots"]);
    const plots = tree.folders[0];
    expect(plots.files).toEqual([{ name: "a.csv", path: "plots/a.csv", bytes: 3 }]);
    expect(plots.folders[0].files.map((f) => f.path)).toEqual(["plots/roc/a.png", "plots/roc/b.png"]);
  });

  it("is empty for no files", () => {
    expect(fileTree([])).toEqual({ name: "", folders: [], files: [] });
  });
});

describe("formatBytes", () => {
  it("says bytes, kB or MB", () => {
    expect([formatBytes(532), formatBytes(12_345), formatBytes(4_500_000)]).toEqual(["532 bytes", "12.3 kB", "4.5 MB"]);
  });
});
