import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_TOASTS, TOAST_MS, useToasts } from "./toasts";

describe("toasts", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.runAllTimers();
    vi.useRealTimers();
  });

  it("keep a few, the newest, and a repeated one once", () => {
    const { push } = useToasts.getState();
    for (const n of [1, 2, 3, 4]) push("error", `problem ${n}`);
    push("error", "problem 3");
    expect(useToasts.getState().toasts.map((t) => t.text)).toEqual(["problem 2", "problem 4", "problem 3"]);
    expect(useToasts.getState().toasts).toHaveLength(MAX_TOASTS);
  });

  it("go by themselves, errors later than news", () => {
    const { push } = useToasts.getState();
    push("info", "saved");
    push("error", "failed");
    vi.advanceTimersByTime(TOAST_MS.info);
    expect(useToasts.getState().toasts.map((t) => t.text)).toEqual(["failed"]);
    vi.advanceTimersByTime(TOAST_MS.error - TOAST_MS.info);
    expect(useToasts.getState().toasts).toEqual([]);
  });
});
