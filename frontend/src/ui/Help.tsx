import { useId, useState, type ReactNode } from "react";

/** A "?" button that shows help text beside it; Escape or the button closes it. */
export function Help({ label, title, children }: { label: string; title: string; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <>
      <button
        type="button"
        className="icon help-button"
        aria-label={label}
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        ?
      </button>
      {open && (
        <div id={id} className="help-popover" role="note" aria-label={title} onKeyDown={(e) => e.key === "Escape" && setOpen(false)}>
          <strong>{title}</strong>
          {children}
        </div>
      )}
    </>
  );
}
