/**
 * A run as the canvas shows it, folded from the REST detail and the WebSocket's messages
 * (a snapshot, then sequence-numbered events). An event at or below the last applied
 * sequence number is a duplicate from a reconnect and is dropped, so a stale event never
 * overwrites a final state.
 */
import {
  STARTED_STEP_STATUSES, type OutputInfo, type RunDetail, type RunMessage, type RunStatus, type StepError, type StepStatus, type StepWaiting,
} from "../types";

export interface LiveStep {
  status: StepStatus;
  reused: boolean;
  reusedFrom: string | null;
  durationS: number | null;
  error: StepError | null;
  /** What it waits for while queued or preparing (the server says; null: nothing known). */
  waiting: StepWaiting | null;
  progress: { fraction: number; message: string } | null;
  metrics: Record<string, number | null>;
}

export interface LiveRun {
  id: string;
  status: RunStatus;
  seq: number;
  steps: Record<string, LiveStep>;
  /** Log lines received live, per node (older lines are fetched from the API). */
  logs: Record<string, string[]>;
  /** Each finished step's outputs (port -> type, rows, schema), from the REST detail. */
  outputs: Record<string, Record<string, OutputInfo>>;
}

const MAX_LOG_LINES = 5000;

function emptyStep(): LiveStep {
  return { status: "queued", reused: false, reusedFrom: null, durationS: null, error: null, waiting: null, progress: null, metrics: {} };
}

export function runFromDetail(detail: RunDetail): LiveRun {
  const steps: Record<string, LiveStep> = {};
  const outputs: Record<string, Record<string, OutputInfo>> = {};
  for (const step of detail.steps) {
    outputs[step.node] = step.outputs ?? {};
    steps[step.node] = {
      status: step.status,
      reused: step.reused,
      reusedFrom: step.reused_from,
      durationS: step.duration_s,
      error: step.error,
      waiting: null, // the socket's snapshot, which follows, says
      progress: null,
      metrics: step.metrics ?? {},
    };
  }
  return { id: detail.id, status: detail.status, seq: detail.last_seq, steps, logs: {}, outputs };
}

export function applyRunMessage(run: LiveRun, message: RunMessage): LiveRun {
  if (message.type === "snapshot") {
    const steps: Record<string, LiveStep> = {};
    for (const [node, state] of Object.entries(message.steps)) {
      steps[node] = {
        ...(run.steps[node] ?? emptyStep()),
        status: state.status,
        reused: state.reused,
        durationS: state.duration_s,
        error: state.error,
        waiting: state.waiting,
      };
    }
    return { ...run, status: message.run.status, seq: message.seq, steps };
  }
  if (message.seq <= run.seq) return run;
  const next = { ...run, seq: message.seq };
  switch (message.type) {
    case "run_status":
      return { ...next, status: message.status };
    case "step_status": {
      const before = run.steps[message.node] ?? emptyStep();
      const finished = !STARTED_STEP_STATUSES.includes(message.status);
      return {
        ...next,
        steps: {
          ...run.steps,
          [message.node]: {
            ...before,
            status: message.status,
            reused: message.reused,
            reusedFrom: message.reused_from,
            durationS: message.duration_s,
            error: message.error,
            waiting: message.waiting,
            progress: finished ? null : before.progress,
          },
        },
      };
    }
    case "step_progress": {
      const before = run.steps[message.node] ?? emptyStep();
      return {
        ...next,
        steps: { ...run.steps, [message.node]: { ...before, progress: { fraction: message.fraction, message: message.message } } },
      };
    }
    case "step_metric": {
      const before = run.steps[message.node] ?? emptyStep();
      return {
        ...next,
        steps: { ...run.steps, [message.node]: { ...before, metrics: { ...before.metrics, [message.name]: message.value } } },
      };
    }
    case "step_log": {
      const lines = [...(run.logs[message.node] ?? []), ...message.lines].slice(-MAX_LOG_LINES);
      return { ...next, logs: { ...run.logs, [message.node]: lines } };
    }
  }
}

/** A WebSocket message, checked enough that a malformed one is dropped instead of breaking the view. */
export function parseRunMessage(text: string): RunMessage | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!data || typeof data !== "object") return null;
  const message = data as { type?: unknown; seq?: unknown; node?: unknown };
  if (typeof message.seq !== "number") return null;
  switch (message.type) {
    case "snapshot":
      return "steps" in message && "run" in message ? (data as RunMessage) : null;
    case "run_status":
      return "status" in message ? (data as RunMessage) : null;
    case "step_status":
    case "step_log":
    case "step_progress":
    case "step_metric":
      return typeof message.node === "string" ? (data as RunMessage) : null;
    default:
      return null;
  }
}

/** "Queued: waiting for its inputs", in the words of a user who does not know the machinery. */
export const WAITING_LABEL: Record<StepWaiting, string> = {
  inputs: "waiting for its inputs",
  slot: "waiting for a free slot (other modules are running)",
  worker: "waiting for a worker to take it",
  step_server: "starting the step server",
  environment: "building its environment",
};

export const STATUS_LABEL: Record<StepStatus, string> = {
  queued: "Queued",
  preparing: "Preparing",
  running: "Running",
  completed: "Completed",
  reused: "Reused",
  failed: "Failed",
  cancelled: "Cancelled",
  skipped: "Skipped",
};
