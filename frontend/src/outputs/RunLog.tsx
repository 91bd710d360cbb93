/** The run log of a user's script (see runLog.ts): series, tables, tags and listed files. */
import type { LoggedValue, RunLog as RunLogData } from "./runLog";

function show(value: LoggedValue): string {
  return value === null ? "" : String(value);
}

export function RunLog({ log }: { log: RunLogData }) {
  return (
    <section className="run-log" aria-label="Run log">
      <h4>Run log</h4>
      {log.series.length > 0 && (
        <dl className="run-log-series">
          {log.series.map(([name, values]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{values.map(show).join(", ")}</dd>
            </div>
          ))}
        </dl>
      )}
      {log.tables.map((table) => (
        <table key={table.name} className="run-log-table" aria-label={`Logged table ${table.name}`}>
          <caption>{table.name}</caption>
          <thead>
            <tr>
              {table.columns.map((c) => (
                <th key={c}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row, i) => (
              <tr key={i}>
                {row.map((cell, j) => (
                  <td key={j}>{show(cell)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {log.tags.length > 0 && (
        <p className="run-log-tags">
          Tags: {log.tags.map(([k, v]) => (v ? `${k}=${v}` : k)).join(", ")}
        </p>
      )}
      {log.files.length > 0 && (
        <p className="run-log-files">
          Files listed (only images are kept): {log.files.map((f) => `${f.name} (${f.bytes} bytes)`).join(", ")}
        </p>
      )}
    </section>
  );
}
