import { describe, expect, it } from "vitest";
import { DEFAULT_SIZE, freeSpot, type Placed } from "./placement";

const at = (x: number, y: number, selected = false): Placed => ({ position: { x, y }, selected, measured: DEFAULT_SIZE });

describe("freeSpot", () => {
  it("uses the fallback on an empty canvas", () => {
    expect(freeSpot([], { x: 5, y: 6 })).toEqual({ x: 5, y: 6 });
  });

  it("goes below the selected module, by its measured size when it is larger", () => {
    const tall = { position: { x: 0, y: 0 }, selected: true, measured: { width: 220, height: 300 } };
    expect(freeSpot([tall], { x: 0, y: 0 })).toEqual({ x: 0, y: 340 });
    expect(freeSpot([at(0, 0, true), at(0, 400)], { x: 0, y: 0 })).toEqual({ x: 0, y: 150 });
  });

  it("goes below the lowest module when none is selected", () => {
    expect(freeSpot([at(0, 0), at(300, 200)], { x: 0, y: 0 })).toEqual({ x: 300, y: 350 });
  });

  it("never lands on another module: added three times, three places", () => {
    const nodes = [at(0, 0, true)];
    const spots = [];
    for (let i = 0; i < 3; i++) {
      const spot = freeSpot(nodes, { x: 0, y: 0 });
      spots.push(spot);
      nodes.push({ position: spot, measured: DEFAULT_SIZE });
    }
    expect(spots).toEqual([{ x: 0, y: 150 }, { x: 260, y: 150 }, { x: 520, y: 150 }]);
  });
});
