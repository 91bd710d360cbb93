import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { cloneElement, useState, type ReactElement, type ReactNode } from "react";
import { api } from "../api";
import { classCurves } from "./api";
import {
  confusionHeat,
  formatNumber,
  liftPoints,
  metricRows,
  modelNames,
  precisionRecallPoints,
  rocPoints,
  sharedRange,
  thresholdTable,
  zipPoints,
  type AtThreshold,
  type ConfusionMatrix,
  type ClusterSummary,
  type ModelEvaluation,
  type Point,
  upstreamOutput,
} from "./transforms";
import { useRequest } from "./useRequest";

const SERIES = ["var(--outputs-series-1)", "var(--outputs-series-2)"];
const UNIT = [0, 1] as const;
// One colour per class of a multiclass model (Tableau 10: told apart with most colour blindness).
const CLASS_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/** Evaluate Model's metrics table (a value column per model) and its charts, one column of
 * charts per model so two compared models sit side by side. */
export function Evaluation({ runId, node, evaluations }: { runId: string; node: string; evaluations: ModelEvaluation[] }) {
  // The pipeline the run ran says which node scored each table: the models' names, and where
  // a multiclass model's per-class curves come from.
  const { data: run, error } = useRequest(() => api.runs.get(runId), runId);
  const sources = evaluations.map((e) => (run ? upstreamOutput(run.pipeline.nodes, node, e.port) : null));
  const names = modelNames(evaluations, sources);
  return (
    <div className="outputs-evaluation">
      <MetricsTable evaluations={evaluations} names={names} />
      <div className={`outputs-models outputs-models-${evaluations.length}`}>
        {evaluations.map((evaluation, i) => (
          <section key={evaluation.port} className="outputs-model" aria-label={`Charts of ${names[i]}`}>
            <h3>{names[i]}</h3>
            <ModelCharts
              runId={runId}
              evaluation={evaluation}
              color={SERIES[i]}
              source={run ? sources[i] : error ? null : undefined}
            />
          </section>
        ))}
      </div>
    </div>
  );
}

