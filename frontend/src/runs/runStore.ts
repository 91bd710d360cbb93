/** The run shown on the canvas (live or finished), shared by the nodes, the toolbar and the panels. */
import { create } from "zustand";
import type { RunDetail, RunMessage } from "../types";
import { applyRunMessage, runFromDetail, type LiveRun } from "./runState";

/** What the run panel is asked to show of a node (from its module's menu); `at` tells one
 * request from the next for the same view. */
export interface RunPanelFocus {
  node: string;
  view: "outputs" | "statistics" | "logs";
  at: number;
}

interface RunViewState {
  run: LiveRun | null;
  /** The REST detail (step outputs, metrics), refreshed as steps finish. */
  detail: RunDetail | null;
  show(detail: RunDetail | null): void;
  refresh(detail: RunDetail): void;
  apply(message: RunMessage): void;
  /** Replace a node's live log lines with the full log fetched from the API. */
  setLogs(node: string, lines: string[]): void;
  focus: RunPanelFocus | null;
  showInPanel(node: string, view: RunPanelFocus["view"]): void;
}

export const useRunView = create<RunViewState>()((set, get) => ({
  run: null,
  detail: null,
  focus: null,
  showInPanel: (node, view) => set({ focus: { node, view, at: Date.now() } }),
  show: (detail) => set({ run: detail ? runFromDetail(detail) : null, detail }),
  refresh: (detail) => {
    const run = get().run;
    if (!run || run.id !== detail.id) return;
    // Live events may be ahead of the detail: keep the states, take the outputs.
    set({ detail, run: { ...run, outputs: runFromDetail(detail).outputs } });
  },
  apply: (message) => {
    const run = get().run;
    if (run) set({ run: applyRunMessage(run, message) });
  },
  setLogs: (node, lines) => {
    const run = get().run;
    if (run) set({ run: { ...run, logs: { ...run.logs, [node]: lines } } });
  },
}));
