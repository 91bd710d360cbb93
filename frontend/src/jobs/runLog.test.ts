import { describe, expect, it } from "vitest";
import { runLogOf } from "./runLog";

describe("runLogOf", () => {
  it("charts metrics logged more than once and keeps tables, tags and files", () => {
    const log = runLogOf({
      run_log: {
        series: { loss: [0.9, 0.5, 0.25], accuracy: [0.8], note: ["text", "more"] },
        tables: { per_class: { label: ["a"], f1: [0.5] }, confusion: { actual: [0, 1], predicted: [0] } },
        tags: { stage: "baseline" },
        files: [{ name: "model.bin", bytes: 3 }, "not a file"],
      },
    });
    expect(log.charts).toEqual([{ name: "loss", points: [{ x: 1, y: 0.9 }, { x: 2, y: 0.5 }, { x: 3, y: 0.25 }] }]);
    expect(log.tables).toEqual([
      { name: "per_class", columns: ["label", "f1"], rows: [["a", 0.5]] },
      { name: "confusion", columns: ["actual", "predicted"], rows: [[0, 0], [1, null]] },
    ]);
    expect(log.tags).toEqual([["stage", "baseline"]]);
    expect(log.files).toEqual([{ name: "model.bin", bytes: 3 }]);
  });

  it("shows nothing for a step without a run log or with one of another shape", () => {
    const empty = { charts: [], tags: [], tables: [], files: [] };
    expect(runLogOf({})).toEqual(empty);
    expect(runLogOf(null)).toEqual(empty);
    expect(runLogOf({ run_log: { series: "x", tags: [1], tables: 3 } })).toEqual(empty);
  });
});
