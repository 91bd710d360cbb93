import { describe, expect, it } from "vitest";
import type { ColumnStatistics } from "../types";
import {
  ariaSort,
  confusionHeat,
  distributionBars,
  evaluationTask,
  formatCell,
  formatMeta,
  formatNumber,
  liftPoints,
  metricLabel,
  metricRows,
  modelNames,
  nearestThreshold,
  nextSort,
  pageWindow,
  parseSort,
  precisionRecallPoints,
  rocPoints,
  sharedRange,
  splitEvaluation,
  thresholdTable,
  upstreamOutput,
  zipPoints,
} from "./transforms";

function column(overrides: Partial<ColumnStatistics>): ColumnStatistics {
  return {
    name: "x", type: "numeric", dtype: "float64", role: null, count: 0, missing: 0, unique: 0,
    min: null, max: null, mean: null, std: null, top_values: [], histogram: null, ...overrides,
  };
}

describe("sorting", () => {
  it("parses the preview's sort parameter", () => {
    expect(parseSort(null)).toBeNull();
    expect(parseSort("price")).toEqual({ column: "price", descending: false });
    expect(parseSort("-price")).toEqual({ column: "price", descending: true });
  });

  it("cycles a header through ascending, descending and unsorted", () => {
    expect(nextSort(null, "price")).toBe("price");
    expect(nextSort("price", "price")).toBe("-price");
    expect(nextSort("-price", "price")).toBeNull();
    // Another column starts over at ascending.
    expect(nextSort("-price", "make")).toBe("make");
  });

  it("says which header is sorted, for screen readers", () => {
    expect(ariaSort("-price", "price")).toBe("descending");
    expect(ariaSort("price", "price")).toBe("ascending");
    expect(ariaSort("price", "make")).toBe("none");
    expect(ariaSort(null, "make")).toBe("none");
  });
});

describe("paging", () => {
  it("numbers the rows shown from one", () => {
    expect(pageWindow(0, 50, 120, 50)).toEqual({
      first: 1, last: 50, page: 1, pages: 3, hasPrevious: false, hasNext: true, lastOffset: 100,
    });
    expect(pageWindow(100, 50, 120, 20)).toMatchObject({ first: 101, last: 120, page: 3, hasPrevious: true, hasNext: false });
  });

  it("handles an empty table and an exact last page", () => {
    expect(pageWindow(0, 50, 0, 0)).toMatchObject({ first: 0, last: 0, page: 1, pages: 1, hasNext: false, lastOffset: 0 });
    expect(pageWindow(50, 50, 100, 50)).toMatchObject({ pages: 2, hasNext: false, lastOffset: 50 });
  });
});

describe("formatting", () => {
  it("formats numbers for reading", () => {
    expect(formatNumber(null)).toBe("—");
    expect(formatNumber(Number.NaN)).toBe("—");
    expect(formatNumber(12345.678)).toBe("12,345.68");
    expect(formatNumber(3)).toBe("3");
    expect(formatNumber(0.912345)).toBe("0.9123");
    expect(formatNumber(-0.5)).toBe("-0.5");
    expect(formatNumber(0.0000123)).toBe("1.23e-5");
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe("∞");
  });

  it("shows cells as text", () => {
    expect(formatCell(null)).toBe("");
    expect(formatCell("audi")).toBe("audi");
    expect(formatCell(false)).toBe("false");
    expect(formatCell(1500.5)).toBe("1,500.5");
    expect(formatCell({ k: [1] })).toBe('{"k":[1]}');
  });

  it("shows an artifact's metadata as plain text", () => {
    expect(formatMeta(["age", "income"])).toBe("age, income");
    expect(formatMeta({ seed: 0, fit_intercept: true, l2: null })).toBe("seed: 0, fit_intercept: true, l2: ");
    expect(formatMeta("standard")).toBe("standard");
  });
});

describe("column distributions", () => {
  it("labels histogram bins by their edges", () => {
    const bars = distributionBars(column({ histogram: { edges: [0, 0.5, 1], counts: [3, 7] } }));
    expect(bars).toEqual([{ label: "0 – 0.5", count: 3 }, { label: "0.5 – 1", count: 7 }]);
  });

  it("uses the most frequent values of other columns", () => {
    const bars = distributionBars(column({ type: "string", top_values: [{ value: "bmw", count: 4 }, { value: null, count: 1 }] }));
    expect(bars).toEqual([{ label: "bmw", count: 4 }, { label: "(missing)", count: 1 }]);
  });

  it("has no bars for a column with neither", () => {
    expect(distributionBars(column({ type: "datetime" }))).toEqual([]);
  });
});

