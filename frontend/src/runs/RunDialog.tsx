/** Submit a run with options: compute target, pipeline parameters, force rerun. */
import { useState } from "react";
import { parseScalar } from "../inspector/Inspector";
import type { PipelineDocument } from "../types";
import { ComputeSelect } from "../ui/ComputeSelect";
import { Dialog } from "../ui/Dialog";
import type { RunOptions } from "./runOptions";

export function RunDialog({
  document,
  initial,
  problems,
  onSubmit,
  onClose,
}: {
  document: PipelineDocument;
  /** The options Run would use (the last run's, or the defaults). */
  initial: RunOptions;
  problems: string[];
  onSubmit(options: RunOptions): void;
  onClose(): void;
}) {
  const [compute, setCompute] = useState(initial.compute);
  const [forceRerun, setForceRerun] = useState(initial.force_rerun);
  const parameters = Object.entries(document.parameters ?? {});
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(parameters.map(([name]) => [name, String(initial.parameters[name] ?? "")])),
  );

  return (
    <Dialog title="Run the pipeline" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const typed = Object.fromEntries(
            parameters.map(([name, p]) => [name, p.type === "string" ? values[name] : parseScalar(values[name] ?? "")]),
          );
          onSubmit({ compute, parameters: typed, force_rerun: forceRerun });
        }}
      >
        <div className="field">
          <label htmlFor="run-compute">Compute</label>
          <ComputeSelect id="run-compute" value={compute} onChange={setCompute} />
          <div className="field-help">Where the modules run, unless a module sets its own compute.</div>
        </div>
        {parameters.length > 0 && (
          <fieldset className="group">
            <legend>Pipeline parameters</legend>
            {parameters.map(([name, p]) => (
              <div className="field" key={name}>
                <label htmlFor={`run-parameter-${name}`}>
                  {name} <span className="muted">({p.type})</span>
                </label>
                <input id={`run-parameter-${name}`} value={values[name] ?? ""} onChange={(e) => setValues({ ...values, [name]: e.target.value })} />
                {p.description && <div className="field-help">{p.description}</div>}
              </div>
            ))}
          </fieldset>
        )}
        <div className="field">
          <label>
            <input type="checkbox" checked={forceRerun} onChange={(e) => setForceRerun(e.target.checked)} /> Force every module to run again
          </label>
          <div className="field-help">Otherwise modules whose outputs are already known are reused.</div>
        </div>
        {problems.length > 0 && (
          <div className="field-errors" role="alert">
            <strong>The pipeline cannot run yet:</strong>
            <ul>
              {problems.map((p, i) => (
                <li key={i}>{p}</li>
              ))}
            </ul>
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Submit run
          </button>
        </div>
      </form>
    </Dialog>
  );
}
