/**
 * Pure data shaping for the outputs panel: sorting and paging state of the table preview,
 * histogram bars of the column statistics, and the chart series of Evaluate Model's
 * `visuals` (modules/builtin/evaluation.py). Kept apart from the components so each rule
 * is unit-tested without a browser.
 */
import type { ColumnStatistics } from "../types";

// -- table preview: sorting and paging -----------------------------------------------------

/** The preview endpoint's `sort`: a column name, `-name` for descending. */
export interface SortState {
  column: string;
  descending: boolean;
}

export function parseSort(sort: string | null | undefined): SortState | null {
  if (!sort) return null;
  return sort.startsWith("-") ? { column: sort.slice(1), descending: true } : { column: sort, descending: false };
}

/** Clicking a column header cycles: not sorted → ascending → descending → not sorted. */
export function nextSort(current: string | null, column: string): string | null {
  const state = parseSort(current);
  if (!state || state.column !== column) return column;
  return state.descending ? null : `-${column}`;
}

/** The header's `aria-sort` for `column` under the current sort. */
export function ariaSort(current: string | null, column: string): "ascending" | "descending" | "none" {
  const state = parseSort(current);
  if (!state || state.column !== column) return "none";
  return state.descending ? "descending" : "ascending";
}

export interface PageWindow {
  /** 1-based numbers of the first and last rows shown (0 and 0 when there are none). */
  first: number;
  last: number;
  page: number;
  pages: number;
  hasPrevious: boolean;
  hasNext: boolean;
  /** The offset of the last page, for a "last page" button. */
  lastOffset: number;
}

export function pageWindow(offset: number, limit: number, total: number, shown: number): PageWindow {
  const pages = Math.max(1, Math.ceil(total / limit));
  return {
    first: shown ? offset + 1 : 0,
    last: offset + shown,
    page: Math.floor(offset / limit) + 1,
    pages,
    hasPrevious: offset > 0,
    hasNext: offset + limit < total,
    lastOffset: (pages - 1) * limit,
  };
}

// -- values ---------------------------------------------------------------------------------

const GROUPED = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
const SIGNIFICANT = new Intl.NumberFormat("en", { maximumSignificantDigits: 4 });

/** A number as people read it in a table: large ones grouped with two decimals at most,
 * small ones to four significant digits, tiny ones in exponent form. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  const size = Math.abs(value);
  if (Number.isInteger(value) || size >= 1000) return GROUPED.format(value);
  if (size < 1e-4) return value.toExponential(2);
  return SIGNIFICANT.format(value);
}

/** One table cell as text; the preview sends plain JSON (null for missing, ISO dates). */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  return JSON.stringify(value);
}

/** A value of an artifact's metadata: lists joined by commas, objects as `key: value` pairs. */
export function formatMeta(value: unknown): string {
  if (Array.isArray(value)) return value.map(formatMeta).join(", ");
  if (value && typeof value === "object") {
    return Object.entries(value).map(([key, inner]) => `${key}: ${formatMeta(inner)}`).join(", ");
  }
  return formatCell(value);
}

// -- column statistics -------------------------------------------------------------------------

export interface Bar {
  label: string;
  count: number;
}

/** The bars of a column's distribution: its histogram bins when it is numeric, otherwise
 * its most frequent values (the server sends one or the other). */
export function distributionBars(stats: ColumnStatistics): Bar[] {
  const histogram = stats.histogram;
  if (histogram) {
    return histogram.counts.map((count, i) => ({
      label: `${formatNumber(histogram.edges[i])} – ${formatNumber(histogram.edges[i + 1])}`,
      count,
    }));
  }
  return stats.top_values.map(({ value, count }) => ({
    label: value === null ? "(missing)" : formatCell(value),
    count,
  }));
}

// -- Evaluate Model ------------------------------------------------------------------------------

/** Evaluate Model records the second scored table's metrics and visuals with this prefix. */
export const COMPARE_PREFIX = "compare.";

export type EvaluationTask = "regression" | "binary" | "multiclass" | "clustering";

export interface Curve {
  false_positive_rate?: (number | null)[];
  true_positive_rate?: (number | null)[];
  precision?: (number | null)[];
  recall?: (number | null)[];
  threshold?: (number | null)[];
}

export interface ConfusionMatrix {
  labels: string[];
  matrix: number[][];
}

export interface ClusterSummary {
  cluster: number;
  points: number | null;
  mean_distance_to_center: number | null;
  max_distance_to_center: number | null;
  mean_distance_to_other_centers: number | null;
}

export interface EvaluationVisuals {
  roc?: Curve;
  precision_recall?: Curve;
  confusion_matrix?: ConfusionMatrix;
  predicted_vs_actual?: { actual: (number | null)[]; predicted: (number | null)[] };
  residuals?: { predicted: (number | null)[]; residual: (number | null)[] };
  clusters?: ClusterSummary[];
}

export interface ModelEvaluation {
  /** The Evaluate Model input port the scored table came in through. */
  port: "scored" | "scored_compare";
  task: EvaluationTask | null;
  metrics: Record<string, number | null>;
  visuals: EvaluationVisuals;
}

