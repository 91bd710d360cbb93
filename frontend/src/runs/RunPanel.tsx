/**
 * The run panel under the canvas: the run's state and its actions (cancel, rerun, rerun
 * from the selected node), and for the selected node its error, its outputs and its logs,
 * streamed live.
 */
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { api } from "../api";
import { formatSeconds, originLabel } from "../canvas/ModuleNode";
import { TERMINAL_RUN_STATUSES } from "../types";
import { STATUS_LABEL, WAITING_LABEL } from "./runState";
import { useRunView } from "./runStore";
import { graphOrder, stepCounts } from "./stepOrder";

// Tables and charts load when a step's outputs are first shown, not with the canvas.
const OutputsPanel = lazy(() => import("../outputs").then((m) => ({ default: m.OutputsPanel })));

// How long Visualize waits for the column statistics to load before it stops looking.
const STATISTICS_WAIT_MS = 10_000;

interface Props {
  selectedNode: string | null;
  onSelectNode(node: string): void;
  onCancel(): void;
  onRerun(): void;
  onRerunFrom(node: string): void;
  onClose?(): void;
}

export function RunPanel({ selectedNode, onSelectNode, onCancel, onRerun, onRerunFrom, onClose }: Props) {
  const run = useRunView((s) => s.run);
  const detail = useRunView((s) => s.detail);
  const [tab, setTab] = useState<"outputs" | "logs">("outputs");
  const [maximized, setMaximized] = useState(false);
  const panel = useRef<HTMLElement>(null);
  const focus = useRunView((s) => s.focus);
  // A module's menu asked for its outputs, statistics or log: the tab it needs; Visualize
  // gets the whole panel and its column statistics brought into view once they load.
  useEffect(() => {
    if (!focus) return;
    setTab(focus.view === "logs" ? "logs" : "outputs");
    setMaximized(focus.view === "statistics");
    if (focus.view !== "statistics" || !panel.current) return;
    const element = panel.current;
    const reveal = () => {
      const statistics = element.querySelector(".outputs-stats");
      statistics?.scrollIntoView({ block: "start" });
      return statistics !== null;
    };
    if (reveal()) return;
    const observer = new MutationObserver(() => reveal() && observer.disconnect());
    observer.observe(element, { childList: true, subtree: true });
    // A step without a table (Evaluate Model opens on its charts) never shows statistics:
    // a table tab opened much later is not scrolled to.
    const giveUp = setTimeout(() => observer.disconnect(), STATISTICS_WAIT_MS);
    return () => {
      observer.disconnect();
      clearTimeout(giveUp);
    };
  }, [focus]);
  if (!run) return null;
  const active = !TERMINAL_RUN_STATUSES.includes(run.status);
  const step = selectedNode ? run.steps[selectedNode] : undefined;
  const stepRun = detail?.steps.find((s) => s.node === selectedNode);
  // The file the run ran, not the graph being edited: that may have changed since.
  const steps = graphOrder(detail?.id === run.id ? detail.pipeline : null, Object.keys(run.steps));

  return (
    <section ref={panel} className={`run-panel${maximized ? " maximized" : ""}`} aria-label="Run">
      <header className="run-panel-header">
        <strong>Run</strong>
        <span className={`badge badge-${run.status}`} aria-label="run status" data-status={run.status}>
          {run.status}
        </span>
        <span className="muted" aria-label="step counts">
          {stepCounts(Object.values(run.steps).map((s) => s.status))}
        </span>
        <span className="spacer" />
        {active && (
          <button type="button" className="danger" onClick={onCancel}>
            Cancel run
          </button>
        )}
        {!active && (
          <button type="button" onClick={onRerun}>
            Rerun
          </button>
        )}
        {!active && selectedNode && run.steps[selectedNode] && (
          <button type="button" onClick={() => onRerunFrom(selectedNode)}>
            Rerun from {selectedNode}
          </button>
        )}
        <button type="button" aria-pressed={maximized} onClick={() => setMaximized(!maximized)}>
          {maximized ? "Show the canvas" : "Enlarge panel"}
        </button>
        <a className="button" href={`/runs/${run.id}/`} aria-label="Open the run's page">
          Run page
        </a>
        {onClose && (
          <button type="button" className="icon" aria-label="Close the run panel" onClick={onClose}>
            ×
          </button>
        )}
      </header>

      {!selectedNode || !step ? (
        <div className="run-steps">
          <p className="muted">Select a module to see its outputs and logs.</p>
          <ul aria-label="Steps">
            {steps.map((node) => (
              <li key={node}>
                <button type="button" className="link" onClick={() => onSelectNode(node)} aria-label={`Show ${node}`}>
                  {node}
                </button>{" "}
                <span className={`badge badge-${run.steps[node].status}`}>{STATUS_LABEL[run.steps[node].status]}</span>
                {run.steps[node].waiting && <span className="muted"> {WAITING_LABEL[run.steps[node].waiting!]}</span>}
                {run.steps[node].durationS != null && <span className="muted"> {formatSeconds(run.steps[node].durationS!)}</span>}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <div className="run-step">
          <div className="run-step-title">
            <strong>{selectedNode}</strong> <span className={`badge badge-${step.status}`}>{STATUS_LABEL[step.status]}</span>
            {step.waiting && <span className="muted" aria-label={`what step ${selectedNode} waits for`}> {WAITING_LABEL[step.waiting]}</span>}
            {step.reused && step.reusedFrom && <span className="muted"> outputs reused from run {step.reusedFrom.slice(0, 8)}</span>}
          </div>
          {step.error && (
            <div className="step-error" role="alert" aria-label={`error of step ${selectedNode}`}>
              <strong>{originLabel(step.error.origin ?? "module")}:</strong>{" "}
              {step.error.message}
            </div>
          )}
          <div role="tablist" aria-label="Step details" className="tabs">
            <button type="button" role="tab" aria-selected={tab === "outputs"} onClick={() => setTab("outputs")}>
              Outputs
            </button>
            <button type="button" role="tab" aria-selected={tab === "logs"} onClick={() => setTab("logs")}>
              Logs
            </button>
          </div>
          {tab === "outputs" ? (
            stepRun ? (
              // The detail is refetched as steps finish; a new one (outputs now known) starts the panel afresh.
              <Suspense fallback={<p className="muted">Loading…</p>}>
                <OutputsPanel
                  key={`${stepRun.status}:${Object.keys(stepRun.outputs).length}`}
                  runId={run.id}
                  node={selectedNode}
                  step={stepRun}
                />
              </Suspense>
            ) : (
              <p className="muted">Loading…</p>
            )
          ) : (
            <Logs runId={run.id} node={selectedNode} />
          )}
        </div>
      )}
    </section>
  );
}

function Logs({ runId, node }: { runId: string; node: string }) {
  const lines = useRunView((s) => s.run?.logs[node]);
  const setLogs = useRunView((s) => s.setLogs);
  const [error, setError] = useState<string | null>(null);
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api.runs.logs(runId, node).then(
      (logs) => setLogs(node, logs.lines),
      (e: Error) => setError(e.message),
    );
  }, [runId, node, setLogs]);
  // A block body: an effect's return value is its cleanup, and scrollIntoView() returns a
  // Promise in current Chromium, which React would then call.
  useEffect(() => {
    end.current?.scrollIntoView({ block: "nearest" });
  }, [lines?.length]);

  return (
    <div className="logs">
      {error && <p role="alert">The logs could not be read: {error}</p>}
      <pre role="log" aria-label={`Logs of ${node}`} aria-live="off">
        {(lines ?? []).join("\n") || "No log lines yet."}
      </pre>
      <div ref={end} />
    </div>
  );
}
