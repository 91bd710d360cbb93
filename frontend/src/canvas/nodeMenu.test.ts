import { describe, expect, it } from "vitest";
import type { LiveStep } from "../runs/runState";
import type { StepStatus } from "../types";
import { nodeMenuItems, type NodeMenuContext } from "./nodeMenu";

const step = (status: StepStatus) => ({ status }) as LiveStep;
const why = (context: Partial<NodeMenuContext>) =>
  Object.fromEntries(
    nodeMenuItems({ hasRun: true, runActive: false, step: step("completed"), ...context }).map((i) => [i.action, i.disabledBecause]),
  );

describe("nodeMenuItems", () => {
  it("offers everything for a completed step of a finished run", () => {
    expect(Object.values(why({})).every((reason) => reason === null)).toBe(true);
  });

  it("says why the run's items do not apply before any run", () => {
    const reasons = why({ hasRun: false, step: undefined });
    expect(reasons.preview).toBe("no run yet: run the pipeline first");
    expect(reasons.log).toBe("no run yet: run the pipeline first");
    expect(reasons.runFrom).toBe("no run yet: run the pipeline first");
    expect([reasons.duplicate, reasons.delete]).toEqual([null, null]);
  });

  it("tells a node added since the run from a step with no outputs", () => {
    expect(why({ step: undefined }).visualize).toBe("not in the run shown (added since)");
    expect(why({ step: step("running"), runActive: true }).preview).toBe("its step has not finished");
    expect(why({ step: step("running"), runActive: true }).runFrom).toBe("the run is still going");
    expect(why({ step: step("failed") }).preview).toBe("its step failed: no outputs");
    expect(why({ step: step("cancelled") }).preview).toBe("its step was cancelled: no outputs");
    expect(why({ step: step("reused") }).preview).toBeNull();
    expect(why({ step: step("failed") }).log).toBeNull();
  });
});