/** The task, recognised from what Evaluate Model wrote for it. */
export function evaluationTask(metrics: Record<string, unknown>, visuals: EvaluationVisuals): EvaluationTask | null {
  if (visuals.predicted_vs_actual || "coefficient_of_determination" in metrics) return "regression";
  if (visuals.roc || "auc" in metrics) return "binary";
  if (visuals.clusters || "mean_distance_to_center" in metrics) return "clustering";
  if (visuals.confusion_matrix || "macro_f1" in metrics) return "multiclass";
  return null;
}

function unprefixed<T>(entries: Record<string, T>, compare: boolean): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, value] of Object.entries(entries)) {
    const isCompare = name.startsWith(COMPARE_PREFIX);
    if (isCompare === compare) out[isCompare ? name.slice(COMPARE_PREFIX.length) : name] = value;
  }
  return out;
}

/** One evaluation per scored table: the first input's, then the compared one's if any. */
export function splitEvaluation(
  metrics: Record<string, number | null>,
  visuals: Record<string, unknown>,
): ModelEvaluation[] {
  const evaluations: ModelEvaluation[] = [];
  for (const compare of [false, true]) {
    const own = unprefixed(metrics, compare);
    const charts = unprefixed(visuals, compare) as EvaluationVisuals;
    if (!Object.keys(own).length && !Object.keys(charts).length) continue;
    evaluations.push({
      port: compare ? "scored_compare" : "scored",
      task: evaluationTask(own, charts),
      metrics: own,
      visuals: charts,
    });
  }
  return evaluations;
}

export interface MetricRow {
  name: string;
  label: string;
  /** One value per evaluation, in the order of `splitEvaluation`. */
  values: (number | null)[];
}

const METRIC_LABELS: Record<string, string> = {
  mean_absolute_error: "Mean absolute error",
  root_mean_squared_error: "Root mean squared error",
  relative_absolute_error: "Relative absolute error",
  relative_squared_error: "Relative squared error",
  coefficient_of_determination: "Coefficient of determination (R²)",
  accuracy: "Accuracy",
  precision: "Precision",
  recall: "Recall",
  f1_score: "F1 score",
  auc: "AUC",
  log_loss: "Log loss",
  macro_precision: "Macro precision",
  macro_recall: "Macro recall",
  macro_f1: "Macro F1 score",
  points: "Points",
  mean_distance_to_center: "Mean distance to cluster center",
  max_distance_to_center: "Largest distance to cluster center",
  mean_distance_to_other_centers: "Mean distance to other centers",
};