// What Evaluate Model records (modules/builtin/evaluation.py), trimmed.
const regression = {
  metrics: {
    mean_absolute_error: 1500, coefficient_of_determination: 0.91,
    "compare.mean_absolute_error": 1800, "compare.coefficient_of_determination": 0.88,
  },
  visuals: {
    predicted_vs_actual: { actual: [1, 2, 3], predicted: [1.5, 2, 2.5] },
    residuals: { predicted: [1.5, 2, 2.5], residual: [-0.5, 0, 0.5] },
    "compare.predicted_vs_actual": { actual: [1, 2], predicted: [2, 2] },
    "compare.residuals": { predicted: [2, 2], residual: [-1, 0] },
  },
};

describe("Evaluate Model", () => {
  it("splits a comparison into one evaluation per scored table", () => {
    const [first, second, ...rest] = splitEvaluation(regression.metrics, regression.visuals);
    expect(rest).toEqual([]);
    expect(first.port).toBe("scored");
    expect(first.task).toBe("regression");
    expect(first.metrics).toEqual({ mean_absolute_error: 1500, coefficient_of_determination: 0.91 });
    expect(first.visuals.residuals?.residual).toEqual([-0.5, 0, 0.5]);
    expect(second.port).toBe("scored_compare");
    expect(second.metrics.coefficient_of_determination).toBe(0.88);
    expect(second.visuals.predicted_vs_actual?.actual).toEqual([1, 2]);
  });

  it("has a single evaluation without a compared table", () => {
    const evaluations = splitEvaluation({ accuracy: 0.8, auc: 0.9 }, { roc: { false_positive_rate: [0, 1], true_positive_rate: [0, 1] } });
    expect(evaluations.map((e) => [e.port, e.task])).toEqual([["scored", "binary"]]);
  });

  it("recognises every task", () => {
    expect(evaluationTask({ coefficient_of_determination: 1 }, {})).toBe("regression");
    expect(evaluationTask({ auc: 1 }, {})).toBe("binary");
    expect(evaluationTask({ macro_f1: 1 }, { confusion_matrix: { labels: [], matrix: [] } })).toBe("multiclass");
    expect(evaluationTask({ points: 3, mean_distance_to_center: 1 }, { clusters: [] })).toBe("clustering");
    expect(evaluationTask({ something: 1 }, {})).toBeNull();
  });

  it("lays the metrics out as rows with one value per model", () => {
    const rows = metricRows(splitEvaluation(regression.metrics, regression.visuals));
    expect(rows).toEqual([
      { name: "mean_absolute_error", label: "Mean absolute error", values: [1500, 1800] },
      { name: "coefficient_of_determination", label: "Coefficient of determination (R²)", values: [0.91, 0.88] },
    ]);
  });

  it("leaves per-cluster metrics to the clusters table and fills gaps with null", () => {
    const rows = metricRows([
      { port: "scored", task: "clustering", visuals: {}, metrics: { points: 10, "cluster_0.points": 4, "cluster_1.points": 6 } },
      { port: "scored_compare", task: "clustering", visuals: {}, metrics: { extra: 1 } },
    ]);
    expect(rows.map((r) => [r.name, r.values])).toEqual([["points", [10, null]], ["extra", [null, 1]]]);
  });

  it("names models after the node that scored them", () => {
    const evaluations = splitEvaluation(regression.metrics, regression.visuals);
    expect(modelNames(evaluations, [{ node: "score_boosted" }, { node: "score_forest" }])).toEqual([
      "Model 1: score_boosted", "Model 2: score_forest",
    ]);
    // Until the run's pipeline is known, by the input they came through.
    expect(modelNames(evaluations, [null, null])).toEqual(["Model 1: Scored dataset", "Model 2: Scored dataset to compare"]);
    expect(modelNames(evaluations.slice(0, 1), [{ node: "score" }])).toEqual(["Model: score"]);
  });

  it("names unknown metrics readably", () => {
    expect(metricLabel("auc")).toBe("AUC");
    expect(metricLabel("balanced_accuracy")).toBe("Balanced accuracy");
  });
});

