/**
 * Jobs and experiments: your jobs (newest first), your experiments, and submitting a job
 * from the browser (its job file and its code folder as a zip).
 */
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import type { Experiment, JobSummary } from "../types";
import { navigate } from "../ui/router";
import { Link } from "./Link";

const EXAMPLE_JOB = `format: atelier/job@1
name: my-job
script: train.py
args: []
compute: local
experiment: my-experiment
`;

export function JobsPage() {
  const [jobs, setJobs] = useState<JobSummary[] | null>(null);
  const [experiments, setExperiments] = useState<Experiment[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.jobs.list().then((page) => setJobs(page.results), (e: ApiError) => setError(e.message));
    api.experiments.list().then(setExperiments, (e: ApiError) => setError(e.message));
  }, []);

  return (
    <div className="home">
      <header className="home-header">
        <Link href="/">← Pipelines</Link>
        <h1>Jobs and experiments</h1>
      </header>
      <main className="home-main">
        {error && <p role="alert">{error}</p>}
        <SubmitJob />
        <section aria-label="Jobs" className="home-section">
          <h2>Jobs</h2>
          {jobs === null ? (
            <p>Loading…</p>
          ) : jobs.length === 0 ? (
            <p className="muted">No jobs yet: submit one here, or with `manage.py submit_job`.</p>
          ) : (
            <table className="jobs-table">
              <thead>
                <tr><th>Job</th><th>Status</th><th>Experiment</th><th>Compute</th><th>Submitted</th></tr>
              </thead>
              <tbody>
                {jobs.map((job) => (
                  <tr key={job.id}>
                    <td><Link href={`/jobs/${job.id}/`}>{job.pipeline_name}</Link></td>
                    <td><span className={`status status-${job.status}`}>{job.status}</span></td>
                    <td>{job.experiment ? <Link href={`/experiments/${encodeURIComponent(job.experiment)}/`}>{job.experiment}</Link> : "—"}</td>
                    <td>{job.compute}</td>
                    <td>{new Date(job.created_at).toLocaleString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-label="Experiments" className="home-section">
          <h2>Experiments</h2>
          {experiments.length === 0 ? (
            <p className="muted">No experiments yet: name one in a job file (`experiment:`).</p>
          ) : (
            <ul>
              {experiments.map((experiment) => (
                <li key={experiment.name}>
                  <Link href={`/experiments/${encodeURIComponent(experiment.name)}/`}>{experiment.name}</Link>{" "}
                  <span className="muted">{experiment.runs} runs, last {new Date(experiment.last_run_at).toLocaleString()}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </main>
    </div>
  );
}

function SubmitJob() {
  const [jobFile, setJobFile] = useState(EXAMPLE_JOB);
  const [code, setCode] = useState<File | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    if (!code) return;
    setBusy(true);
    setErrors([]);
    try {
      const job = await api.jobs.submit(jobFile, code);
      navigate(`/jobs/${job.id}/`);
    } catch (e) {
      const failure = e as ApiError;
      setErrors(failure.errors?.length ? failure.errors.map((item) => item.message) : [failure.message]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-label="Submit a job" className="home-section">
      <h2>Submit a job</h2>
      <label className="job-field">
        Job file (atelier/job@1)
        <textarea rows={8} value={jobFile} onChange={(e) => setJobFile(e.target.value)} spellCheck={false} />
      </label>
      <label className="job-field">
        Code folder as a zip (its .amlignore or .gitignore applies)
        <input type="file" accept=".zip" aria-label="Code folder as a zip" onChange={(e) => setCode(e.target.files?.[0] ?? null)} />
      </label>
      <button type="button" className="primary" disabled={!code || busy} onClick={() => void submit()}>
        {busy ? "Submitting…" : "Submit job"}
      </button>
      {errors.length > 0 && (
        <ul role="alert" className="job-errors">
          {errors.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
    </section>
  );
}