export function metricLabel(name: string): string {
  const known = METRIC_LABELS[name];
  if (known) return known;
  const words = name.replace(/[_.]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Clustering's per-cluster metrics (`cluster_<k>.<name>`) are shown as the clusters table. */
const PER_CLUSTER = /^cluster_\d+\./;

/** The metrics table: one row per metric, in the order the module recorded them, with a
 * value for each evaluation (null where one of them lacks the metric). */
export function metricRows(evaluations: ModelEvaluation[]): MetricRow[] {
  const names: string[] = [];
  for (const evaluation of evaluations) {
    for (const name of Object.keys(evaluation.metrics)) {
      if (!PER_CLUSTER.test(name) && !names.includes(name)) names.push(name);
    }
  }
  return names.map((name) => ({
    name,
    label: metricLabel(name),
    values: evaluations.map((e) => e.metrics[name] ?? null),
  }));
}

export interface Point {
  x: number;
  y: number;
}

/** Pairs of two parallel series as chart points, leaving out pairs with a missing side
 * (the server sends NaN and infinities as null). */
export function zipPoints(xs: (number | null)[] | undefined, ys: (number | null)[] | undefined): Point[] {
  if (!xs || !ys) return [];
  const points: Point[] = [];
  const count = Math.min(xs.length, ys.length);
  for (let i = 0; i < count; i++) {
    const x = xs[i];
    const y = ys[i];
    if (x !== null && y !== null && x !== undefined && y !== undefined) points.push({ x, y });
  }
  return points;
}

/** The output feeding an input of a node, from the pipeline file a run ran: its inputs name
 * `node.port` (node ids hold no dots), or list two, the data it takes in a run first (the
 * other is a Web Service Input). Null when the input is not connected. */
export function upstreamOutput(
  nodes: Record<string, { inputs?: Record<string, string | string[]> }>,
  node: string,
  input: string,
): { node: string; port: string } | null {
  const given = nodes[node]?.inputs?.[input];
  const source = Array.isArray(given) ? given[0] : given;
  const dot = source ? source.indexOf(".") : -1;
  return source && dot > 0 ? { node: source.slice(0, dot), port: source.slice(dot + 1) } : null;
}

const INPUT_NAMES: Record<ModelEvaluation["port"], string> = { scored: "Scored dataset", scored_compare: "Scored dataset to compare" };

/** What to call each evaluated model: the node whose scored table it is (e.g. "score_forest"),
 * or the Evaluate Model input it came through when that is unknown; numbered when two are
 * compared. */
export function modelNames(evaluations: ModelEvaluation[], sources: ({ node: string } | null)[]): string[] {
  return evaluations.map((evaluation, i) => {
    const name = sources[i]?.node ?? INPUT_NAMES[evaluation.port];
    return evaluations.length > 1 ? `Model ${i + 1}: ${name}` : `Model: ${name}`;
  });
}

/** The ROC curve: true positive rate against false positive rate. */
export function rocPoints(curve: Curve | undefined): Point[] {
  return zipPoints(curve?.false_positive_rate, curve?.true_positive_rate);
}

/** The precision-recall curve: precision against recall, by increasing recall so a line
 * chart joins the points in order (scikit-learn gives them by decreasing recall). */
export function precisionRecallPoints(curve: Curve | undefined): Point[] {
  return zipPoints(curve?.recall, curve?.precision).sort((a, b) => a.x - b.x);
}

/** The smallest range holding every x and y of the points, for the y = x line of a
 * predicted-vs-actual chart; null without points. */
export function sharedRange(points: Point[]): [number, number] | null {
  if (!points.length) return null;
  let low = Infinity;
  let high = -Infinity;
  for (const { x, y } of points) {
    low = Math.min(low, x, y);
    high = Math.max(high, x, y);
  }
  return [low, high];
}

export interface HeatCell {
  count: number;
  /** The share of the true class's rows (its row of the matrix), 0 for an empty class. */
  share: number;
}

export interface HeatRow {
  label: string;
  total: number;
  cells: HeatCell[];
}

/** The confusion matrix as heat map rows: rows are true classes, columns predicted ones;
 * each cell is shaded by its share of its row, so rare classes read as clearly as common ones. */
export function confusionHeat(confusion: ConfusionMatrix): HeatRow[] {
  return confusion.labels.map((label, i) => {
    const counts = confusion.matrix[i] ?? [];
    const total = counts.reduce((sum, c) => sum + c, 0);
    return { label, total, cells: counts.map((count) => ({ count, share: total ? count / total : 0 })) };
  });
}

// -- a two-class model at another threshold -------------------------------------------------------

/** What a two-class model gives when rows scoring at least a threshold are called positive:
 * the counts of the confusion matrix and the metrics made from them. */
export interface AtThreshold {
  threshold: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

/** How many rows of each class were evaluated: [negatives, positives] (the confusion
 * matrix's rows are the true classes, the positive class second). */
export function classCounts(confusion: ConfusionMatrix | undefined): [number, number] | null {
  const rows = confusion?.matrix;
  if (!rows || rows.length !== 2) return null;
  return [rows[0][0] + rows[0][1], rows[1][0] + rows[1][1]];
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** The ROC curve's points as thresholds (highest first, as scikit-learn gives them), each with
 * its counts and metrics; empty without the curve's thresholds or the class counts. */
export function thresholdTable(roc: Curve | undefined, confusion: ConfusionMatrix | undefined): AtThreshold[] {
  const counts = classCounts(confusion);
  const thresholds = roc?.threshold ?? [];
  if (!counts) return [];
  const [negatives, positives] = counts;
  const out: AtThreshold[] = [];
  thresholds.forEach((threshold, i) => {
    const tpr = roc?.true_positive_rate?.[i];
    const fpr = roc?.false_positive_rate?.[i];
    // scikit-learn's first threshold is +inf (nothing called positive): not a choice to offer.
    if (threshold == null || !Number.isFinite(threshold) || tpr == null || fpr == null) return;
    const truePositives = Math.round(tpr * positives);
    const falsePositives = Math.round(fpr * negatives);
    const falseNegatives = positives - truePositives;
    const trueNegatives = negatives - falsePositives;
    const precision = ratio(truePositives, truePositives + falsePositives);
    const recall = ratio(truePositives, positives);
    out.push({
      threshold, truePositives, falsePositives, falseNegatives, trueNegatives,
      accuracy: ratio(truePositives + trueNegatives, positives + negatives),
      precision, recall,
      f1: precision != null && recall != null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null,
    });
  });
  return out;
}

/** The lift curve: for the rows scoring highest (x: their share of all rows), how many times
 * more positives they hold than rows picked at random (y). */
export function liftPoints(table: AtThreshold[]): Point[] {
  if (table.length === 0) return [];
  const { truePositives, falseNegatives, falsePositives, trueNegatives } = table[0];
  const positives = truePositives + falseNegatives;
  const total = positives + falsePositives + trueNegatives;
  if (positives === 0 || total === 0) return [];
  return table
    .filter((row) => row.truePositives + row.falsePositives > 0)
    .map((row) => ({
      x: (row.truePositives + row.falsePositives) / total,
      y: row.truePositives / (row.truePositives + row.falsePositives) / (positives / total),
    }));
}

/** The row of `table` whose threshold is nearest to `threshold`. */
export function nearestThreshold(table: AtThreshold[], threshold: number): AtThreshold | null {
  let best: AtThreshold | null = null;
  for (const row of table) {
    if (best === null || Math.abs(row.threshold - threshold) < Math.abs(best.threshold - threshold)) best = row;
  }
  return best;
}
