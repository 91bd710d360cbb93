/** What a module's right-click menu offers, and why an item does not apply. */
import type { LiveStep } from "../runs/runState";
import { SUCCEEDED_STEP_STATUSES } from "../types";

export type NodeAction = "preview" | "visualize" | "log" | "runFrom" | "duplicate" | "delete";

export interface NodeMenuItem {
  action: NodeAction;
  label: string;
  /** Why it does not apply now; null when it does. */
  disabledBecause: string | null;
}

export interface NodeMenuContext {
  /** A run is shown in the editor. */
  hasRun: boolean;
  /** That run is still going. */
  runActive: boolean;
  /** The node's step in that run (absent: added since, or no run). */
  step: LiveStep | undefined;
}

export function nodeMenuItems({ hasRun, runActive, step }: NodeMenuContext): NodeMenuItem[] {
  const noStep = !hasRun ? "no run yet: run the pipeline first" : !step ? "not in the run shown (added since)" : null;
  const noOutputs =
    noStep ??
    (SUCCEEDED_STEP_STATUSES.includes(step!.status)
      ? null
      : ["queued", "preparing", "running"].includes(step!.status)
        ? "its step has not finished"
        : `its step ${step!.status === "failed" ? "failed" : `was ${step!.status}`}: no outputs`);
  return [
    { action: "preview", label: "Preview data", disabledBecause: noOutputs },
    { action: "visualize", label: "Visualize", disabledBecause: noOutputs },
    { action: "log", label: "View log", disabledBecause: noStep },
    { action: "runFrom", label: "Run from here", disabledBecause: noStep ?? (runActive ? "the run is still going" : null) },
    { action: "duplicate", label: "Duplicate", disabledBecause: null },
    { action: "delete", label: "Delete", disabledBecause: null },
  ];
}
