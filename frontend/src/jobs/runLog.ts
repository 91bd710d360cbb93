/**
 * What a job's script logged through the run API (`from atelier import run`), as Run Script
 * records it in the step's visuals (`run_log`): each metric's series, rows, tables and tags.
 * The step's output is untrusted: anything of another shape is left out, not trusted.
 */

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

export interface RunLog {
  /** Metrics logged more than once (a `log_list`, or `log` in a loop): line charts. */
  charts: Series[];
  tags: [string, string][];
  rows: { name: string; rows: Record<string, unknown>[] }[];
  tables: { name: string; columns: string[]; rows: unknown[][] }[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

export function runLogOf(visuals: unknown): RunLog {
  const log = isRecord(visuals) && isRecord(visuals.run_log) ? visuals.run_log : {};
  const charts: Series[] = [];
  if (isRecord(log.series)) {
    for (const [name, values] of Object.entries(log.series)) {
      if (!Array.isArray(values)) continue;
      const points = values.flatMap((y, index) => (typeof y === "number" ? [{ x: index + 1, y }] : []));
      if (points.length > 1) charts.push({ name, points });
    }
  }
  const tags: [string, string][] = isRecord(log.tags) ? Object.entries(log.tags).map(([k, v]) => [k, String(v)]) : [];
  const rows = isRecord(log.rows)
    ? Object.entries(log.rows).map(([name, list]) => ({ name, rows: Array.isArray(list) ? list.filter(isRecord) : [] }))
    : [];
  const tables = isRecord(log.tables)
    ? Object.entries(log.tables).flatMap(([name, table]) => {
        if (!isRecord(table)) return [];
        const columns = Object.keys(table).filter((c) => Array.isArray(table[c]));
        const length = Math.max(0, ...columns.map((c) => (table[c] as unknown[]).length));
        const body = Array.from({ length }, (_, i) => columns.map((c) => (table[c] as unknown[])[i]));
        return [{ name, columns, rows: body }];
      })
    : [];
  return { charts, tags, rows, tables };
}
