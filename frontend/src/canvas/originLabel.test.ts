import { describe, expect, it } from "vitest";
import { originLabel } from "./ModuleNode";

describe("originLabel", () => {
  it("tells a memory limit from a time limit", () => {
    expect(originLabel("memory_limit")).toBe("Memory limit");
    expect(originLabel("time_limit")).toBe("Time limit");
  });

  it("says whose failure the others are", () => {
    expect(originLabel("module")).toBe("The module failed");
    expect(originLabel("infrastructure")).toBe("Infrastructure problem (not your pipeline)");
    expect(originLabel("user")).toBe("Cancelled");
  });

  it("shows an origin it does not know as it is, not the retired 'limit' as a time limit", () => {
    expect(originLabel("limit")).toBe("limit");
    expect(originLabel("quota")).toBe("quota");
  });
});
