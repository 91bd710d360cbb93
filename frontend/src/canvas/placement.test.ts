import { describe, expect, it } from "vitest";
import { DEFAULT_SIZE, freeSpot, type Placed } from "./placement";

const at = (x: number, y: number, selected = false): Placed => ({ position: { x, y }, selected, measured: DEFAULT_SIZE });

describe("freeSpot", () => {
  it("uses the fallback on an empty canvas", () => {
    expect(freeSpot([], { x: 5, y: 6 })).toEqual({ x: 5, y: 6 });
  });

  it("goes below the selected module", () => {
    expect(freeSpot([at(0, 0, true), at(0, 400)], { x: 0, y: 0 })).toEqual({ x: 0, y: 120 });
  });

  it("goes below the lowest module when none is selected", () => {
    expect(freeSpot([at(0, 0), at(300, 200)], { x: 0, y: 0 })).toEqual({ x: 300, y: 320 });
  });

  it("never lands on another module: added three times, three places", () => {
    const nodes = [at(0, 0, true)];
    const spots = [];
    for (let i = 0; i < 3; i++) {
      const spot = freeSpot(nodes, { x: 0, y: 0 });
      spots.push(spot);
      nodes.push({ position: spot, measured: DEFAULT_SIZE });
    }
    expect(spots).toEqual([{ x: 0, y: 120 }, { x: 240, y: 120 }, { x: 480, y: 120 }]);
  });
});
