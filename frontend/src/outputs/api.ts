/**
 * The outputs panel's calls that the shared client (../api.ts) does not have yet. Errors
 * come back as the shared ApiError, like every other call.
 */
import { ApiError } from "../api";
import type { Curve } from "./transforms";

/** One class of a multiclass scored table against all the others (designer/runs/outputs.py). */
export interface ClassCurve {
  class: string;
  rows: number;
  metrics: Record<string, number | null>;
  /** null for a class that is neither in the table nor ever predicted */
  roc: Curve | null;
  precision_recall: Curve | null;
}

export interface ClassCurves {
  label: string;
  classes: ClassCurve[];
}

const enc = encodeURIComponent;

// The shared client keeps its request function private, so this GET mirrors it: session
// cookie, JSON, and the server's {"errors": [...]} turned into an ApiError.
async function getJson<T>(path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError(0, [{ code: "network", message: "The server cannot be reached. Check your connection and try again." }], null);
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const errors = (body as { errors?: ApiError["errors"] } | null)?.errors;
    throw new ApiError(response.status, errors ?? [{ code: `http_${response.status}`, message: `The server answered ${response.status}.` }], body);
  }
  return body as T;
}

export function classCurves(runId: string, node: string, port: string): Promise<ClassCurves> {
  return getJson<ClassCurves>(`/api/runs/${enc(runId)}/steps/${enc(node)}/outputs/${enc(port)}/class-curves/`);
}
