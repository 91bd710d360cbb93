import { describe, expect, it } from "vitest";
import { runLogOf } from "./runLog";

describe("runLogOf", () => {
  it("charts metrics logged more than once and keeps rows, tables and tags", () => {
    const log = runLogOf({
      run_log: {
        series: { loss: [0.9, 0.5, 0.25], accuracy: [0.8], note: ["text", "more"] },
        rows: { per_class: [{ label: "a", f1: 0.5 }, "not a row"] },
        tables: { confusion: { actual: [0, 1], predicted: [0] } },
        tags: { stage: "baseline" },
      },
    });
    expect(log.charts).toEqual([{ name: "loss", points: [{ x: 1, y: 0.9 }, { x: 2, y: 0.5 }, { x: 3, y: 0.25 }] }]);
    expect(log.rows).toEqual([{ name: "per_class", rows: [{ label: "a", f1: 0.5 }] }]);
    expect(log.tables).toEqual([{ name: "confusion", columns: ["actual", "predicted"], rows: [[0, 0], [1, undefined]] }]);
    expect(log.tags).toEqual([["stage", "baseline"]]);
  });

  it("shows nothing for a step without a run log or with one of another shape", () => {
    const empty = { charts: [], tags: [], rows: [], tables: [] };
    expect(runLogOf({})).toEqual(empty);
    expect(runLogOf({ run_log: { series: "x", tags: [1], rows: 3 } })).toEqual(empty);
  });
});
