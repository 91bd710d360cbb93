import { describe, expect, it } from "vitest";
import { stepsSummary } from "./Home";

describe("stepsSummary", () => {
  it("counts steps, and says what was reused or failed only when something was", () => {
    expect(stepsSummary({ total: 1, reused: 0, failed: 0 })).toBe("1 step");
    expect(stepsSummary({ total: 8, reused: 8, failed: 0 })).toBe("8 steps · 8 reused");
    expect(stepsSummary({ total: 8, reused: 2, failed: 1 })).toBe("8 steps · 2 reused · 1 failed");
  });
});
