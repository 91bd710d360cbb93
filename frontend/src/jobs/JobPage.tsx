/**
 * A job's page: its status, live log, metrics (a metric logged more than once is a line
 * chart), images, the ./outputs and ./logs it kept (a tree of their files, each downloadable, and
 * a zip of each), its environment and build log, its snapshot's files and job file;
 * cancel and rerun. While the job is active the page asks again every two seconds.
 */
import { useEffect, useState } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, ApiError } from "../api";
import { Images } from "../outputs/Images";
import { formatNumber } from "../outputs/transforms";
import type { JobDetail, JobEnvironment, OutputFiles, SnapshotFiles, StepMetrics } from "../types";
import { navigate } from "../ui/router";
import { useToasts } from "../ui/toasts";
import { fileTree, formatBytes, type ListedFile, type TreeFolder } from "./fileTree";
import { Link } from "./Link";
import { runLogOf, type Series } from "./runLog";

const NODE = "job"; // the one step of a job (designer.engine.job_file.JOB_NODE)
const ACTIVE = new Set(["queued", "preparing", "running"]);
const REFRESH_MS = 2000;

export function JobPage({ jobId }: { jobId: string }) {
  const [job, setJob] = useState<JobDetail | null>(null);
  const [logs, setLogs] = useState<string[]>([]);
  const [metrics, setMetrics] = useState<StepMetrics | null>(null);
  const [error, setError] = useState<string | null>(null);
  const toast = useToasts((s) => s.push);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const detail = await api.jobs.get(jobId);
        const [lines, measured] = await Promise.all([
          api.runs.logs(jobId, NODE, 300).then((l) => l.lines, () => [] as string[]),
          api.runs.metrics(jobId, NODE).catch(() => null),
        ]);
        if (stopped) return;
        setJob(detail);
        setLogs(lines);
        setMetrics(measured);
        if (ACTIVE.has(detail.status)) timer = setTimeout(() => void load(), REFRESH_MS);
      } catch (e) {
        if (!stopped) setError((e as ApiError).message);
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [jobId]);

  if (error) {
    return (
      <main className="page-message">
        <p role="alert">This job could not be opened: {error}</p>
        <Link href="/jobs/">Back to your jobs</Link>
      </main>
    );
  }
  if (!job) return <p className="page-message">Loading…</p>;

  const step = job.steps[0];
  const log = runLogOf(metrics?.visuals);
  const rerun = async () => {
    try {
      const again = await api.runs.rerun(jobId);
      navigate(`/jobs/${again.id}/`);
    } catch (e) {
      toast("error", `Rerunning failed: ${(e as Error).message}`);
    }
  };
  const cancel = () => void api.runs.cancel(jobId).catch((e: Error) => toast("error", `Cancelling failed: ${e.message}`));

  return (
    <div className="home job-page">
      <header className="home-header">
        <Link href="/jobs/">← Jobs</Link>
        <h1>
          {job.pipeline_name} <span className={`status status-${job.status}`}>{job.status}</span>
        </h1>
        <span className="spacer" />
        {ACTIVE.has(job.status) ? (
          <button type="button" onClick={cancel}>Cancel</button>
        ) : (
          <button type="button" onClick={() => void rerun()}>Rerun</button>
        )}
      </header>
      <main className="home-main">
        <section aria-label="About the job" className="home-section">
          <dl className="job-facts">
            <dt>Compute</dt><dd>{step?.compute ?? job.compute}</dd>
            {job.experiment && (<><dt>Experiment</dt><dd><Link href={`/experiments/${encodeURIComponent(job.experiment)}/`}>{job.experiment}</Link></dd></>)}
            <dt>Snapshot</dt>
            <dd>
              <code>{job.job.snapshot.digest.slice(0, 12)}</code>: {job.job.snapshot.files} files,{" "}
              {(job.job.snapshot.bytes / 1000).toFixed(1)} kB{job.job.snapshot.ignore_file ? `, leaving out what ${job.job.snapshot.ignore_file} lists` : ""}
            </dd>
            {step?.duration_s != null && (<><dt>Duration</dt><dd>{step.duration_s.toFixed(1)} s</dd></>)}
          </dl>
          {step?.error && <p role="alert" className="job-error">{String(step.error.message)}</p>}
        </section>
        <section aria-label="Metrics" className="home-section">
          <h2>Metrics</h2>
          {metrics && Object.keys(metrics.metrics).length > 0 ? (
            <table className="jobs-table">
              <tbody>
                {Object.entries(metrics.metrics).map(([name, value]) => (
                  <tr key={name}><th scope="row">{name}</th><td className="number">{formatNumber(value)}</td></tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">No metrics logged{ACTIVE.has(job.status) ? " yet" : ""}.</p>
          )}
          {log.charts.map((series) => <SeriesChart key={series.name} series={series} />)}
          {log.tags.length > 0 && <p>Tags: {log.tags.map(([k, v]) => `${k}=${v}`).join(", ")}</p>}
          {log.tables.map((table) => (
            <table key={table.name} className="jobs-table" aria-label={table.name}>
              <caption>{table.name}</caption>
              <thead><tr>{table.columns.map((c) => <th key={c}>{c}</th>)}</tr></thead>
              <tbody>{table.rows.map((row, i) => <tr key={i}>{row.map((cell, j) => <td key={j}>{String(cell ?? "")}</td>)}</tr>)}</tbody>
            </table>
          ))}
        </section>
        {metrics && metrics.images.length > 0 && (
          <section aria-label="Images" className="home-section">
            <h2>Images</h2>
            <Images runId={jobId} node={NODE} names={metrics.images} />
          </section>
        )}
        <section aria-label="Outputs" className="home-section">
          <h2>Outputs</h2>
          {step && Object.keys(step.outputs).length > 0 ? (
            Object.keys(step.outputs).map((port) => <OutputFolder key={port} jobId={jobId} port={port} />)
          ) : (
            <p className="muted">Outputs are kept when the job completes.</p>
          )}
        </section>
        <section aria-label="Log" className="home-section">
          <h2>Log</h2>
          <pre className="job-log" aria-live="polite">{logs.join("\n") || "(nothing printed yet)"}</pre>
        </section>
        <EnvironmentSection jobId={jobId} status={job.status} requirements={job.job.requirements ?? []} />
        <SnapshotTree jobId={jobId} />
        <section aria-label="Job file" className="home-section">
          <h2>Job file</h2>
          <pre className="job-log">{JSON.stringify(job.job.file, null, 2)}</pre>
        </section>
      </main>
    </div>
  );
}

/** What the script wrote to ./<port> (outputs, logs): its files as a tree, each downloadable, and the folder as a zip. */
function OutputFolder({ jobId, port }: { jobId: string; port: string }) {
  const [listing, setListing] = useState<OutputFiles | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.runs.outputFiles(jobId, NODE, port).then(setListing, (e: ApiError) => setError(e.message));
  }, [jobId, port]);
  return (
    <div aria-label={`./${port}`} role="group" className="job-output">
      <h3>
        ./{port}{" "}
        {listing && listing.files.length > 0 && <a href={api.runs.downloadUrl(jobId, NODE, port)} download>Download all (zip)</a>}
      </h3>
      {error && <p role="alert">{error}</p>}
      {listing && listing.files.length === 0 && <p className="muted">Nothing was written here.</p>}
      {listing && (
        <FileTree files={listing.files} truncated={listing.truncated} href={(path) => api.runs.outputFileUrl(jobId, NODE, port, path)} />
      )}
    </div>
  );
}

