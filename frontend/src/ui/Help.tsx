import { useId, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { createPortal } from "react-dom";

const POPOVER_WIDTH = 360;
const MARGIN = 8;

/**
 * A "?" button that shows help beside it; Escape, a click elsewhere or the button closes it.
 * The popover is drawn on the page's top layer (a portal), so a scrolling list it sits in
 * (the palette) does not clip it; it stays on screen whichever side of the button fits.
 */
export function Help({ label, title, children }: { label: string; title: string; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const [at, setAt] = useState<{ left: number; top: number } | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const popover = useRef<HTMLDivElement>(null);
  const id = useId();

  useLayoutEffect(() => {
    if (!open || !button.current) return;
    const box = button.current.getBoundingClientRect();
    const right = box.right + MARGIN;
    const left = right + POPOVER_WIDTH <= window.innerWidth ? right : Math.max(MARGIN, box.left - MARGIN - POPOVER_WIDTH);
    setAt({ left, top: Math.max(MARGIN, Math.min(box.top, window.innerHeight * 0.4)) });
    const close = (e: PointerEvent) => {
      const target = e.target as Node;
      if (!popover.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    const escape = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setOpen(false);
      button.current?.focus();
    };
    document.addEventListener("pointerdown", close);
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("pointerdown", close);
      document.removeEventListener("keydown", escape);
    };
  }, [open]);

  return (
    <>
      <button
        ref={button}
        type="button"
        className="icon help-button"
        aria-label={label}
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        ?
      </button>
      {open &&
        createPortal(
          <div
            ref={popover}
            id={id}
            className="help-popover"
            role="dialog"
            aria-label={title}
            style={{ left: at?.left ?? 0, top: at?.top ?? 0, width: POPOVER_WIDTH, visibility: at ? "visible" : "hidden" }}
          >
            <strong>{title}</strong>
            {children}
          </div>,
          document.body,
        )}
    </>
  );
}
