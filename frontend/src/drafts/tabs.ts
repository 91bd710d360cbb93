/**
 * Which tabs of this browser have a pipeline open. localStorage is shared by the tabs, so a
 * local copy of a draft may be another tab's work in progress rather than this tab's own
 * unsaved edits (left by a reload or a crash). Each open tab says so under its own key,
 * refreshed every few seconds; a tab whose key went stale is gone (closed or crashed) and
 * its copy may be taken over.
 */
export const BEAT_MS = 2000;
const STALE_MS = 3 * BEAT_MS;
const FORGET_MS = 60_000;

const prefix = (pipelineId: number) => `atelier:open:${pipelineId}:`;

/** This tab's id: kept across reloads of the tab (sessionStorage), new in every other tab. */
export function tabId(session: Storage): string {
  let id = session.getItem("atelier:tab");
  if (!id) {
    id = Math.random().toString(36).slice(2) + Date.now().toString(36);
    session.setItem("atelier:tab", id);
  }
  return id;
}

export function beat(storage: Storage, pipelineId: number, tab: string, now: number) {
  storage.setItem(prefix(pipelineId) + tab, String(now));
}

export function leave(storage: Storage, pipelineId: number, tab: string) {
  storage.removeItem(prefix(pipelineId) + tab);
}

/** Whether `tab` (not this one) has the pipeline open now. */
export function isOpenElsewhere(storage: Storage, pipelineId: number, tab: string, now: number): boolean {
  const seen = Number(storage.getItem(prefix(pipelineId) + tab));
  return Number.isFinite(seen) && seen > 0 && now - seen < STALE_MS;
}

/** Whether a storage key is another tab saying it has the pipeline open. */
export function isOtherTabKey(key: string | null, pipelineId: number, tab: string): boolean {
  return key !== null && key.startsWith(prefix(pipelineId)) && key !== prefix(pipelineId) + tab;
}

/** Drop the keys of tabs gone long ago (a crashed tab never removed its own). */
export function forgetGone(storage: Storage, now: number) {
  const gone: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key?.startsWith("atelier:open:") && now - Number(storage.getItem(key)) > FORGET_MS) gone.push(key);
  }
  gone.forEach((key) => storage.removeItem(key));
}