/** Which environment the job ran in (built for it or reused) and, collapsed, the build's log (pip's output). */
function EnvironmentSection({ jobId, status, requirements }: { jobId: string; status: string; requirements: string[] }) {
  const [found, setFound] = useState<JobEnvironment | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Asked again when the job's status changes: the image is built while the job is preparing.
  useEffect(() => {
    api.jobs.environment(jobId).then(setFound, (e: ApiError) => setError(e.message));
  }, [jobId, status]);
  const environment = found?.environment;
  return (
    <section aria-label="Environment" className="home-section">
      <h2>Environment</h2>
      {error && <p role="alert">{error}</p>}
      {found && !environment && (
        <p>
          {found.compute} runs the job in the server's own Python environment (a local run)
          {requirements.length > 0 && `; its requirements (${requirements.join(", ")}) are installed on docker compute`}.
        </p>
      )}
      {environment && (
        <>
          <dl className="job-facts">
            <dt>Image</dt>
            <dd>
              <code>{environment.image_tag || "(not built)"}</code>{" "}
              <span className={`status status-${environment.status}`}>
                {found.built_for_this_job
                  ? environment.status === "failed" ? "could not be built" : "built for this job"
                  : environment.status === "ready" ? "reused" : environment.status}
              </span>
            </dd>
            <dt>Base image</dt><dd><code>{environment.base_image || "the server's default"}</code></dd>
            <dt>Requirements</dt><dd>{environment.requirements.join(", ") || "none of its own"}</dd>
          </dl>
          {found.build_log && (
            <details open={found.built_for_this_job && environment.status === "failed"}>
              <summary>Build log{found.built_for_this_job ? "" : " (of the build that made the image)"}</summary>
              <pre className="job-log">{found.build_log}</pre>
            </details>
          )}
        </>
      )}
    </section>
  );
}

