/**
 * Dragging from an output port into empty space: a search of the modules that take what
 * the port gives (searched like the palette); the chosen one is placed where the drag
 * ended, wired to that port.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { searchScore } from "../palette/search";
import type { ModuleSpec } from "../types";
import { modulesAccepting } from "./ports";
import { useEditor } from "./store";

export interface Offer {
  source: string;
  sourcePort: string;
  type: string;
  /** Where the drag ended, on screen. */
  at: { x: number; y: number };
}

export function ModuleOffer({ offer, onChoose, onClose }: {
  offer: Offer;
  onChoose(spec: ModuleSpec, input: string): void;
  onClose(): void;
}) {
  const specs = useEditor((s) => s.specs);
  const [search, setSearch] = useState("");
  const box = useRef<HTMLDivElement>(null);
  const accepting = useMemo(() => modulesAccepting(offer.type, specs), [offer.type, specs]);
  const words = search.trim();
  // Found by what they do, as in the palette: "drop column" finds Select Columns in Dataset.
  const shown = useMemo(
    () => (words
      ? accepting
          .map((offered) => ({ offered, score: searchScore(offered.spec, words) }))
          .filter(({ score }) => score > 0)
          .sort((a, b) => b.score - a.score)
          .map(({ offered }) => offered)
      : accepting),
    [accepting, words],
  );

  useEffect(() => {
    const close = (e: PointerEvent) => !box.current?.contains(e.target as Node) && onClose();
    document.addEventListener("pointerdown", close);
    return () => document.removeEventListener("pointerdown", close);
  }, [onClose]);

  return (
    <div
      ref={box}
      className="module-offer"
      role="dialog"
      aria-label={`Modules that take ${offer.source}.${offer.sourcePort}`}
      style={{ left: Math.min(offer.at.x, window.innerWidth - 300), top: Math.min(offer.at.y, window.innerHeight - 320) }}
      onKeyDown={(e) => e.key === "Escape" && onClose()}
    >
      <input
        type="search"
        aria-label="Search modules to connect"
        placeholder={`Modules that take a ${offer.type}…`}
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        onKeyDown={(e) => e.key === "Enter" && shown[0] && onChoose(shown[0].spec, shown[0].input)}
        autoFocus
      />
      <ul>
        {shown.map(({ spec, input }) => (
          <li key={spec.id}>
            <button type="button" title={spec.description} onClick={() => onChoose(spec, input)}>
              {spec.name}
            </button>
          </li>
        ))}
        {!shown.length && <li className="muted">No module takes a {offer.type}{words ? ` and matches "${search}"` : ""}.</li>}
      </ul>
    </div>
  );
}
