/**
 * The run log a user's script kept (modules/sdk/run_log.py): series, tables, tags and
 * listed files, in the step's `run_log` visual. A step's visuals are what its code wrote,
 * so this reads them defensively: anything not of the expected shape is left out.
 */

export type LoggedValue = number | string | boolean | null;

export interface RunLog {
  series: [string, LoggedValue[]][];
  tables: { name: string; columns: string[]; rows: LoggedValue[][] }[];
  tags: [string, string][];
  files: { name: string; bytes: number }[];
}

export const RUN_LOG_VISUAL = "run_log";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function logged(value: unknown): LoggedValue {
  return typeof value === "number" || typeof value === "string" || typeof value === "boolean" ? value : null;
}

/** The run log in `visuals`, or null when the step kept none. */
export function parseRunLog(visuals: Record<string, unknown>): RunLog | null {
  const raw = visuals[RUN_LOG_VISUAL];
  if (!isRecord(raw)) return null;
  const series = isRecord(raw.series)
    ? Object.entries(raw.series).flatMap(([name, values]) =>
        Array.isArray(values) ? [[name, values.map(logged)] as [string, LoggedValue[]]] : [],
      )
    : [];
  const tables = isRecord(raw.tables)
    ? Object.entries(raw.tables).flatMap(([name, table]) => {
        if (!isRecord(table)) return [];
        const columns = Object.keys(table).filter((c) => Array.isArray(table[c]));
        const height = Math.max(0, ...columns.map((c) => (table[c] as unknown[]).length));
        const rows = Array.from({ length: height }, (_, i) => columns.map((c) => logged((table[c] as unknown[])[i])));
        return [{ name, columns, rows }];
      })
    : [];
  const tags = isRecord(raw.tags) ? Object.entries(raw.tags).map(([k, v]) => [k, String(v)] as [string, string]) : [];
  const files = Array.isArray(raw.files)
    ? raw.files.flatMap((f) => (isRecord(f) && typeof f.name === "string" ? [{ name: f.name, bytes: Number(f.bytes) || 0 }] : []))
    : [];
  if (!series.length && !tables.length && !tags.length && !files.length) return null;
  return { series, tables, tags, files };
}
