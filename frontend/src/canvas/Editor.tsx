/**
 * The pipeline editor page: toolbar, palette, canvas, inspector and run panel. It opens a
 * saved pipeline (restoring unsaved local edits), saves as the user works, validates on
 * the server as the graph changes, and submits and follows runs.
 */
import { ReactFlowProvider, useReactFlow, type XYPosition } from "@xyflow/react";
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { closeDraft, flushDraft, openDraft, resolveConflict, retrySave, useDraft } from "../drafts/autosave";
import { Inspector } from "../inspector/Inspector";
import { Palette, type PaletteDrop } from "../palette/Palette";
import { RunDialog } from "../runs/RunDialog";
import { RunPanel } from "../runs/RunPanel";
import { lastUsedOptions, type RunOptions } from "../runs/runOptions";
import { useRunView } from "../runs/runStore";
import { useRunSocket } from "../runs/useRunSocket";
import { TERMINAL_RUN_STATUSES, type GraphError, type ModuleSpec, type RunDetail } from "../types";
import { ErrorBoundary } from "../ui/ErrorBoundary";
import { navigate } from "../ui/router";
import { useToasts } from "../ui/toasts";
import { Canvas, FIT_VIEW } from "./Canvas";
import { isLaidOut } from "./graph";
import { insertion } from "./insertIntoWire";
import { autoLayout } from "./layout";
import { NodeMenu, type NodeMenuAt } from "./NodeMenu";
import { nodeMenuItems, type NodeAction } from "./nodeMenu";
import { DEFAULT_SIZE, freeSpot } from "./placement";
import { connectionProblem } from "./ports";
import { ShortcutHelp, useShortcuts } from "./shortcuts";
import { useEditor } from "./store";
import { Toolbar } from "./Toolbar";

const VALIDATE_DELAY_MS = 500;

export function describeError(e: GraphError): string {
  const where = [e.node, e.port ?? e.param].filter(Boolean).join(" · ");
  return where ? `${where}: ${e.message}` : e.message;
}

// How near (on screen) a free input must be to the drop point for a dropped module to be wired to it.
const WIRE_DISTANCE_PX = 120;

/** A module dropped just above a free input that takes one of its outputs (outputs are at
 * a module's bottom, inputs at the top) is wired to it, the nearest such input: one drag
 * instead of a drag and a wiring. */
function wireToNearbyInput(id: string, at: { x: number; y: number }) {
  const { nodes, edges, specs, connect } = useEditor.getState();
  const outputs = specs[nodes.find((n) => n.id === id)?.data.module ?? ""]?.outputs ?? [];
  let best: { distance: number; output: string; target: string; input: string } | null = null;
  for (const handle of document.querySelectorAll<HTMLElement>(".react-flow__handle.target")) {
    const box = handle.getBoundingClientRect();
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const distance = Math.hypot(centre.x - at.x, centre.y - at.y);
    if (centre.y <= at.y || distance > WIRE_DISTANCE_PX || (best && distance >= best.distance)) continue;
    const target = handle.dataset.nodeid ?? "";
    const input = handle.dataset.handleid ?? "";
    // The same rules as a wire drawn by hand: the type, a free input (or a Web Service Input beside its data), no cycle.
    const output = outputs.find(
      (p) => connectionProblem({ source: id, sourceHandle: p.name, target, targetHandle: input }, nodes, edges, specs) === null,
    );
    if (output) best = { distance, output: output.name, target, input };
  }
  if (best) connect(id, best.output, best.target, best.input);
}

/** A module dropped onto a wire goes into it (see insertIntoWire.ts); false when there is
 * no wire under the drop point, or the module cannot go into it. */
function insertIntoWireAt(id: string, at: { x: number; y: number }): boolean {
  const { nodes, edges, specs, insertIntoEdge } = useEditor.getState();
  for (const element of document.elementsFromPoint(at.x, at.y)) {
    const edgeId = element.closest<SVGElement>(".react-flow__edge")?.dataset.id;
    const edge = edgeId ? edges.find((e) => e.id === edgeId) : undefined;
    const how = edge ? insertion(id, edge, nodes, edges, specs) : null;
    if (edge && how) {
      insertIntoEdge(id, edge.id, how.input, how.output);
      return true;
    }
  }
  return false;
}

export function EditorPage({ pipelineId, modules }: { pipelineId: number; modules: ModuleSpec[] }) {
  return (
    <ReactFlowProvider>
      <Editor pipelineId={pipelineId} modules={modules} />
    </ReactFlowProvider>
  );
}