describe("upstream outputs", () => {
  const nodes = {
    score: { inputs: { model: "train.model", dataset: "split.second" } },
    evaluate: { inputs: { scored: "score.dataset", scored_compare: "score_2.scored.v2" } },
    algorithm: {},
  };

  it("finds the output feeding an input", () => {
    expect(upstreamOutput(nodes, "evaluate", "scored")).toEqual({ node: "score", port: "dataset" });
    // Only node ids are free of dots; the rest is the port.
    expect(upstreamOutput(nodes, "evaluate", "scored_compare")).toEqual({ node: "score_2", port: "scored.v2" });
  });

  it("takes the data an input takes in a run from an input that also lists a Web Service Input", () => {
    const fed = { evaluate: { inputs: { scored: ["score.dataset", "request.dataset"] } } };
    expect(upstreamOutput(fed, "evaluate", "scored")).toEqual({ node: "score", port: "dataset" });
  });

  it("is null for an unconnected input or an unknown node", () => {
    expect(upstreamOutput(nodes, "algorithm", "dataset")).toBeNull();
    expect(upstreamOutput(nodes, "ghost", "scored")).toBeNull();
  });
});

describe("chart series", () => {
  it("drops points with a missing coordinate", () => {
    expect(zipPoints([0, null, 0.5, 1], [0, 0.2, null, 1])).toEqual([{ x: 0, y: 0 }, { x: 1, y: 1 }]);
    expect(zipPoints(undefined, [1])).toEqual([]);
  });

  it("draws ROC as true against false positive rate", () => {
    expect(rocPoints({ false_positive_rate: [0, 0.1, 1], true_positive_rate: [0, 0.7, 1], threshold: [null, 0.6, 0] }))
      .toEqual([{ x: 0, y: 0 }, { x: 0.1, y: 0.7 }, { x: 1, y: 1 }]);
    expect(rocPoints(undefined)).toEqual([]);
  });

  it("orders precision-recall points by recall", () => {
    // scikit-learn's order: decreasing recall, ending at recall 0, precision 1.
    const curve = { precision: [0.5, 0.8, 1], recall: [1, 0.6, 0], threshold: [0.1, 0.5] };
    expect(precisionRecallPoints(curve)).toEqual([{ x: 0, y: 1 }, { x: 0.6, y: 0.8 }, { x: 1, y: 0.5 }]);
  });

  it("finds the range a y = x line needs", () => {
    expect(sharedRange([{ x: 2, y: 5 }, { x: -1, y: 3 }])).toEqual([-1, 5]);
    expect(sharedRange([])).toBeNull();
  });

  it("shades the confusion matrix by the share of each true class", () => {
    const heat = confusionHeat({ labels: ["<=50K", ">50K", "never"], matrix: [[90, 10, 0], [25, 75, 0], [0, 0, 0]] });
    expect(heat[0]).toEqual({ label: "<=50K", total: 100, cells: [{ count: 90, share: 0.9 }, { count: 10, share: 0.1 }, { count: 0, share: 0 }] });
    expect(heat[1].cells.map((c) => c.share)).toEqual([0.25, 0.75, 0]);
    expect(heat[2]).toMatchObject({ total: 0, cells: [{ count: 0, share: 0 }, { count: 0, share: 0 }, { count: 0, share: 0 }] });
  });
});

describe("a two-class model at another threshold", () => {
  // Positives score 0.9 and 0.4, negatives 0.6 and 0.1 (scikit-learn's roc_curve of them; its
  // first threshold, +inf, arrives as null).
  const roc = {
    threshold: [null, 0.9, 0.6, 0.4, 0.1],
    true_positive_rate: [0, 0.5, 0.5, 1, 1],
    false_positive_rate: [0, 0, 0.5, 0.5, 1],
  };
  const confusion = { labels: ["no", "yes"], matrix: [[1, 1], [0, 2]] };

  it("counts and scores each threshold as calling rows at or above it positive", () => {
    const table = thresholdTable(roc, confusion);
    expect(table.map((r) => r.threshold)).toEqual([0.9, 0.6, 0.4, 0.1]);
    expect(table[2]).toMatchObject({ truePositives: 2, falsePositives: 1, falseNegatives: 0, trueNegatives: 1, accuracy: 0.75, recall: 1 });
    expect(table[2].precision).toBeCloseTo(2 / 3);
    expect(table[2].f1).toBeCloseTo(0.8);
    expect(nearestThreshold(table, 0.55)?.threshold).toBe(0.6);
  });

  it("draws the lift of the highest-scoring rows over a random pick", () => {
    const lift = liftPoints(thresholdTable(roc, confusion));
    expect(lift.map((p) => p.x)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(lift[0].y).toBeCloseTo(2);
    expect(lift[2].y).toBeCloseTo(4 / 3);
    expect(lift[3].y).toBeCloseTo(1);
  });

  it("has nothing to offer without thresholds or two classes", () => {
    expect(thresholdTable({}, confusion)).toEqual([]);
    expect(thresholdTable(roc, { labels: ["a"], matrix: [[3]] })).toEqual([]);
  });
});
