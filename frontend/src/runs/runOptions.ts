/** What Run submits without asking, and what "Run with options…" starts from. */
import type { PipelineDocument, RunParameters, RunSubmit, RunSummary } from "../types";

export type RunOptions = Required<Pick<RunSubmit, "compute" | "parameters" | "force_rerun">>;

/** The compute and parameter values of the pipeline's last run (for the parameters it still
 * has), else the pipeline's defaults. Never a forced rerun: that is a one-off choice, made in
 * the dialog. A parameter with neither is left out, for the server to say it is missing. */
export function lastUsedOptions(document: PipelineDocument, last: Pick<RunSummary, "compute" | "parameters"> | null): RunOptions {
  const parameters: RunParameters = {};
  for (const [name, p] of Object.entries(document.parameters ?? {})) {
    const value = last && name in last.parameters ? last.parameters[name] : (p.default as RunParameters[string] | undefined);
    if (value !== undefined && value !== null) parameters[name] = value;
  }
  return { compute: last?.compute ?? document.settings?.default_compute ?? "local", parameters, force_rerun: false };
}
