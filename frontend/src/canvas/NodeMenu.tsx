/**
 * A module's right-click menu (also Shift+F10 or the context-menu key on a focused
 * module): a menu in the ARIA sense, arrow keys move between its items, Escape closes it
 * and gives the focus back to the module. An item that does not apply says why.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import type { NodeAction, NodeMenuItem } from "./nodeMenu";

const WIDTH = 260;
const MARGIN = 8;

export interface NodeMenuAt {
  node: string;
  at: { x: number; y: number };
}

export function NodeMenu({ menu, items, onChoose, onClose }: {
  menu: NodeMenuAt;
  items: NodeMenuItem[];
  onChoose(action: NodeAction): void;
  onClose(refocus: boolean): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [place, setPlace] = useState(menu.at);

  // Kept on screen: a menu opened near the right or bottom edge opens towards the inside.
  useLayoutEffect(() => {
    const height = box.current?.offsetHeight ?? 0;
    setPlace({
      x: Math.max(MARGIN, Math.min(menu.at.x, window.innerWidth - WIDTH - MARGIN)),
      y: Math.max(MARGIN, Math.min(menu.at.y, window.innerHeight - height - MARGIN)),
    });
    box.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [menu.at]);

  useEffect(() => {
    const away = (e: PointerEvent) => !box.current?.contains(e.target as Node) && onClose(false);
    document.addEventListener("pointerdown", away, true);
    return () => document.removeEventListener("pointerdown", away, true);
  }, [onClose]);

  const onKeyDown = (e: KeyboardEvent) => {
    // The editor's shortcuts (Delete, arrows, Escape…) are not for keys pressed in the menu.
    e.stopPropagation();
    const entries = [...(box.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = entries.indexOf(document.activeElement as HTMLElement);
    const move = { ArrowDown: 1, ArrowUp: -1 }[e.key];
    if (move) entries[(at + move + entries.length) % entries.length]?.focus();
    else if (e.key === "Home") entries[0]?.focus();
    else if (e.key === "End") entries[entries.length - 1]?.focus();
    else if (e.key === "Escape" || e.key === "Tab") onClose(true);
    else return;
    e.preventDefault();
  };

  return (
    <div
      ref={box}
      role="menu"
      aria-label={`Actions for ${menu.node}`}
      className="node-menu"
      style={{ left: place.x, top: place.y, width: WIDTH }}
      onKeyDown={onKeyDown}
      onContextMenu={(e) => e.preventDefault()}
    >
      {items.map((item) => (
        <button
          key={item.action}
          type="button"
          role="menuitem"
          tabIndex={-1}
          // Focusable while disabled, so that the keyboard reaches the reason too.
          aria-disabled={item.disabledBecause !== null}
          title={item.disabledBecause ?? undefined}
          className={item.action === "delete" ? "danger-text" : undefined}
          onClick={() => item.disabledBecause === null && onChoose(item.action)}
        >
          <span>{item.label}</span>
          {item.disabledBecause && <span className="node-menu-why">{item.disabledBecause}</span>}
        </button>
      ))}
    </div>
  );
}
