import { describe, expect, it } from "vitest";
import { applyRunMessage, parseRunMessage, type LiveRun } from "./runState";

const start: LiveRun = { id: "r", status: "queued", seq: 0, steps: {}, logs: {}, outputs: {} };
const step = { reused: false, started_at: null, finished_at: null, duration_s: null, error: null, cache_key: null, reused_from: null, placement: null, waiting: null };

describe("live run state", () => {
  it("takes a snapshot, then events in order", () => {
    let run = applyRunMessage(start, {
      type: "snapshot", seq: 2, run: { id: "r", status: "running", created_at: 0, started_at: 0, finished_at: null },
      steps: { a: { status: "running", reused: false, started_at: 0, finished_at: null, duration_s: null, error: null, placement: {}, waiting: null } },
    });
    expect(run.steps.a.status).toBe("running");
    run = applyRunMessage(run, { type: "step_progress", seq: 3, at: 0, node: "a", fraction: 0.5, message: "half" });
    expect(run.steps.a.progress?.fraction).toBe(0.5);
    run = applyRunMessage(run, { type: "step_status", seq: 4, at: 0, node: "a", status: "reused", ...step, reused: true });
    expect(run.steps.a).toMatchObject({ status: "reused", reused: true, progress: null });
    run = applyRunMessage(run, { type: "step_log", seq: 5, at: 0, node: "a", lines: ["x", "y"] });
    expect(run.logs.a).toEqual(["x", "y"]);
  });

  it("says what a queued step waits for, until it starts", () => {
    let run = applyRunMessage(start, {
      type: "snapshot", seq: 1, run: { id: "r", status: "running", created_at: 0, started_at: 0, finished_at: null },
      steps: { a: { status: "queued", reused: false, started_at: null, finished_at: null, duration_s: null, error: null, placement: {}, waiting: "inputs" } },
    });
    expect(run.steps.a.waiting).toBe("inputs");
    run = applyRunMessage(run, { type: "step_status", seq: 2, at: 0, node: "a", status: "queued", ...step, waiting: "step_server" });
    expect(run.steps.a.waiting).toBe("step_server");
    run = applyRunMessage(run, { type: "step_status", seq: 3, at: 0, node: "a", status: "running", ...step });
    expect(run.steps.a.waiting).toBeNull();
  });

  it("drops events it has already applied (a reconnect's replay)", () => {
    let run = applyRunMessage(start, { type: "run_status", seq: 5, at: 0, status: "completed" });
    run = applyRunMessage(run, { type: "run_status", seq: 4, at: 0, status: "running" });
    expect(run.status).toBe("completed");
  });

  it("refuses malformed messages", () => {
    expect(parseRunMessage("not json")).toBeNull();
    expect(parseRunMessage('{"type": "step_log", "seq": 1}')).toBeNull();
    expect(parseRunMessage('{"type": "run_status", "seq": 1, "at": 0, "status": "failed"}')).toMatchObject({ status: "failed" });
  });
});