/** The snapshot's files (what ran, exactly), read when the section is opened. */
function SnapshotTree({ jobId }: { jobId: string }) {
  const [listing, setListing] = useState<SnapshotFiles | null>(null);
  const [error, setError] = useState<string | null>(null);
  const open = () => {
    if (!listing && !error) api.jobs.snapshot(jobId).then(setListing, (e: ApiError) => setError(e.message));
  };
  return (
    <section aria-label="Snapshot" className="home-section">
      <details onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && open()}>
        <summary>Snapshot files</summary>
        {error && <p role="alert">{error}</p>}
        {listing && <FileTree files={listing.files} truncated={listing.truncated} />}
      </details>
    </section>
  );
}

/** Files as nested folders; with `href`, each file links to its download. */
function FileTree({ files, truncated, href }: { files: ListedFile[]; truncated: boolean; href?: (path: string) => string }) {
  return (
    <ul className="job-files" role="tree">
      <FolderItems folder={fileTree(files)} href={href} />
      {truncated && <li className="muted">… and more</li>}
    </ul>
  );
}

function FolderItems({ folder, href }: { folder: TreeFolder; href?: (path: string) => string }) {
  return (
    <>
      {folder.folders.map((sub) => (
        <li key={`${sub.name}/`} role="treeitem" aria-expanded>
          <span className="job-folder">{sub.name}/</span>
          <ul role="group"><FolderItems folder={sub} href={href} /></ul>
        </li>
      ))}
      {folder.files.map((file) => (
        <li key={file.name} role="treeitem">
          {href ? <a href={href(file.path)} download={file.name} title={`Download ${file.path}`}>{file.name}</a> : <code>{file.name}</code>}{" "}
          <span className="muted">{formatBytes(file.bytes)}</span>
        </li>
      ))}
    </>
  );
}

function SeriesChart({ series }: { series: Series }) {
  return (
    <figure className="job-chart">
      <figcaption>{series.name}</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={series.points} margin={{ top: 8, right: 16, bottom: 8, left: 8 }} title={`${series.name} by logged step`}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="x" type="number" allowDecimals={false} domain={["dataMin", "dataMax"]} />
          <YAxis width={64} domain={["auto", "auto"]} tickFormatter={(v: number) => formatNumber(v)} />
          <Tooltip formatter={(value) => formatNumber(Number(value))} labelFormatter={(x) => `logged #${x}`} />
          <Line type="linear" dataKey="y" name={series.name} dot={false} strokeWidth={2} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
