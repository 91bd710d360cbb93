/**
 * Drafts save themselves. Every change is written to localStorage at once (a reload or a
 * crash loses nothing) and saved to the server shortly after, on top of the version it was
 * edited from. A save refused with 409 (someone saved first: another tab, another person)
 * puts the draft in conflict: the user chooses to load what is saved or to overwrite it;
 * nothing is ever overwritten silently. The local copy of a tab that still has the pipeline
 * open is that tab's work, not this one's: a second tab loads what is saved and says that
 * another tab is editing.
 *
 * Saves name the editing session (one opening of the editor): the server keeps one version
 * per session rather than one per save (the undo history holds the steps between). Each
 * such save still takes a new version number, so conflicts are found as before.
 */
import { create } from "zustand";
import { api, ApiError, ConflictError } from "../api";
import { useEditor } from "../canvas/store";
import type { Conflict, PipelineDetail, PipelineDocument } from "../types";
import { BEAT_MS, beat, forgetGone, isOpenElsewhere, isOtherTabKey, leave, tabId } from "./tabs";

export type SaveStatus = "saved" | "pending" | "saving" | "conflict" | "error";

interface LocalDraft {
  /** The tab that wrote it. */
  tab?: string;
  baseVersion: number;
  document: PipelineDocument;
  at: number;
}

interface DraftState {
  pipelineId: number | null;
  /** This opening of the editor, named in its saves. */
  session: string;
  baseVersion: number;
  status: SaveStatus;
  error: string | null;
  conflict: Conflict | null;
  /** Another tab of this browser is editing the same pipeline (seen through its local copy). */
  otherTab: boolean;
}

export const useDraft = create<DraftState>()(() => ({
  pipelineId: null,
  session: "",
  baseVersion: 0,
  status: "saved",
  error: null,
  conflict: null,
  otherTab: false,
}));

const SAVE_DELAY_MS = 800;
const key = (id: number) => `atelier:draft:${id}`;

function readLocal(id: number): LocalDraft | null {
  try {
    const text = localStorage.getItem(key(id));
    return text ? (JSON.parse(text) as LocalDraft) : null;
  } catch {
    return null;
  }
}

