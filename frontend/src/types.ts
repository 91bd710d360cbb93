/**
 * The shapes the server speaks. REST responses come from the server's OpenAPI schema
 * (frontend/openapi.yaml, turned into api-schema.gen.ts by openapi-typescript at build), so a
 * serializer change the canvas does not follow fails the type check; this file only names
 * them and gives the JSON fields the schema cannot describe their shapes: the pipeline file
 * (format atelier/pipeline@1), a module's params, a step's error and outputs. The WebSocket
 * vocabulary (designer/realtime/schemas.py) is not in the OpenAPI schema and is declared
 * here. Times in WebSocket messages are seconds since the epoch; times in REST responses
 * are ISO 8601 strings.
 */
import type { components } from "./api-schema.gen";

type Schemas = components["schemas"];

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
  /** When it applies: while each named param has one of the listed values (always when absent). */
  when?: Record<string, unknown[]>;
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
  // `labels`: what people read for each choice (absent from older servers: the value is shown).
  | (ParamBase & { type: "choice"; default: string | null; choices: string[]; labels?: Record<string, string> })
  // `suggestions`: values to pick from (a sample's name); any text is still accepted.
  | (ParamBase & { type: "string"; default: string | null; suggestions?: string[] })
  | (ParamBase & { type: "code"; default: string | null; language: "python" | "sql" | string })
  | (ParamBase & { type: "columns"; default: ColumnSelector | string | null; kinds: ColumnKind[]; multiple: boolean })
  | (ParamBase & { type: "struct"; default: Record<string, unknown> | null; fields: ParamSpec[] })
  // Values a learner tries in parameter_range mode: "2; 8; 32" or "min:max:count[:log]" (a text field).
  | (ParamBase & { type: "range"; default: string | number[] | null; value_type: "int" | "float"; min: number | null; max: number | null });

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

export type Pipeline = Schemas["Pipeline"];

export type PipelineDetail = Omit<Schemas["PipelineDetail"], "document"> & { document: PipelineDocument };

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** One validation problem; `node` (and `port` or `param`) say where. */
export type GraphError = Schemas["GraphError"];

/** A column as schema propagation knows it. */
export interface ColumnInfo {
  name: string;
  kind?: string;
  role?: string | null;
}

export type ValidationResult = Omit<Schemas["ValidationResult"], "schemas"> & {
  /** node -> output port -> columns (null where unknown before a run) */
  schemas?: Record<string, Record<string, ColumnInfo[] | null>>;
};

/** The body of a 409 on a stale save. */
export type Conflict = Omit<Schemas["Conflict"], "errors" | "document"> & {
  errors: ApiErrorItem[];
  document: PipelineDocument;
};

export type SampleInfo = Schemas["Sample"];

// -- runs (/api/runs/) -------------------------------------------------------------------

export type RunStatus = Schemas["RunStatusEnum"];
export type StepStatus = Schemas["StepStatusEnum"];

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/** Whose failure a step's error is (designer/engine/step_errors.py's Origin). */
export type ErrorOrigin = "module" | "infrastructure" | "time_limit" | "memory_limit" | "user";

/** A step's error: `origin` says whose failure it is; an origin this canvas does not know yet is shown as it is. */
export interface StepError {
  code?: string;
  message: string;
  origin?: ErrorOrigin | (string & {});
  [key: string]: unknown;
}

export interface OutputInfo {
  type?: string;
  rows?: number;
  /** A table output's columns. */
  schema?: ColumnInfo[];
  [key: string]: unknown;
}

export type StepRun = Omit<Schemas["StepRun"], "error" | "outputs"> & {
  error: StepError | null;
  outputs: Record<string, OutputInfo>;
};

export type RunParameters = Record<string, string | number | boolean | null>;

/** A run as lists show it, with how many steps it has, reused and failed. */
export type RunSummary = Omit<Schemas["RunSummary"], "parameters"> & { parameters: RunParameters };

export type RunDetail = Omit<Schemas["RunDetail"], "parameters" | "pipeline" | "steps"> & {
  parameters: RunParameters;
  pipeline: PipelineDocument;
  steps: StepRun[];
};

export interface RunSubmit {
  pipeline_id?: number;
  version?: number;
  pipeline?: PipelineDocument;
  parameters?: RunParameters;
  compute?: string;
  force_rerun?: boolean;
}

export type ColumnStatistics = Schemas["ColumnStatistics"];
export type Preview = Schemas["Preview"];
export type StepMetrics = Schemas["Metrics"];
export type StepLogs = Schemas["Logs"];

// -- datasets (/api/datasets/) -----------------------------------------------------------

export type Dataset = Schemas["Dataset"];

/** Where steps run (/api/compute/): `available` is false where this server cannot run them. */
export type ComputeTarget = Schemas["ComputeTarget"];

/** How an upload's delimited text is read (Import Data's params of the same names). */
export type UploadReading = Required<Pick<Schemas["DatasetUploadRequest"], "encoding" | "delimiter" | "has_header">>;
export type Delimiter = Schemas["DelimiterEnum"];
export type User = Schemas["User"];

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
