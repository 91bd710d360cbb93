/**
 * The outputs panel of a step run: a tab per output port (tables with a paged, sortable
 * preview and per-column statistics; other artifacts with their metadata), Evaluate
 * Model's metrics and charts, other metrics, the images the step wrote, and a download
 * for every artifact. Everything comes from the runs API (designer/runs/views.py).
 */
import { useMemo, useState } from "react";
import { api } from "../api";
import { SUCCEEDED_STEP_STATUSES, type StepRun } from "../types";
import { Evaluation, MetricsTable } from "./Evaluation";
import { Images } from "./Images";
import { PortOutput } from "./PortOutput";
import { RunLog } from "./RunLog";
import { parseRunLog } from "./runLog";
import { Tabs, type Tab } from "./Tabs";
import { splitEvaluation } from "./transforms";
import { useRequest } from "./useRequest";
import "./outputs.css";

/** Steps in these states never will. */
const NO_OUTPUTS: Record<string, string> = { failed: "failed", cancelled: "was cancelled", skipped: "was skipped" };
const EVALUATE_MODEL = "evaluate_model";
const EVALUATION_TAB = "@evaluation";
const METRICS_TAB = "@metrics";
const IMAGES_TAB = "@images";

export interface OutputsPanelProps {
  runId: string;
  node: string;
  /** The step run as the runs API returns it (RunDetail.steps[]). */
  step: StepRun;
}

export function OutputsPanel({ runId, node, step }: OutputsPanelProps) {
  if (!SUCCEEDED_STEP_STATUSES.includes(step.status)) {
    return (
      <section className="outputs-panel" aria-label={`Outputs of ${node}`}>
        <p className="outputs-note">
          {step.status in NO_OUTPUTS
            ? `${node} has no outputs: it ${NO_OUTPUTS[step.status]}.`
            : `${node} is ${step.status}; its outputs appear when it completes.`}
        </p>
      </section>
    );
  }
  // Keyed by run and node so a newly selected step starts on its own first tab.
  return <CompletedOutputs key={`${runId}/${node}`} runId={runId} node={node} step={step} />;
}

function CompletedOutputs({ runId, node, step }: OutputsPanelProps) {
  const isEvaluation = step.module === EVALUATE_MODEL;
  const hasMetrics = Object.keys(step.metrics).length > 0;
  const tabs: Tab[] = [
    ...(isEvaluation && hasMetrics ? [{ id: EVALUATION_TAB, label: "Evaluation" }] : []),
    ...Object.keys(step.outputs).map((port) => ({ id: port, label: port })),
    ...(!isEvaluation && hasMetrics ? [{ id: METRICS_TAB, label: "Metrics" }] : []),
    ...(step.has_images ? [{ id: IMAGES_TAB, label: "Images" }] : []),
  ];
  const [selected, setSelected] = useState(tabs[0]?.id ?? "");
  const needsMetrics = selected === EVALUATION_TAB || selected === METRICS_TAB || selected === IMAGES_TAB;

  if (!tabs.length) {
    return (
      <section className="outputs-panel" aria-label={`Outputs of ${node}`}>
        <p className="outputs-note">{node} has no outputs.</p>
      </section>
    );
  }
  return (
    <section className="outputs-panel" aria-label={`Outputs of ${node}`}>
      <Tabs tabs={tabs} selected={selected} onSelect={setSelected} label={`Outputs of ${node}`}>
        {needsMetrics ? (
          <MetricsTabs runId={runId} node={node} tab={selected} />
        ) : (
          // Keyed by port: another table starts on its first page, unsorted.
          <PortOutput key={selected} runId={runId} node={node} port={selected} info={step.outputs[selected]} />
        )}
      </Tabs>
    </section>
  );
}

/** The tabs that read the step's metrics endpoint: evaluation, metrics and images. */
function MetricsTabs({ runId, node, tab }: { runId: string; node: string; tab: string }) {
  const { data, error } = useRequest(() => api.runs.metrics(runId, node), `${runId}/${node}`);
  const evaluations = useMemo(() => (data ? splitEvaluation(data.metrics, data.visuals) : []), [data]);
  const runLog = useMemo(() => (data ? parseRunLog(data.visuals) : null), [data]);
  if (error) {
    return (
      <p role="alert" className="outputs-error">
        The step's metrics could not be loaded: {error}
      </p>
    );
  }
  if (!data) return <p className="outputs-note">Loading…</p>;
  if (tab === IMAGES_TAB) return <Images runId={runId} node={node} names={data.images} />;
  return (
    <>
      {data.warnings.length > 0 && (
        <ul className="outputs-warnings" aria-label="Warnings">
          {data.warnings.map((warning, i) => (
            <li key={i}>{warning}</li>
          ))}
        </ul>
      )}
      {tab === EVALUATION_TAB ? <Evaluation runId={runId} node={node} evaluations={evaluations} /> : <MetricsTable evaluations={evaluations} />}
      {tab === METRICS_TAB && runLog && <RunLog log={runLog} />}
    </>
  );
}
