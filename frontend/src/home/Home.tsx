/**
 * Home: the user's pipelines (create, open, rename, duplicate, delete, start from a
 * sample, import a file), data to start a pipeline from (the sample datasets and the
 * user's), and recent runs (status, when, how long), kept live over /ws/runs/.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { api, userRunsSocketUrl } from "../api";
import { datasetDrop, sampleDrop, sampleNames, type PaletteDrop } from "../palette/Palette";
import type { Dataset, ModuleSpec, Pipeline, RunSummary, SampleInfo, UserRunStatusMessage } from "../types";
import { ConfirmDialog, Dialog } from "../ui/Dialog";
import { navigate } from "../ui/router";
import { useToasts } from "../ui/toasts";
import { formatSeconds } from "../canvas/ModuleNode";
import { documentFromData } from "./startFromData";

export function formatWhen(iso: string, now = Date.now()): string {
  const seconds = (now - new Date(iso).getTime()) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** "8 steps · 8 reused", "3 of 8 failed": what a run did, in its list's words. */
export function stepsSummary({ total, reused, failed }: RunSummary["step_counts"]): string {
  const parts = [`${total} ${total === 1 ? "step" : "steps"}`];
  if (reused) parts.push(`${reused} reused`);
  if (failed) parts.push(`${failed} failed`);
  return parts.join(" · ");
}

export function runDuration(run: Pick<RunSummary, "started_at" | "finished_at">): string {
  if (!run.started_at) return "—";
  const end = run.finished_at ? new Date(run.finished_at).getTime() : Date.now();
  return formatSeconds((end - new Date(run.started_at).getTime()) / 1000) + (run.finished_at ? "" : " so far");
}

