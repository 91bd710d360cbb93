/**
 * What a job's script logged through the run API (`from atelier import run`), read from the
 * step's `run_log` visual like any script's (outputs/runLog.ts), with the series a job page
 * charts: each metric logged more than once.
 */
import { parseRunLog, type RunLog as StepRunLog } from "../outputs/runLog";

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

export interface RunLog extends Pick<StepRunLog, "tags" | "tables" | "files"> {
  /** Series of more than one number (a `log_list`, or `log` in a loop): line charts. */
  charts: Series[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

export function runLogOf(visuals: unknown): RunLog {
  const log = isRecord(visuals) ? parseRunLog(visuals) : null;
  if (!log) return { charts: [], tags: [], tables: [], files: [] };
  const charts = log.series.flatMap(([name, values]) => {
    const points = values.flatMap((y, index) => (typeof y === "number" ? [{ x: index + 1, y }] : []));
    return points.length > 1 ? [{ name, points }] : [];
  });
  return { charts, tags: log.tags, tables: log.tables, files: log.files };
}