/** A step's metrics, one row each, with a value column per evaluated model. */
export function MetricsTable({ evaluations, names }: { evaluations: ModelEvaluation[]; names?: string[] }) {
  return (
    <table className="outputs-table outputs-metrics">
      <caption className="outputs-caption">Metrics</caption>
      <thead>
        <tr>
          <th scope="col">Metric</th>
          {evaluations.map((e, i) => (
            <th key={e.port} scope="col" className="outputs-number">
              {names && evaluations.length > 1 ? names[i] : "Value"}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {metricRows(evaluations).map((row) => (
          <tr key={row.name}>
            <th scope="row" title={row.name}>
              {row.label}
            </th>
            {row.values.map((value, i) => (
              <td key={i} className="outputs-number">
                {formatNumber(value)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `source`: the output Evaluate Model read for this model; undefined while it is looked up. */
function ModelCharts({
  runId, evaluation, color, source,
}: { runId: string; evaluation: ModelEvaluation; color: string; source: { node: string; port: string } | null | undefined }) {
  const { visuals, metrics } = evaluation;
  const charts: ReactNode[] = [];
  if (evaluation.task === "multiclass") charts.push(<ClassCurveCharts key="classes" runId={runId} source={source} />);
  if (visuals.roc) {
    charts.push(
      <CurveChart
        key="roc"
        title={`ROC curve (AUC ${formatNumber(metrics.auc)})`}
        points={rocPoints(visuals.roc)}
        x="False positive rate"
        y="True positive rate"
        color={color}
        chance={[{ x: 0, y: 0 }, { x: 1, y: 1 }]}
      />,
    );
  }
  if (visuals.precision_recall) {
    charts.push(
      <CurveChart key="pr" title="Precision-recall curve" points={precisionRecallPoints(visuals.precision_recall)} x="Recall" y="Precision" color={color} />,
    );
  }
  const thresholds = evaluation.task === "binary" ? thresholdTable(visuals.roc, visuals.confusion_matrix) : [];
  if (thresholds.length > 0) {
    charts.push(
      <CurveChart key="lift" title="Lift curve" points={liftPoints(thresholds)} x="Share of rows, highest scores first" y="Lift" color={color} unitY={false} />,
    );
    charts.push(<ThresholdSlider key="threshold" table={thresholds} />);
  }
  if (visuals.confusion_matrix) charts.push(<ConfusionTable key="confusion" confusion={visuals.confusion_matrix} />);
  if (visuals.predicted_vs_actual) {
    const points = zipPoints(visuals.predicted_vs_actual.actual, visuals.predicted_vs_actual.predicted);
    const range = sharedRange(points);
    charts.push(
      <ScatterPlot
        key="pva"
        title="Predicted against actual values"
        points={points}
        x="Actual"
        y="Predicted"
        color={color}
        line={range ? [{ x: range[0], y: range[0] }, { x: range[1], y: range[1] }] : null}
        lineLabel="perfect prediction (y = x)"
      />,
    );
  }
  if (visuals.residuals) {
    charts.push(
      <ScatterPlot
        key="residuals"
        title="Residuals against predicted values"
        points={zipPoints(visuals.residuals.predicted, visuals.residuals.residual)}
        x="Predicted"
        y="Residual (actual − predicted)"
        color={color}
        zeroLine
      />,
    );
  }
  if (visuals.clusters) charts.push(<Clusters key="clusters" clusters={visuals.clusters} color={color} />);
  if (!charts.length) return <p className="outputs-note">Evaluate Model drew no charts for this task.</p>;
  return <>{charts}</>;
}

/** Multiclass: each class against the others, as ROC and precision-recall curves (a line
 * per class) and a table of per-class metrics, from the scored table Evaluate Model read. */
function ClassCurveCharts({ runId, source }: { runId: string; source: { node: string; port: string } | null | undefined }) {
  const { data, error } = useRequest(
    () => (source ? classCurves(runId, source.node, source.port) : Promise.resolve(null)),
    `${runId}/${source?.node}/${source?.port}`,
  );
  if (source === null) return <p className="outputs-error">The per-class curves are unavailable: the scored table this model was evaluated on is not known.</p>;
  if (error) return <p role="alert" className="outputs-error">The per-class curves could not be loaded: {error}</p>;
  if (!data) return <p className="outputs-note">Loading the per-class curves…</p>;
  const drawn = data.classes.filter((c) => c.roc && c.precision_recall);
  const series = (pick: (c: (typeof drawn)[number]) => Point[]) =>
    drawn.map((c, i) => ({ name: c.class, points: pick(c), color: CLASS_COLORS[i % CLASS_COLORS.length] }));
  return (
    <>
      <ClassLines title="ROC curves, each class against the others" series={series((c) => rocPoints(c.roc ?? undefined))} x="False positive rate" y="True positive rate" chance />
      <ClassLines title="Precision-recall curves, each class against the others" series={series((c) => precisionRecallPoints(c.precision_recall ?? undefined))} x="Recall" y="Precision" />
      <table className="outputs-table">
        <caption className="outputs-caption">Each class against the others</caption>
        <thead>
          <tr>
            {["Class", "Rows", "AUC", "Precision", "Recall", "F1 score"].map((h, i) => (
              <th key={h} scope="col" className={i ? "outputs-number" : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.classes.map((c) => (
            <tr key={c.class}>
              <th scope="row">{c.class}</th>
              <td className="outputs-number">{formatNumber(c.rows)}</td>
              {(["auc", "precision", "recall", "f1_score"] as const).map((m) => (
                <td key={m} className="outputs-number">
                  {formatNumber(c.metrics[m])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function ClassLines({ title, series, x, y, chance }: { title: string; series: { name: string; points: Point[]; color: string }[]; x: string; y: string; chance?: boolean }) {
  return (
    <ChartFigure title={title} summary={`${y} against ${x.toLowerCase()}, a line for each of ${series.map((s) => s.name).join(", ")}`}>
      <LineChart margin={{ top: 8, right: 16, bottom: 24, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis type="number" dataKey="x" domain={UNIT} tickCount={6} allowDuplicatedCategory={false} label={{ value: x, position: "insideBottom", offset: -12 }} />
        <YAxis type="number" domain={UNIT} tickCount={6} width={56} label={{ value: y, angle: -90, position: "insideLeft", offset: 0, style: { textAnchor: "middle" } }} />
        <Tooltip formatter={(value) => formatNumber(Number(value))} labelFormatter={(value) => `${x} ${formatNumber(Number(value))}`} />
        <Legend verticalAlign="top" height={24} />
        {chance && <ReferenceLine segment={[{ x: 0, y: 0 }, { x: 1, y: 1 }]} stroke="var(--outputs-muted)" strokeDasharray="4 4" />}
        {series.map((s) => (
          <Line key={s.name} data={s.points} type="linear" dataKey="y" name={s.name} stroke={s.color} dot={false} strokeWidth={2} isAnimationActive={false} />
        ))}
      </LineChart>
    </ChartFigure>
  );
}

/** A chart with its visible title; the chart's SVG (keyboard-focusable, recharts moves its
 * tooltip with the arrow keys) is named by the title and described by `summary`. */
function ChartFigure({ title, summary, children }: { title: string; summary: string; children: ReactElement<{ title?: string; desc?: string }> }) {
  return (
    <figure className="outputs-figure">
      <figcaption>{title}</figcaption>
      <div className="outputs-chart">
        <ResponsiveContainer width="100%" height="100%">
          {cloneElement(children, { title, desc: summary })}
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

function CurveChart({ title, points, x, y, color, chance, unitY = true }: { title: string; points: Point[]; x: string; y: string; color: string; chance?: [Point, Point]; unitY?: boolean }) {
  return (
    <ChartFigure title={title} summary={`${y} against ${x.toLowerCase()}, ${points.length} points`}>
      <LineChart data={points} margin={{ top: 8, right: 16, bottom: 24, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis type="number" dataKey="x" domain={UNIT} tickCount={6} label={{ value: x, position: "insideBottom", offset: -12 }} />
        <YAxis type="number" domain={unitY ? UNIT : [0, "auto"]} tickCount={6} width={56} label={{ value: y, angle: -90, position: "insideLeft", offset: 0, style: { textAnchor: "middle" } }} />
        <Tooltip formatter={(value) => formatNumber(Number(value))} labelFormatter={(value) => `${x} ${formatNumber(Number(value))}`} />
        {chance && <ReferenceLine segment={chance} stroke="var(--outputs-muted)" strokeDasharray="4 4" />}
        <Line type="linear" dataKey="y" name={y} stroke={color} dot={false} strokeWidth={2} isAnimationActive={false} />
      </LineChart>
    </ChartFigure>
  );
}

/** The scored labels a two-class model would give at another threshold: a slider over the
 * ROC curve's thresholds, with the confusion counts and metrics at the chosen one. */
function ThresholdSlider({ table }: { table: AtThreshold[] }) {
  // Thresholds come highest first; the slider goes from low to high.
  const ordered = [...table].reverse();
  const [index, setIndex] = useState(() => {
    const half = ordered.findIndex((row) => row.threshold >= 0.5);
    return half === -1 ? ordered.length - 1 : half;
  });
  const row = ordered[Math.min(index, ordered.length - 1)];
  return (
    <figure className="outputs-figure threshold-slider">
      <figcaption>Threshold</figcaption>
      <label>
        <span>Rows scoring at least <strong>{formatNumber(row.threshold)}</strong> are positive</span>
        <input
          type="range" min={0} max={ordered.length - 1} step={1} value={index} aria-label="Threshold"
          onChange={(e) => setIndex(Number(e.target.value))}
        />
      </label>
      <table className="outputs-metrics" aria-label="Metrics at the threshold">
        <tbody>
          <tr><th scope="row">True positives</th><td>{row.truePositives}</td><th scope="row">False positives</th><td>{row.falsePositives}</td></tr>
          <tr><th scope="row">False negatives</th><td>{row.falseNegatives}</td><th scope="row">True negatives</th><td>{row.trueNegatives}</td></tr>
          <tr><th scope="row">Accuracy</th><td>{formatNumber(row.accuracy)}</td><th scope="row">Precision</th><td>{formatNumber(row.precision)}</td></tr>
          <tr><th scope="row">Recall</th><td>{formatNumber(row.recall)}</td><th scope="row">F1 score</th><td>{formatNumber(row.f1)}</td></tr>
        </tbody>
      </table>
    </figure>
  );
}

function ScatterPlot({
  title, points, x, y, color, line, lineLabel, zeroLine,
}: { title: string; points: Point[]; x: string; y: string; color: string; line?: [Point, Point] | null; lineLabel?: string; zeroLine?: boolean }) {
  return (
    <ChartFigure title={title} summary={`${points.length} points${lineLabel ? `, with the line of ${lineLabel}` : ""}`}>
      <ScatterChart margin={{ top: 8, right: 16, bottom: 24, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis type="number" dataKey="x" name={x} domain={["auto", "auto"]} tickFormatter={(v) => formatNumber(Number(v))} label={{ value: x, position: "insideBottom", offset: -12 }} />
        <YAxis type="number" dataKey="y" name={y} domain={["auto", "auto"]} width={64} tickFormatter={(v) => formatNumber(Number(v))} label={{ value: y, angle: -90, position: "insideLeft", offset: 0, style: { textAnchor: "middle" } }} />
        <Tooltip formatter={(value) => formatNumber(Number(value))} cursor={{ strokeDasharray: "3 3" }} />
        {line && <ReferenceLine segment={line} stroke="var(--outputs-muted)" strokeDasharray="4 4" ifOverflow="extendDomain" />}
        {zeroLine && <ReferenceLine y={0} stroke="var(--outputs-muted)" strokeDasharray="4 4" />}
        <Scatter data={points} fill={color} fillOpacity={0.6} isAnimationActive={false} />
      </ScatterChart>
    </ChartFigure>
  );
}

/** The confusion matrix as an HTML table heat map: true classes in rows, predicted ones in
 * columns, each cell shaded by its share of the row. */
function ConfusionTable({ confusion }: { confusion: ConfusionMatrix }) {
  const rows = confusionHeat(confusion);
  return (
    <figure className="outputs-figure outputs-figure-table">
      <figcaption>Confusion matrix</figcaption>
      <div className="outputs-scroll">
        <table className="outputs-table outputs-confusion">
          <caption className="outputs-visually-hidden">Rows are the true classes, columns the predicted classes; each cell counts rows and gives their share of the true class</caption>
          <thead>
            <tr>
              <td />
              <th scope="colgroup" colSpan={confusion.labels.length}>
                Predicted
              </th>
            </tr>
            <tr>
              <th scope="col">Actual</th>
              {confusion.labels.map((label) => (
                <th key={label} scope="col">
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.label}>
                <th scope="row">{row.label}</th>
                {row.cells.map((cell, j) => (
                  <td
                    key={j}
                    className="outputs-number"
                    // At most 70% of the series colour, so the dark count stays readable (AA) on every shade.
                    style={{ backgroundColor: `color-mix(in srgb, var(--outputs-series-1) ${Math.round(cell.share * 70)}%, transparent)` }}
                  >
                    {cell.count.toLocaleString("en")}
                    <span className="outputs-share"> ({Math.round(cell.share * 100)}%)</span>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

function Clusters({ clusters, color }: { clusters: ClusterSummary[]; color: string }) {
  const data = clusters.map((c) => ({ label: `Cluster ${c.cluster}`, points: c.points ?? 0 }));
  return (
    <>
      <ChartFigure title="Points per cluster" summary={data.map((d) => `${d.label}: ${d.points}`).join(", ")}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" />
          <YAxis allowDecimals={false} width={48} />
          <Tooltip />
          <Bar dataKey="points" fill={color} isAnimationActive={false} />
        </BarChart>
      </ChartFigure>
      <table className="outputs-table">
        <caption className="outputs-caption">Distances by cluster</caption>
        <thead>
          <tr>
            {["Cluster", "Points", "Mean distance to center", "Largest distance to center", "Mean distance to other centers"].map((h, i) => (
              <th key={h} scope="col" className={i ? "outputs-number" : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {clusters.map((c) => (
            <tr key={c.cluster}>
              <th scope="row">{c.cluster}</th>
              <td className="outputs-number">{formatNumber(c.points)}</td>
              <td className="outputs-number">{formatNumber(c.mean_distance_to_center)}</td>
              <td className="outputs-number">{formatNumber(c.max_distance_to_center)}</td>
              <td className="outputs-number">{formatNumber(c.mean_distance_to_other_centers)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
