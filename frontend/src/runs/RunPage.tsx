/**
 * A run's page: the graph that ran, with each node's final (or live) state, its outputs
 * and logs. Read-only: "Edit as a new draft" copies the pipeline file into a new pipeline.
 */
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { Canvas, FIT_VIEW } from "../canvas/Canvas";
import { isLaidOut } from "../canvas/graph";
import { ShortcutHelp, useShortcuts } from "../canvas/shortcuts";
import { useEditor } from "../canvas/store";
import { Inspector } from "../inspector/Inspector";
import { ErrorBoundary } from "../ui/ErrorBoundary";
import { navigate } from "../ui/router";
import { useToasts } from "../ui/toasts";
import { RunPanel } from "./RunPanel";
import { useRunView } from "./runStore";
import { useRunSocket } from "./useRunSocket";

export function RunPage({ runId }: { runId: string }) {
  return (
    <ReactFlowProvider>
      <RunView runId={runId} />
    </ReactFlowProvider>
  );
}

function RunView({ runId }: { runId: string }) {
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [unplaced, setUnplaced] = useState(false);
  const [showShortcuts, setShowShortcuts] = useState(false);
  const name = useRunView((s) => s.detail?.pipeline_name);
  const selectedNode = useEditor((s) => {
    const selected = s.nodes.filter((n) => n.selected);
    return selected.length === 1 ? selected[0].id : null;
  });
  const toast = useToasts((s) => s.push);
  const { fitView } = useReactFlow();

  useRunSocket(loaded ? runId : null);
  useShortcuts({
    enabled: loaded,
    readOnly: true,
    onHelp: () => setShowShortcuts(true),
    onFit: () => void fitView(FIT_VIEW),
    onLayout: () => undefined,
    onSave: () => undefined,
    screenCenter: () => ({ x: innerWidth / 2, y: innerHeight / 2 }),
  });

  useEffect(() => {
    let cancelled = false;
    setLoaded(false);
    api.runs.get(runId).then(
      (detail) => {
        if (cancelled) return;
        useEditor.getState().load(detail.pipeline);
        setUnplaced(!isLaidOut(detail.pipeline));
        useRunView.getState().show(detail);
        setLoaded(true);
      },
      (e: ApiError) => !cancelled && setError(e.message),
    );
    return () => {
      cancelled = true;
    };
  }, [runId]);

  const act = async (action: () => Promise<{ id: string }>, what: string) => {
    try {
      const run = await action();
      navigate(`/runs/${run.id}/`);
    } catch (e) {
      toast("error", `${what} failed: ${(e as Error).message}`);
    }
  };

  const editAsDraft = async () => {
    try {
      const copy = await api.runs.clone(runId);
      navigate(`/pipelines/${copy.pipeline_id}/`);
    } catch (e) {
      toast("error", `The pipeline could not be copied: ${(e as Error).message}`);
    }
  };

  if (error) {
    return (
      <main className="page-message">
        <p role="alert">This run could not be opened: {error}</p>
        <a href="/">Back to your pipelines</a>
      </main>
    );
  }

  return (
    <div className="editor run-page">
      <header className="toolbar" role="toolbar" aria-label="Run toolbar">
        <a
          href="/"
          className="button"
          aria-label="Back to pipelines"
          onClick={(e) => {
            e.preventDefault();
            navigate("/");
          }}
        >
          ← Pipelines
        </a>
        <h1 className="run-title">
          Run of {name ?? "…"} <span className="muted small">{runId.slice(0, 8)}</span>
        </h1>
        <span className="spacer" />
        <button type="button" onClick={() => void fitView(FIT_VIEW)}>
          Zoom to fit
        </button>
        <button type="button" onClick={() => void editAsDraft()}>
          Edit as a new draft
        </button>
      </header>
      <div className="editor-body no-palette">
        <div className="editor-center">
          <ErrorBoundary what="The canvas">{loaded ? <Canvas readOnly layOutOnLoad={unplaced} /> : <p className="page-message">Loading…</p>}</ErrorBoundary>
          <ErrorBoundary what="The run panel">
            <RunPanel
              selectedNode={selectedNode}
              onSelectNode={(node) => useEditor.getState().selectOnly([node])}
              onCancel={() =>
                void api.runs.cancel(runId).catch((e: Error) => toast("error", `Cancelling failed: ${e.message}`))
              }
              onRerun={() => void act(() => api.runs.rerun(runId), "Rerunning")}
              onRerunFrom={(node) => void act(() => api.runs.rerunFrom(runId, node), "Rerunning")}
            />
          </ErrorBoundary>
        </div>
        <ErrorBoundary what="The inspector">
          <Inspector pipelineId={null} readOnly />
        </ErrorBoundary>
      </div>
      {showShortcuts && <ShortcutHelp onClose={() => setShowShortcuts(false)} />}
    </div>
  );
}