export function Home({ modules }: { modules: ModuleSpec[] }) {
  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [samples, setSamples] = useState<SampleInfo[]>([]);
  const [renaming, setRenaming] = useState<Pipeline | null>(null);
  const [deleting, setDeleting] = useState<Pipeline | null>(null);
  const [naming, setNaming] = useState(false);
  const toast = useToasts((s) => s.push);
  const fileInput = useRef<HTMLInputElement>(null);

  const fail = useCallback((what: string) => (e: Error) => toast("error", `${what}: ${e.message}`), [toast]);
  const refresh = useCallback(() => {
    api.pipelines.list().then((p) => setPipelines(p.results), fail("Your pipelines could not be listed"));
    api.runs.list().then((r) => setRuns(r.results), fail("Your runs could not be listed"));
  }, [fail]);

  useEffect(() => {
    refresh();
    api.pipelines.samples().then(setSamples, fail("The samples could not be listed"));
    api.datasets.list().then((page) => setDatasets(page.results), fail("Your datasets could not be listed"));
  }, [refresh, fail]);

  // Run states change while the page is open.
  useEffect(() => {
    const socket = new WebSocket(userRunsSocketUrl());
    socket.onmessage = (event) => {
      let message: UserRunStatusMessage;
      try {
        message = JSON.parse(String(event.data)) as UserRunStatusMessage;
      } catch {
        return;
      }
      if (message.type !== "run_status") return;
      setRuns((current) => {
        if (current && !current.some((r) => r.id === message.run_id)) {
          api.runs.list().then((r) => setRuns(r.results), () => undefined);
          return current;
        }
        return current?.map((r) => (r.id === message.run_id ? { ...r, status: message.status } : r)) ?? current;
      });
    };
    return () => socket.close();
  }, []);

  // The server gives a name the user already has a number ("name (2)").
  const create = async (name: string) => {
    const pipeline = await api.pipelines.create({ name });
    navigate(`/pipelines/${pipeline.id}/`);
  };

  const fromSample = async (slug: string) => {
    try {
      const pipeline = await api.pipelines.fromSample(slug);
      navigate(`/pipelines/${pipeline.id}/`);
    } catch (e) {
      fail("The sample could not be opened")(e as Error);
    }
  };

  // One click: a pipeline named after the data, reading it, open in the editor.
  const fromData = async (name: string, drop: PaletteDrop) => {
    try {
      const spec = modules.find((m) => m.id === drop.module);
      const pipeline = await api.pipelines.create({ document: documentFromData(name, drop, spec) });
      navigate(`/pipelines/${pipeline.id}/`);
    } catch (e) {
      fail(`A pipeline could not be started from ${name}`)(e as Error);
    }
  };

  const importFile = async (file: File) => {
    try {
      const pipeline = await api.pipelines.importFile(file);
      navigate(`/pipelines/${pipeline.id}/`);
    } catch (e) {
      fail("The file could not be imported")(e as Error);
    } finally {
      if (fileInput.current) fileInput.current.value = "";
    }
  };

  const duplicate = async (p: Pipeline) => {
    try {
      await api.pipelines.duplicate(p.id);
      toast("info", `Copied ${p.name}.`);
      refresh();
    } catch (e) {
      fail("The pipeline could not be duplicated")(e as Error);
    }
  };

  const remove = async (p: Pipeline) => {
    try {
      await api.pipelines.remove(p.id);
      toast("info", `Deleted ${p.name}.`);
      refresh();
    } catch (e) {
      fail("The pipeline could not be deleted")(e as Error);
    }
  };

  return (
    <div className="home">
      <header className="home-header">
        <h1>Atelier</h1>
        <nav aria-label="Sections">
          <a href="/jobs/" onClick={(e) => { e.preventDefault(); navigate("/jobs/"); }}>Jobs and experiments</a>
        </nav>
        <span className="spacer" />
        <span className="muted">{document.getElementById("root")?.dataset.username}</span>
        <form method="post" action="/logout/">
          <input type="hidden" name="csrfmiddlewaretoken" value={document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? ""} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main className="home-main">
        <section aria-label="Pipelines" className="home-section">
          <div className="section-header">
            <h2>Pipelines</h2>
            <span className="spacer" />
            <button type="button" className="primary" onClick={() => setNaming(true)}>
              New pipeline
            </button>
            <SamplePicker samples={samples} onPick={(slug) => void fromSample(slug)} />
            <label className="button">
              Import pipeline file…
              <input
                ref={fileInput}
                type="file"
                accept=".yaml,.yml,.json"
                className="visually-hidden"
                aria-label="Import pipeline file"
                onChange={(e) => e.target.files?.[0] && void importFile(e.target.files[0])}
              />
            </label>
          </div>
          {pipelines === null ? (
            <p className="muted">Loading…</p>
          ) : pipelines.length === 0 ? (
            <p className="empty">No pipeline yet. Create one, or start from a sample.</p>
          ) : (
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Versions</th>
                  <th scope="col">Changed</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {pipelines.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <a
                        href={`/pipelines/${p.id}/`}
                        onClick={(e) => {
                          e.preventDefault();
                          navigate(`/pipelines/${p.id}/`);
                        }}
                      >
                        {p.name}
                      </a>
                      {p.description && <div className="muted small">{p.description}</div>}
                    </td>
                    <td>{p.current_version}</td>
                    <td title={p.updated_at}>{formatWhen(p.updated_at)}</td>
                    <td className="actions">
                      <button type="button" aria-label={`Rename ${p.name}`} onClick={() => setRenaming(p)}>
                        Rename
                      </button>
                      <button type="button" aria-label={`Duplicate ${p.name}`} onClick={() => void duplicate(p)}>
                        Duplicate
                      </button>
                      <button type="button" className="danger" aria-label={`Delete ${p.name}`} onClick={() => setDeleting(p)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>

        <section aria-label="Start from data" className="home-section">
          <h2>Start from data</h2>
          <p className="muted small">A new pipeline that reads the dataset, open in the editor.</p>
          <ul className="start-from-data">
            {sampleNames(modules).map((name) => (
              <li key={`sample:${name}`}>
                <button type="button" aria-label={`Start from sample ${name}`} onClick={() => void fromData(name, sampleDrop(name))}>
                  {name} <span className="muted">sample</span>
                </button>
              </li>
            ))}
            {datasets.map((d) => (
              <li key={d.id}>
                <button type="button" aria-label={`Start from dataset ${d.name}`} onClick={() => void fromData(d.name, datasetDrop(d))}>
                  {d.name} <span className="muted">v{d.current_version}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>

        <section aria-label="Runs" className="home-section">
          <h2>Recent runs</h2>
          {runs === null ? (
            <p className="muted">Loading…</p>
          ) : runs.length === 0 ? (
            <p className="empty">No run yet. Open a pipeline and press Run.</p>
          ) : (
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">Pipeline</th>
                  <th scope="col">Status</th>
                  <th scope="col">Steps</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <a
                        href={`/runs/${r.id}/`}
                        onClick={(e) => {
                          e.preventDefault();
                          navigate(`/runs/${r.id}/`);
                        }}
                      >
                        {r.pipeline_name}
                      </a>{" "}
                      <span className="muted small">{r.id.slice(0, 8)}</span>
                    </td>
                    <td>
                      <span className={`badge badge-${r.status}`}>{r.status}</span>
                    </td>
                    <td>{stepsSummary(r.step_counts)}</td>
                    <td title={r.created_at}>{formatWhen(r.created_at)}</td>
                    <td>{runDuration(r)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </main>

      {naming && (
        <NameDialog title="New pipeline" label="Name" initial="" submitLabel="Create" onSubmit={create} onClose={() => setNaming(false)} />
      )}
      {renaming && (
        <NameDialog
          title={`Rename ${renaming.name}`}
          label="New name"
          initial={renaming.name}
          submitLabel="Rename"
          onSubmit={async (name) => {
            await api.pipelines.rename(renaming.id, name);
            setRenaming(null);
            refresh();
          }}
          onClose={() => setRenaming(null)}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete pipeline"
          message={`Delete ${deleting.name} and all its versions? Its runs are kept.`}
          confirmLabel="Delete"
          danger
          onConfirm={() => void remove(deleting)}
          onClose={() => setDeleting(null)}
        />
      )}
    </div>
  );
}

function SamplePicker({ samples, onPick }: { samples: SampleInfo[]; onPick(slug: string): void }) {
  const [slug, setSlug] = useState("");
  return (
    <form
      className="inline sample-picker"
      onSubmit={(e) => {
        e.preventDefault();
        if (slug) onPick(slug);
      }}
    >
      <select aria-label="Sample pipeline" value={slug} onChange={(e) => setSlug(e.target.value)}>
        <option value="">Start from a sample…</option>
        {samples.map((s) => (
          <option key={s.slug} value={s.slug} title={s.description}>
            {s.name}
          </option>
        ))}
      </select>
      <button type="submit" disabled={!slug}>
        Open sample
      </button>
    </form>
  );
}

/** Asks for a pipeline's name; `onSubmit`'s failure is shown under the field. */
function NameDialog({ title, label, initial, submitLabel, onSubmit, onClose }: {
  title: string;
  label: string;
  initial: string;
  submitLabel: string;
  onSubmit(name: string): Promise<void>;
  onClose(): void;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title={title} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit(name.trim()).catch((x: Error) => setError(x.message));
        }}
      >
        <div className="field">
          <label htmlFor="pipeline-name-field">{label}</label>
          <input
            id="pipeline-name-field"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. Automobile prices"
            autoFocus
            required
            maxLength={200}
          />
          {error && (
            <div className="field-errors" role="alert">
              {error}
            </div>
          )}
        </div>
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            {submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