function Editor({ pipelineId, modules }: { pipelineId: number; modules: ModuleSpec[] }) {
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [runDialog, setRunDialog] = useState<{ problems: string[]; initial: RunOptions } | null>(null);
  const [showShortcuts, setShowShortcuts] = useState(false);
  const [menu, setMenu] = useState<NodeMenuAt | null>(null);
  const [unplaced, setUnplaced] = useState(false);
  const runId = useRunView((s) => s.run?.id ?? null);
  const revision = useEditor((s) => s.revision);
  const selectedNode = useEditor((s) => {
    const selected = s.nodes.filter((n) => n.selected);
    return selected.length === 1 ? selected[0].id : null;
  });
  const { screenToFlowPosition, flowToScreenPosition, setCenter, getZoom, fitView } = useReactFlow();
  const toast = useToasts((s) => s.push);
  const canvasBox = useRef<HTMLDivElement>(null);
  const starting = useRef(false);

  useRunSocket(runId);

  useEffect(() => {
    let cancelled = false;
    useRunView.getState().show(null);
    api.pipelines.get(pipelineId).then(
      (detail) => {
        if (cancelled) return;
        const outcome = openDraft(detail);
        // A file without a layout (a sample, one written by hand) opens laid out; restored
        // local edits always carry their places.
        setUnplaced(outcome === "loaded" && !isLaidOut(detail.document));
        if (outcome === "restored") toast("info", "Your unsaved changes were restored.");
        // Nodes saved with an older module version open upgraded; the next save keeps that.
        if (outcome === "loaded" && detail.upgrades.length) {
          const nodes = detail.upgrades.map((u) => `${u.node} (${u.from_module} ${u.from_version ?? ""} → ${u.to_module} ${u.to_version})`);
          toast("info", `Upgraded to the current module versions, params migrated: ${nodes.join(", ")}.`);
        }
        setLoaded(true);
        // The run in the address (?run=, kept across reloads), or else this pipeline's last
        // run: its states, outputs and the columns it saw (column pickers fall back on them).
        // By id: another pipeline may have had this one's name.
        const shown = new URLSearchParams(location.search).get("run");
        const run = shown
          ? api.runs.get(shown)
          : api.runs.list({ pipeline_id: pipelineId, limit: 1 }).then((page) => (page.results[0] ? api.runs.get(page.results[0].id) : null));
        run.then((found) => !cancelled && found && useRunView.getState().show(found), () => undefined);
      },
      (e: ApiError) => !cancelled && setLoadError(e.message),
    );
    return () => {
      cancelled = true;
      closeDraft();
    };
  }, [pipelineId, toast]);

  // The server is the authority on what is wrong; it checks the graph as it changes.
  useEffect(() => {
    if (!loaded) return;
    const timer = setTimeout(() => {
      const document = useEditor.getState().document();
      api.pipelines.validate(pipelineId, { document }).then(
        // An answer about an older graph would mark problems that are gone.
        (result) => useEditor.getState().revision === revision && useEditor.getState().setValidation(result),
        () => undefined,
      );
    }, VALIDATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [revision, loaded, pipelineId]);

  // The middle of the canvas on screen (not of the run panel under it).
  const screenCentre = useCallback(() => {
    const box = canvasBox.current?.querySelector(".canvas")?.getBoundingClientRect();
    return box ? { x: box.left + box.width / 2, y: box.top + box.height / 2 } : { x: 400, y: 300 };
  }, []);

  const onAdd = useCallback(
    (drop: PaletteDrop, at?: { x: number; y: number }) => {
      const editor = useEditor.getState();
      let position: XYPosition;
      if (at) {
        // The pointer holds the node by its title, not its corner.
        const point = screenToFlowPosition(at);
        position = { x: point.x - 100, y: point.y - 20 };
      } else {
        const centre = screenToFlowPosition(screenCentre());
        position = freeSpot(editor.nodes, { x: centre.x - 100, y: centre.y - 20 });
      }
      const id = editor.addNode(drop.module, position);
      for (const [name, value] of Object.entries(drop.params ?? {})) useEditor.getState().setParam(id, name, value);
      if (at && !insertIntoWireAt(id, at)) wireToNearbyInput(id, at);
      // Placed where there was room, which may be off screen: bring it into view, at the same zoom.
      const box = canvasBox.current?.querySelector(".canvas")?.getBoundingClientRect();
      const corner = flowToScreenPosition(position);
      const far = flowToScreenPosition({ x: position.x + DEFAULT_SIZE.width, y: position.y + DEFAULT_SIZE.height });
      if (box && (corner.x < box.left || corner.y < box.top || far.x > box.right || far.y > box.bottom)) {
        void setCenter(position.x + DEFAULT_SIZE.width / 2, position.y + DEFAULT_SIZE.height / 2, { zoom: getZoom() });
      }
    },
    [screenToFlowPosition, flowToScreenPosition, setCenter, getZoom, screenCentre],
  );

  const layout = useCallback(async () => {
    const { nodes, edges, setPositions } = useEditor.getState();
    setPositions(await autoLayout(nodes, edges));
    // Once React Flow has applied the new positions.
    setTimeout(() => void fitView(FIT_VIEW), 50);
  }, [fitView]);

  useShortcuts({
    enabled: loaded,
    onHelp: () => setShowShortcuts(true),
    onFit: () => void fitView(FIT_VIEW),
    onLayout: () => void layout(),
    onSave: () => void flushDraft().then((problem) => problem && toast("error", problem)),
    screenCenter: screenCentre,
  });

  const showRun = (detail: RunDetail | null) => {
    useRunView.getState().show(detail);
    const url = new URL(location.href);
    if (detail) url.searchParams.set("run", detail.id);
    else url.searchParams.delete("run");
    history.replaceState(null, "", url);
  };

  /** The saved pipeline's problems (none: it can run) and the options Run would use, or
   * null when it could not be saved or checked (the user was told). */
  const prepareRun = async (): Promise<{ problems: string[]; initial: RunOptions } | null> => {
    const problem = await flushDraft();
    if (problem) {
      toast("error", problem);
      return null;
    }
    const document = useEditor.getState().document();
    const checked = await Promise.all([
      api.pipelines.validate(pipelineId, { document }),
      api.runs.list({ pipeline_id: pipelineId, limit: 1 }),
    ]).catch((e: ApiError) => {
      toast("error", `The pipeline could not be checked: ${e.message}`);
      return null;
    });
    if (!checked) return null;
    const [result, last] = checked;
    useEditor.getState().setValidation(result);
    return { problems: result.errors.map(describeError), initial: lastUsedOptions(document, last.results[0] ?? null) };
  };

  // Run runs at once, as last time; a graph that cannot run opens the dialog with the reasons.
  const runNow = async () => {
    // A second click while the first is being checked and submitted is not a second run.
    if (starting.current) return;
    starting.current = true;
    try {
      const prepared = await prepareRun();
      if (prepared && prepared.problems.length) setRunDialog(prepared);
      else if (prepared) await submit(prepared.initial);
    } finally {
      starting.current = false;
    }
  };

  const openRunDialog = async () => {
    const prepared = await prepareRun();
    if (prepared) setRunDialog(prepared);
  };

  const submit = async (options: RunOptions) => {
    const problem = await flushDraft();
    const initial = runDialog?.initial ?? options;
    if (problem) {
      setRunDialog({ problems: [problem], initial });
      return;
    }
    try {
      const run = await api.runs.submit({ pipeline_id: pipelineId, version: useDraft.getState().baseVersion, ...options });
      setRunDialog(null);
      showRun(run);
    } catch (e) {
      const errors = (e as ApiError).errors ?? [];
      // A refusal with graph errors marks them on the nodes too.
      const graphErrors = errors.filter((x) => "node" in x) as GraphError[];
      if (graphErrors.length) useEditor.getState().setValidation({ valid: false, errors: graphErrors });
      setRunDialog({ problems: errors.length ? errors.map((x) => describeError(x as GraphError)) : [(e as Error).message], initial });
    }
  };

  const runAction = async (action: () => Promise<unknown>, what: string) => {
    try {
      await action();
    } catch (e) {
      toast("error", `${what} failed: ${(e as Error).message}`);
    }
  };

  const closeMenu = useCallback(
    (refocus: boolean) => {
      // Escape gives the focus back to the module the menu was for.
      if (menu && refocus) document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(menu.node)}"]`)?.focus();
      setMenu(null);
    },
    [menu],
  );

  const onNodeAction = (node: string, action: NodeAction) => {
    closeMenu(false);
    const editor = useEditor.getState();
    editor.selectOnly([node]);
    if (action === "preview") useRunView.getState().showInPanel(node, "outputs");
    else if (action === "visualize") useRunView.getState().showInPanel(node, "statistics");
    else if (action === "log") useRunView.getState().showInPanel(node, "logs");
    else if (action === "runFrom" && runId) void runAction(async () => showRun(await api.runs.rerunFrom(runId, node)), "Rerunning");
    else if (action === "duplicate") {
      // As Ctrl+D: the copy beside the original, selected.
      const clip = editor.copySelection();
      if (clip) editor.paste(clip, { x: 40, y: 40 });
    } else if (action === "delete") editor.deleteSelection();
  };

  if (loadError) {
    return (
      <main className="page-message">
        <p role="alert">This pipeline could not be opened: {loadError}</p>
        <a href="/">Back to your pipelines</a>
      </main>
    );
  }

  return (
    <div className="editor">
      <Toolbar
        pipelineId={pipelineId}
        loaded={loaded}
        onRun={() => void runNow()}
        onRunWithOptions={() => void openRunDialog()}
        onLayout={() => void layout()}
        onFit={() => void fitView(FIT_VIEW)}
        onShortcuts={() => setShowShortcuts(true)}
      />
      <ConflictBanner />
      <div className="editor-body">
        <ErrorBoundary what="The palette">
          {/* Not before the pipeline is loaded: loading replaces the graph, and a module added earlier with it. */}
          <Palette modules={modules} onAdd={onAdd} readOnly={!loaded} />
        </ErrorBoundary>
        <div className="editor-center" ref={canvasBox}>
          <ErrorBoundary what="The canvas">{loaded ? <Canvas layOutOnLoad={unplaced} onNodeMenu={setMenu} /> : <p className="page-message">Loading…</p>}</ErrorBoundary>
          {runId && (
            <ErrorBoundary what="The run panel">
              <RunPanel
                selectedNode={selectedNode}
                onSelectNode={(node) => useEditor.getState().selectOnly([node])}
                onCancel={() => void runAction(() => api.runs.cancel(runId), "Cancelling")}
                onRerun={() => void runAction(async () => showRun(await api.runs.rerun(runId)), "Rerunning")}
                onRerunFrom={(node) => void runAction(async () => showRun(await api.runs.rerunFrom(runId, node)), "Rerunning")}
                onClose={() => showRun(null)}
              />
            </ErrorBoundary>
          )}
        </div>
        <ErrorBoundary what="The inspector">
          <Inspector pipelineId={pipelineId} />
        </ErrorBoundary>
      </div>
      {runDialog && (
        <RunDialog
          document={useEditor.getState().document()}
          initial={runDialog.initial}
          problems={runDialog.problems}
          onSubmit={(options) => void submit(options)}
          onClose={() => setRunDialog(null)}
        />
      )}
      {menu && (
        <NodeMenuFor menu={menu} onChoose={(action) => onNodeAction(menu.node, action)} onClose={closeMenu} />
      )}
      {showShortcuts && <ShortcutHelp onClose={() => setShowShortcuts(false)} />}
    </div>
  );
}

/** The menu of one module, its items following the run shown as it goes. */
function NodeMenuFor({ menu, onChoose, onClose }: { menu: NodeMenuAt; onChoose(action: NodeAction): void; onClose(refocus: boolean): void }) {
  const hasRun = useRunView((s) => s.run !== null);
  const runActive = useRunView((s) => !!s.run && !TERMINAL_RUN_STATUSES.includes(s.run.status));
  const step = useRunView((s) => s.run?.steps[menu.node]);
  const items = nodeMenuItems({ hasRun, runActive, step });
  return <NodeMenu menu={menu} items={items} onChoose={onChoose} onClose={onClose} />;
}

function ConflictBanner() {
  const conflict = useDraft((s) => s.conflict);
  const status = useDraft((s) => s.status);
  const error = useDraft((s) => s.error);
  const otherTab = useDraft((s) => s.otherTab);
  if (status === "error") {
    return (
      <div className="banner banner-error" role="alert">
        Your changes are kept in this browser but could not be saved: {error}{" "}
        <button type="button" onClick={retrySave}>
          Try again
        </button>
      </div>
    );
  }
  if (status !== "conflict" || !conflict) {
    return otherTab ? (
      <div className="banner banner-warning" role="status">
        This pipeline is being edited in another tab too. Saves are checked: if the other tab saves first, you will be
        asked which version to keep.
      </div>
    ) : null;
  }
  return (
    <div className="banner banner-warning" role="alert" aria-label="Save conflict">
      This pipeline was saved elsewhere (another tab or person: version {conflict.current_version}) while you were editing. Your
      edits are kept here; nothing was overwritten.{" "}
      <button type="button" onClick={() => resolveConflict("theirs")}>
        Load the saved version
      </button>{" "}
      <button type="button" className="danger" onClick={() => resolveConflict("mine")}>
        Keep my edits (overwrite)
      </button>{" "}
      <button type="button" onClick={() => navigate("/")}>
        Back to pipelines
      </button>
    </div>
  );
}
