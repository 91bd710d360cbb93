import { describe, expect, it } from "vitest";
import { BEAT_MS, beat, forgetGone, isOpenElsewhere, isOtherTabKey, leave, tabId } from "./tabs";

/** The Web Storage interface over a Map (vitest runs in Node, which has no localStorage). */
class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

describe("open tabs", () => {
  it("keeps a tab's id across reloads and gives another tab its own", () => {
    const session = new MemoryStorage();
    const id = tabId(session);
    expect(tabId(session)).toBe(id);
    expect(tabId(new MemoryStorage())).not.toBe(id);
  });

  it("tells a tab that has the pipeline open from one gone", () => {
    const shared = new MemoryStorage();
    beat(shared, 7, "a", 10_000);
    expect(isOpenElsewhere(shared, 7, "a", 10_000 + BEAT_MS)).toBe(true);
    expect(isOpenElsewhere(shared, 8, "a", 10_000)).toBe(false); // another pipeline
    expect(isOpenElsewhere(shared, 7, "a", 10_000 + 4 * BEAT_MS)).toBe(false); // crashed: stale
    leave(shared, 7, "a");
    expect(isOpenElsewhere(shared, 7, "a", 10_000)).toBe(false); // closed
  });

  it("hears only the other tabs of the same pipeline", () => {
    expect(isOtherTabKey("atelier:open:7:b", 7, "a")).toBe(true);
    expect(isOtherTabKey("atelier:open:7:a", 7, "a")).toBe(false);
    expect(isOtherTabKey("atelier:open:77:b", 7, "a")).toBe(false);
    expect(isOtherTabKey(null, 7, "a")).toBe(false);
  });

  it("forgets tabs gone long ago and nothing else", () => {
    const shared = new MemoryStorage();
    beat(shared, 1, "old", 0);
    beat(shared, 1, "new", 100_000);
    shared.setItem("atelier:draft:1", "{}");
    forgetGone(shared, 100_000);
    expect(shared.getItem("atelier:open:1:old")).toBeNull();
    expect(shared.getItem("atelier:open:1:new")).toBe("100000");
    expect(shared.getItem("atelier:draft:1")).toBe("{}");
  });
});
