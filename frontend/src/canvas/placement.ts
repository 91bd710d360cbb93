/**
 * Where a module added without a drop point (a click or Enter in the palette, an upload)
 * goes: below the selected module, or else below the lowest one, and never on top of
 * another module (it moves aside until it is clear).
 */
import type { XYPosition } from "@xyflow/react";

export interface Placed {
  position: XYPosition;
  selected?: boolean;
  measured?: { width?: number; height?: number };
}

// About the size ModuleNode draws with two lines of problems: a module grows once the
// server's validation has looked at it, after it was measured, so no less is assumed.
export const DEFAULT_SIZE = { width: 220, height: 110 };
const GAP = 40;

const size = (n: Placed) => ({
  width: Math.max(n.measured?.width ?? 0, DEFAULT_SIZE.width),
  height: Math.max(n.measured?.height ?? 0, DEFAULT_SIZE.height),
});

function overlaps(at: XYPosition, other: Placed): boolean {
  const { width, height } = size(other);
  return (
    at.x < other.position.x + width + GAP / 2 &&
    other.position.x < at.x + DEFAULT_SIZE.width + GAP / 2 &&
    at.y < other.position.y + height + GAP / 2 &&
    other.position.y < at.y + DEFAULT_SIZE.height + GAP / 2
  );
}

/** The top-left corner for a new module; `fallback` when the canvas is empty. */
export function freeSpot(nodes: readonly Placed[], fallback: XYPosition): XYPosition {
  const selected = nodes.filter((n) => n.selected);
  const anchor =
    selected.length === 1
      ? selected[0]
      : nodes.reduce<Placed | null>((low, n) => (!low || n.position.y + size(n).height > low.position.y + size(low).height ? n : low), null);
  if (!anchor) return fallback;
  const below = { x: anchor.position.x, y: anchor.position.y + size(anchor).height + GAP };
  // Beside what is in the way, to the right first (the graph grows down; its branches to the right).
  for (let column = 0; column < 50; column++) {
    const at = { x: below.x + column * (DEFAULT_SIZE.width + GAP), y: below.y };
    if (!nodes.some((n) => overlaps(at, n))) return at;
  }
  return below;
}
