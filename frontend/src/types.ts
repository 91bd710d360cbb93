/**
 * The shapes the server speaks: the module catalog, pipeline files, pipelines, runs and
 * step runs (the serializers of designer/pipelines, runs and datasets), and the WebSocket vocabulary of
 * designer/realtime/schemas.py. Times in WebSocket messages are seconds since the epoch;
 * times in REST responses are ISO 8601 strings.
 */

// -- module catalog (/api/modules/) ------------------------------------------------------

export type PortType = string; // "DataFrame", "UntrainedModel", "TrainedModel", "Transform", …

export interface PortSpec {
  name: string;
  type: PortType;
  optional?: boolean;
  help: string;
}

interface ParamBase {
  name: string;
  label: string;
  required: boolean;
  help: string;
}

export type ColumnKind = "numeric" | "string" | "categorical" | "boolean" | "datetime";
export type ColumnRole = "feature" | "label" | "score";

/** A column selector: `{include: all | [names] | {types, roles}, exclude: [names]}`. */
export interface ColumnSelector {
  include: "all" | string[] | { types?: ColumnKind[]; roles?: ColumnRole[] };
  exclude?: string[];
}

export type ParamSpec =
  | (ParamBase & { type: "bool"; default: boolean | null })
  | (ParamBase & { type: "int" | "float"; default: number | string | null; min: number | null; max: number | null })
  | (ParamBase & { type: "choice"; default: string | null; choices: string[] })
  | (ParamBase & { type: "string"; default: string | null })
  | (ParamBase & { type: "code"; default: string | null; language: "python" | "sql" | string })
  | (ParamBase & { type: "columns"; default: ColumnSelector | string | null; kinds: ColumnKind[]; multiple: boolean })
  | (ParamBase & { type: "struct"; default: Record<string, unknown> | null; fields: ParamSpec[] });

export interface ModuleSpec {
  id: string;
  version: number;
  name: string;
  category: string;
  description: string;
  help: string;
  deterministic: boolean;
  replaces: string[];
  inputs: PortSpec[];
  outputs: PortSpec[];
  params: ParamSpec[];
}

// -- the pipeline file (format atelier/pipeline@1) ----------------------------------------

export type ParamValue = unknown;

export interface PipelineNode {
  module: string;
  version?: number;
  /** input port -> "upstream_node.output_port" */
  inputs?: Record<string, string>;
  params?: Record<string, ParamValue>;
  compute?: string;
  comment?: string;
  force_rerun?: boolean;
  timeout?: number;
}

export interface PipelineParameter {
  type: "float" | "int" | "string" | "bool";
  default?: string | number | boolean | null;
  description?: string;
}

export interface PipelineSettings {
  default_compute?: string;
  continue_on_step_failure?: boolean;
  force_rerun?: boolean;
  step_timeout?: number;
}

export interface PipelineDocument {
  format: "atelier/pipeline@1";
  name: string;
  description?: string;
  settings?: PipelineSettings;
  parameters?: Record<string, PipelineParameter>;
  nodes: Record<string, PipelineNode>;
  layout?: Record<string, { x: number; y: number }>;
}

// -- pipelines (/api/pipelines/) ---------------------------------------------------------

export interface Pipeline {
  id: number;
  name: string;
  description: string;
  current_version: number;
  created_at: string;
  updated_at: string;
}

