/** Short messages for the user (what happened, what went wrong), read out by screen readers.
 *
 * They stack briefly and go, so they never pile up over the buttons: a few at most, the
 * same message again replaces the old one, and errors stay longer (long enough to read
 * them) but go too; what must stay visible is shown where it belongs, not in a toast. */
import { create } from "zustand";

export interface Toast {
  id: number;
  kind: "info" | "error";
  text: string;
}

interface ToastState {
  toasts: Toast[];
  push(kind: Toast["kind"], text: string): void;
  dismiss(id: number): void;
}

export const MAX_TOASTS = 3;
export const TOAST_MS: Record<Toast["kind"], number> = { info: 5000, error: 12000 };

let nextId = 1;

export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  push: (kind, text) => {
    const id = nextId++;
    const others = get().toasts.filter((t) => t.text !== text);
    set({ toasts: [...others.slice(-(MAX_TOASTS - 1)), { id, kind, text }] });
    setTimeout(() => get().dismiss(id), TOAST_MS[kind]);
  },
  dismiss: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
}));