function writeLocal(id: number, draft: Omit<LocalDraft, "tab"> | null) {
  try {
    if (draft) localStorage.setItem(key(id), JSON.stringify({ ...draft, tab: thisTab() }));
    else localStorage.removeItem(key(id));
  } catch {
    // A full or disabled storage only loses the crash copy; the server save still runs.
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

let tab: string | undefined;
function thisTab(): string {
  try {
    tab ??= tabId(sessionStorage);
  } catch {
    tab ??= Math.random().toString(36).slice(2); // no session storage: a tab id for this page only
  }
  return tab;
}

/** Say that this tab has the pipeline open, until `closeDraft` (or the page goes). */
function announce(id: number): () => void {
  const me = thisTab();
  const say = () => {
    try {
      beat(localStorage, id, me, Date.now());
    } catch {
      // Without storage the other tabs are not told; saves are still checked by the server.
    }
  };
  const quiet = () => {
    try {
      leave(localStorage, id, me);
    } catch {
      // as above
    }
  };
  try {
    forgetGone(localStorage, Date.now());
  } catch {
    // as above
  }
  say();
  const interval = setInterval(say, BEAT_MS);
  window.addEventListener("pagehide", quiet);
  return () => {
    clearInterval(interval);
    window.removeEventListener("pagehide", quiet);
    quiet();
  };
}

function openElsewhere(id: number, local: LocalDraft): boolean {
  if (!local.tab || local.tab === thisTab()) return false;
  try {
    return isOpenElsewhere(localStorage, id, local.tab, Date.now());
  } catch {
    return false;
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<void> | null = null;
let unsubscribe: (() => void) | undefined;
let stopWatchingTabs: (() => void) | undefined;
let stopAnnouncing: (() => void) | undefined;

/** A name for this opening of the editor (crypto.randomUUID needs HTTPS, which a
 * self-hosted server on a LAN may not have; a clash costs only a merged version of the
 * same person's work, within a 30-minute window). */
function newSession(): string {
  return `${thisTab()}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Start editing a pipeline: load it (or the unsaved local copy of it) and save changes from now on. */
export function openDraft(detail: PipelineDetail): "restored" | "conflict" | "loaded" {
  closeDraft();
  const local = readLocal(detail.id);
  const editor = useEditor.getState();
  let outcome: "restored" | "conflict" | "loaded" = "loaded";
  // Another open tab's copy is its own work in progress: it saves it itself.
  const elsewhere = local !== null && openElsewhere(detail.id, local);
  useDraft.setState({
    pipelineId: detail.id, session: newSession(), baseVersion: detail.current_version, status: "saved", error: null, conflict: null,
    otherTab: elsewhere,
  });
  if (elsewhere) {
    editor.load(detail.document);
  } else if (local && !same(local.document, detail.document)) {
    editor.load(local.document);
    if (local.baseVersion === detail.current_version) {
      outcome = "restored";
      useDraft.setState({ status: "pending" });
      schedule();
    } else {
      // Saved elsewhere since these edits were made: the user decides.
      outcome = "conflict";
      useDraft.setState({
        status: "conflict",
        conflict: { errors: [], current_version: detail.current_version, document: detail.document },
      });
    }
  } else {
    writeLocal(detail.id, null);
    editor.load(detail.document);
  }
  unsubscribe = useEditor.subscribe((state, previous) => {
    if (state.revision !== previous.revision) onEdit();
  });
  // Storage events come from the other tabs only: one writing this pipeline's copy, or
  // saying it has the pipeline open, may edit it too.
  const onStorage = (event: StorageEvent) => {
    const editing = event.key === key(detail.id) || isOtherTabKey(event.key, detail.id, thisTab());
    if (editing && event.newValue) useDraft.setState({ otherTab: true });
  };
  window.addEventListener("storage", onStorage);
  stopWatchingTabs = () => window.removeEventListener("storage", onStorage);
  stopAnnouncing = announce(detail.id);
  return outcome;
}

export function closeDraft() {
  unsubscribe?.();
  unsubscribe = undefined;
  stopWatchingTabs?.();
  stopWatchingTabs = undefined;
  stopAnnouncing?.();
  stopAnnouncing = undefined;
  clearTimeout(timer);
}

function onEdit() {
  const { pipelineId, baseVersion, status } = useDraft.getState();
  if (pipelineId === null) return;
  writeLocal(pipelineId, { baseVersion, document: useEditor.getState().document(), at: Date.now() });
  if (status !== "conflict") {
    useDraft.setState({ status: "pending" });
    schedule();
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => void save(), SAVE_DELAY_MS);
}

async function save(): Promise<void> {
  if (inFlight) {
    // One save at a time: the next one starts from the version this one creates.
    await inFlight;
  }
  const { pipelineId, session, baseVersion, status } = useDraft.getState();
  if (pipelineId === null || status === "conflict" || status === "saved") return;
  const document = useEditor.getState().document();
  const revision = useEditor.getState().revision;
  useDraft.setState({ status: "saving" });
  inFlight = (async () => {
    try {
      const saved = await api.pipelines.save(pipelineId, { document, base_version: baseVersion, session });
      if (useDraft.getState().pipelineId !== pipelineId) return;
      const unchanged = useEditor.getState().revision === revision;
      useDraft.setState({ baseVersion: saved.current_version, status: unchanged ? "saved" : "pending", error: null });
      if (unchanged) writeLocal(pipelineId, null);
      else {
        writeLocal(pipelineId, { baseVersion: saved.current_version, document: useEditor.getState().document(), at: Date.now() });
        schedule();
      }
    } catch (e) {
      if (e instanceof ConflictError) useDraft.setState({ status: "conflict", conflict: e.conflict, error: null });
      else useDraft.setState({ status: "error", error: (e as ApiError).message });
    } finally {
      inFlight = null;
    }
  })();
  await inFlight;
}

/** Save now (before a run): resolves once the server has the draft, or says why it can't. */
export async function flushDraft(): Promise<string | null> {
  clearTimeout(timer);
  await save();
  const { status, error } = useDraft.getState();
  if (status === "conflict") return "This pipeline was changed elsewhere: load the saved version or keep yours first.";
  if (status === "error") return `The pipeline could not be saved: ${error}`;
  return null;
}

export function retrySave() {
  useDraft.setState({ status: "pending" });
  void save();
}

/** Resolve a conflict: take what is saved, or save these edits over it. */
export function resolveConflict(choice: "theirs" | "mine") {
  const { conflict, pipelineId } = useDraft.getState();
  if (!conflict || pipelineId === null) return;
  if (choice === "theirs") {
    writeLocal(pipelineId, null);
    openDraft({ id: pipelineId, current_version: conflict.current_version, document: conflict.document } as PipelineDetail);
  } else {
    useDraft.setState({ baseVersion: conflict.current_version, conflict: null, status: "pending" });
    void save();
  }
}
