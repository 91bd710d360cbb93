/** The editor's toolbar: pipeline name, save state, undo/redo, layout, export/import, run
 * (at once, or with options from its menu). */
import { useRef, useState } from "react";
import { api } from "../api";
import { flushDraft, useDraft, type SaveStatus } from "../drafts/autosave";
import { useRunView } from "../runs/runStore";
import { TERMINAL_RUN_STATUSES } from "../types";
import { navigate } from "../ui/router";
import { useToasts } from "../ui/toasts";
import { useEditor } from "./store";

const SAVE_LABEL: Record<SaveStatus, string> = {
  saved: "All changes saved",
  pending: "Unsaved changes (kept in this browser)",
  saving: "Saving…",
  conflict: "Not saved: changed elsewhere",
  error: "Not saved",
};

export function Toolbar({
  pipelineId,
  loaded,
  onRun,
  onRunWithOptions,
  onLayout,
  onFit,
  onShortcuts,
}: {
  pipelineId: number;
  /** The pipeline is loaded: before, there is nothing to run. */
  loaded: boolean;
  /** Run at once with the last run's compute and parameters. */
  onRun(): void;
  /** The dialog: compute, parameters, force rerun. */
  onRunWithOptions(): void;
  onLayout(): void;
  onFit(): void;
  onShortcuts(): void;
}) {
  const name = useEditor((s) => s.meta.name);
  const change = useEditor((s) => s.change);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const undo = useEditor((s) => s.undo);
  const redo = useEditor((s) => s.redo);
  const status = useDraft((s) => s.status);
  const version = useDraft((s) => s.baseVersion);
  const running = useRunView((s) => !!s.run && !TERMINAL_RUN_STATUSES.includes(s.run.status));
  const toast = useToasts((s) => s.push);
  const fileInput = useRef<HTMLInputElement>(null);
  const [exportOpen, setExportOpen] = useState(false);
  const [runMenuOpen, setRunMenuOpen] = useState(false);

  const exportAs = async (format: "yaml" | "json") => {
    setExportOpen(false);
    const problem = await flushDraft();
    if (problem) return toast("error", problem);
    // The saved version is the file: the download is exactly what a run would use.
    window.location.assign(api.pipelines.exportUrl(pipelineId, format));
  };

  const importFile = async (file: File) => {
    try {
      const pipeline = await api.pipelines.importFile(file);
      toast("info", `Imported as a new pipeline: ${pipeline.name}.`);
      navigate(`/pipelines/${pipeline.id}/`);
    } catch (e) {
      toast("error", `The file could not be imported: ${(e as Error).message}`);
    } finally {
      if (fileInput.current) fileInput.current.value = "";
    }
  };

  return (
    <header className="toolbar" role="toolbar" aria-label="Pipeline toolbar">
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
      <input
        className="pipeline-name"
        aria-label="Pipeline name"
        value={name}
        onChange={(e) => change((s) => ({ meta: { ...s.meta, name: e.target.value } }), "name")}
      />
      <span className={`save-status save-${status}`} aria-live="polite" aria-label="Save status" data-status={status}>
        {SAVE_LABEL[status]}
        {status === "saved" && version ? ` (version ${version})` : ""}
      </span>
      <span className="spacer" />
      <button type="button" onClick={undo} disabled={!canUndo} aria-label="Undo" title="Undo (Ctrl+Z)">
        ↶
      </button>
      <button type="button" onClick={redo} disabled={!canRedo} aria-label="Redo" title="Redo (Ctrl+Shift+Z)">
        ↷
      </button>
      <button type="button" onClick={onLayout} title="Auto-layout (L)">
        Auto-layout
      </button>
      <button type="button" onClick={onFit} title="Zoom to fit (F)">
        Zoom to fit
      </button>
      <div className="menu">
        <button type="button" aria-haspopup="menu" aria-expanded={exportOpen} onClick={() => setExportOpen(!exportOpen)}>
          Export ▾
        </button>
        {exportOpen && (
          <div role="menu" className="menu-items" aria-label="Export the pipeline file">
            <button type="button" role="menuitem" onClick={() => void exportAs("yaml")}>
              Pipeline file (YAML)
            </button>
            <button type="button" role="menuitem" onClick={() => void exportAs("json")}>
              Pipeline file (JSON)
            </button>
          </div>
        )}
      </div>
      <label className="button">
        Import…
        <input
          ref={fileInput}
          type="file"
          accept=".yaml,.yml,.json"
          className="visually-hidden"
          aria-label="Import a pipeline file"
          onChange={(e) => e.target.files?.[0] && void importFile(e.target.files[0])}
        />
      </label>
      <button type="button" onClick={onShortcuts} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
        ⌨
      </button>
      {/* In a new tab: the editor's unsaved state stays where it is. */}
      <a className="button" href="/api/docs/" target="_blank" rel="noopener" title="The REST API's reference (OpenAPI), for scripts">
        API docs
      </a>
      <div className="menu split-button">
        <button type="button" className="primary" onClick={onRun} disabled={running || !loaded} aria-label="Run pipeline"
          title="Run with the last run's compute and parameters">
          {running ? "Running…" : "Run"}
        </button>
        <button type="button" className="primary" aria-label="More ways to run" aria-haspopup="menu" aria-expanded={runMenuOpen}
          disabled={running || !loaded} onClick={() => setRunMenuOpen(!runMenuOpen)}>
          ▾
        </button>
        {runMenuOpen && (
          <div role="menu" className="menu-items" aria-label="Run">
            <button type="button" role="menuitem" onClick={() => { setRunMenuOpen(false); onRunWithOptions(); }}>
              Run with options…
            </button>
          </div>
        )}
      </div>
    </header>
  );
}
