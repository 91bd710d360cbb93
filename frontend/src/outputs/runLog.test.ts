import { describe, expect, it } from "vitest";
import { parseRunLog } from "./runLog";

describe("parseRunLog", () => {
  it("reads the series, tables, tags and files a script logged", () => {
    const log = parseRunLog({
      run_log: {
        series: { loss: [0.9, 0.5], stage: ["cleaned"] },
        tables: { per_color: { color: ["red", "blue"], n: [3, 4], note: [null, "late"] } },
        tags: { model: "baseline" },
        files: [{ name: "outputs/notes.txt", bytes: 5 }],
      },
    });
    expect(log).toEqual({
      series: [["loss", [0.9, 0.5]], ["stage", ["cleaned"]]],
      tables: [{ name: "per_color", columns: ["color", "n", "note"], rows: [["red", 3, null], ["blue", 4, "late"]] }],
      tags: [["model", "baseline"]],
      files: [{ name: "outputs/notes.txt", bytes: 5 }],
    });
  });

  it("is null without a run log, and leaves out what is not of its shape", () => {
    expect(parseRunLog({ roc: [] })).toBeNull();
    expect(parseRunLog({ run_log: { series: {}, tables: {}, tags: {}, files: [] } })).toBeNull();
    const odd = parseRunLog({ run_log: { series: { x: "not a list", y: [{ nested: 1 }] }, tables: { t: 3 }, files: ["x"] } });
    expect(odd).toEqual({ series: [["y", [null]]], tables: [], tags: [], files: [] });
  });
});
