/** The editor's keyboard shortcuts, and the overlay that lists them (press ?). */
import { useEffect } from "react";
import { useReactFlow } from "@xyflow/react";
import { Dialog } from "../ui/Dialog";
import { useEditor, type Clip } from "./store";

export const SHORTCUTS: [string, string][] = [
  ["Ctrl+Z", "Undo"],
  ["Ctrl+Shift+Z or Ctrl+Y", "Redo"],
  ["Ctrl+C / Ctrl+X / Ctrl+V", "Copy / cut / paste the selected modules"],
  ["Ctrl+D", "Duplicate the selected modules"],
  ["Ctrl+A", "Select every module"],
  ["Delete or Backspace", "Delete the selection"],
  ["Shift+drag, Ctrl+click", "Select several modules"],
  ["Tab, then Enter", "Focus a module, select it"],
  ["Arrow keys", "Move the selected modules"],
  ["F", "Zoom to fit"],
  ["L", "Auto-layout"],
  ["Ctrl+S", "Save now"],
  ["Escape", "Clear the selection"],
  ["?", "This help"],
];

let clipboard: Clip | null = null;

function typingIn(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  if (!element) return false;
  return element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName) || !!element.closest(".cm-editor");
}

interface Handlers {
  enabled: boolean;
  readOnly?: boolean;
  onHelp(): void;
  onFit(): void;
  onLayout(): void;
  onSave(): void;
  screenCenter(): { x: number; y: number };
}

export function useShortcuts({ enabled, readOnly, onHelp, onFit, onLayout, onSave, screenCenter }: Handlers) {
  const { screenToFlowPosition } = useReactFlow();
  useEffect(() => {
    if (!enabled) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (typingIn(event.target) || document.querySelector("dialog[open]")) return;
      const editor = useEditor.getState();
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      const pasteAtCenter = (clip: Clip) => {
        // Pasted modules land around the view's centre, keeping their arrangement.
        const center = screenToFlowPosition(screenCenter());
        const left = Math.min(...clip.nodes.map((n) => n.position.x));
        const top = Math.min(...clip.nodes.map((n) => n.position.y));
        editor.paste(clip, { x: center.x - left - 100, y: center.y - top - 40 });
      };
      let handled = true;
      if (mod && key === "z" && !event.shiftKey) !readOnly && editor.undo();
      else if (mod && ((key === "z" && event.shiftKey) || key === "y")) !readOnly && editor.redo();
      else if (mod && key === "c") clipboard = editor.copySelection() ?? clipboard;
      else if (mod && key === "x" && !readOnly) {
        clipboard = editor.copySelection() ?? clipboard;
        editor.deleteSelection();
      } else if (mod && key === "v" && clipboard && !readOnly) pasteAtCenter(clipboard);
      else if (mod && key === "d" && !readOnly) {
        const clip = editor.copySelection();
        if (clip) editor.paste(clip, { x: 40, y: 40 });
      } else if (mod && key === "a") editor.selectAll();
      else if (mod && key === "s") onSave();
      else if ((key === "delete" || key === "backspace") && !mod && !readOnly) editor.deleteSelection();
      else if (key === "escape") editor.selectOnly([]);
      else if (event.key === "?") onHelp();
      else if (key === "f" && !mod) onFit();
      else if (key === "l" && !mod && !readOnly) onLayout();
      else handled = false;
      if (handled) event.preventDefault();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [enabled, readOnly, onHelp, onFit, onLayout, onSave, screenCenter, screenToFlowPosition]);
}

export function ShortcutHelp({ onClose }: { onClose(): void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <th scope="row">
                <kbd>{keys}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
    </Dialog>
  );
}