export interface PipelineDetail extends Pipeline {
  document: PipelineDocument;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** One validation problem; `node` (and `port` or `param`) say where. */
export interface GraphError {
  code: string;
  message: string;
  node: string | null;
  port?: string;
  param?: string;
  details?: Record<string, unknown>;
}

/** A column as schema propagation knows it. */
export interface ColumnInfo {
  name: string;
  kind?: string;
  role?: string | null;
}

export interface ValidationResult {
  valid: boolean;
  errors: GraphError[];
  /** node -> output port -> columns (null where unknown before a run) */
  schemas?: Record<string, Record<string, ColumnInfo[] | null>>;
}

/** The body of a 409 on a stale save. */
export interface Conflict {
  errors: ApiErrorItem[];
  current_version: number;
  document: PipelineDocument;
}

export interface SampleInfo {
  slug: string;
  name: string;
  description: string;
}

// -- runs (/api/runs/) -------------------------------------------------------------------

export type RunStatus = "queued" | "running" | "completed" | "failed" | "cancelled";
export type StepStatus =
  | "queued"
  | "preparing"
  | "running"
  | "completed"
  | "reused"
  | "failed"
  | "cancelled"
  | "skipped";

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/** A step's error: `origin` says whose failure it is (module, infrastructure, limit, user). */
export interface StepError {
  code?: string;
  message: string;
  origin?: "module" | "infrastructure" | "limit" | "user" | string;
  [key: string]: unknown;
}

export interface OutputInfo {
  type?: string;
  rows?: number;
  /** A table output's columns. */
  schema?: ColumnInfo[];
  [key: string]: unknown;
}

export interface StepRun {
  node: string;
  module: string;
  module_version: number;
  compute: string;
  status: StepStatus;
  reused: boolean;
  reused_from: string | null;
  cache_key: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
  error: StepError | null;
  /** Where the step ran, as its compute backend tells it (worker, image, container…). */
  placement?: Record<string, unknown>;
  /** How many times a worker started it (distributed runs). */
  attempts?: number;
  outputs: Record<string, OutputInfo>;
  metrics: Record<string, number | null>;
  warnings: string[];
  has_images: boolean;
}

export interface Run {
  id: string;
  pipeline_name: string;
  status: RunStatus;
  source: "cli" | "api" | "canvas";
  compute: string;
  force_rerun: boolean;
  parameters: Record<string, string | number | boolean | null>;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  last_seq: number;
}

export interface RunDetail extends Run {
  pipeline: PipelineDocument;
  steps: StepRun[];
}

export interface RunSubmit {
  pipeline_id?: number;
  version?: number;
  pipeline?: PipelineDocument;
  parameters?: Record<string, string | number | boolean | null>;
  compute?: string;
  force_rerun?: boolean;
}

export interface ColumnStatistics {
  name: string;
  type: string;
  dtype: string;
  role: string | null;
  count: number;
  missing: number;
  unique: number;
  min: unknown;
  max: unknown;
  mean: number | null;
  std: number | null;
  top_values: { value: unknown; count: number }[];
  histogram: { edges: number[]; counts: number[] } | null;
}

export interface Preview {
  total_rows: number;
  offset: number;
  limit: number;
  sort: string | null;
  columns: ColumnStatistics[];
  rows: unknown[][];
}

export interface StepMetrics {
  node: string;
  metrics: Record<string, number | null>;
  visuals: Record<string, unknown>;
  warnings: string[];
  images: string[];
}

export interface StepLogs {
  node: string;
  lines: string[];
}

// -- datasets (/api/datasets/) -----------------------------------------------------------

export interface Dataset {
  id: number;
  name: string;
  current_version: number;
  created_at: string;
  updated_at: string;
}

export interface User {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
}

// -- errors ------------------------------------------------------------------------------

/** Every API error body is `{"errors": [ApiErrorItem, …]}`. */
export interface ApiErrorItem {
  code: string;
  message: string;
  field?: string;
  node?: string | null;
  port?: string;
  param?: string;
  [key: string]: unknown;
}

// -- WebSocket: /ws/runs/<id>/ (designer/realtime/schemas.py) ----------------------------

export interface RunState {
  id: string;
  status: RunStatus;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface StepState {
  status: StepStatus;
  reused: boolean;
  started_at: number | null;
  finished_at: number | null;
  duration_s: number | null;
  error: StepError | null;
  placement?: Record<string, unknown>;
}

export interface SnapshotMessage {
  type: "snapshot";
  seq: number;
  run: RunState;
  steps: Record<string, StepState>;
}

interface EventBase {
  seq: number;
  at: number;
}

export interface RunStatusMessage extends EventBase {
  type: "run_status";
  status: RunStatus;
}

export interface StepStatusMessage extends EventBase {
  type: "step_status";
  node: string;
  status: StepStatus;
  reused: boolean;
  started_at: number | null;
  finished_at: number | null;
  duration_s: number | null;
  error: StepError | null;
  cache_key: string | null;
  reused_from: string | null;
  placement?: Record<string, unknown> | null;
}

export interface StepLogMessage extends EventBase {
  type: "step_log";
  node: string;
  lines: string[];
}

export interface StepProgressMessage extends EventBase {
  type: "step_progress";
  node: string;
  fraction: number;
  message: string;
}

export interface StepMetricMessage extends EventBase {
  type: "step_metric";
  node: string;
  name: string;
  value: number | null;
}

export type RunMessage =
  | SnapshotMessage
  | RunStatusMessage
  | StepStatusMessage
  | StepLogMessage
  | StepProgressMessage
  | StepMetricMessage;

/** /ws/runs/: one of the user's runs changed status. */
export interface UserRunStatusMessage {
  type: "run_status";
  run_id: string;
  status: RunStatus;
  seq: number;
  at: number;
}
