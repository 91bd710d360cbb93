/** An experiment: its runs (jobs' and pipelines'), newest first, their metrics side by side. */
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import type { ExperimentRun } from "../types";
import { formatNumber } from "../outputs/transforms";
import { Link } from "./Link";

/** Every "step.metric" any run has, in a stable order: the table's columns. */
export function metricColumns(runs: ExperimentRun[]): string[] {
  const names = new Set<string>();
  for (const run of runs) for (const [step, metrics] of Object.entries(run.metrics)) for (const name of Object.keys(metrics)) names.add(`${step}.${name}`);
  return [...names].sort();
}

export function ExperimentPage({ name }: { name: string }) {
  const [runs, setRuns] = useState<ExperimentRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.experiments.runs(name).then(setRuns, (e: ApiError) => setError(e.message));
  }, [name]);

  const columns = runs ? metricColumns(runs) : [];
  return (
    <div className="home">
      <header className="home-header">
        <Link href="/jobs/">← Jobs and experiments</Link>
        <h1>Experiment {name}</h1>
      </header>
      <main className="home-main">
        {error && <p role="alert">This experiment could not be opened: {error}</p>}
        {runs && (
          <table className="jobs-table" aria-label={`Runs of ${name}`}>
            <thead>
              <tr>
                <th>Run</th><th>Status</th><th>Submitted</th>
                {columns.map((column) => <th key={column}>{column}</th>)}
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr key={run.id}>
                  <td><Link href={run.kind === "job" ? `/jobs/${run.id}/` : `/runs/${run.id}/`}>{run.name}</Link></td>
                  <td><span className={`status status-${run.status}`}>{run.status}</span></td>
                  <td>{new Date(run.created_at).toLocaleString()}</td>
                  {columns.map((column) => {
                    const [step, ...rest] = column.split(".");
                    const value = run.metrics[step]?.[rest.join(".")];
                    return <td key={column} className="number">{value === undefined || value === null ? "—" : formatNumber(value)}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
    </div>
  );
}
