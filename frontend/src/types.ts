/**
 * The shapes the server speaks. REST responses come from the server's OpenAPI schema
 * (frontend/openapi.yaml, turned into api-schema.gen.ts by openapi-typescript at build), so a
 * serializer change the canvas does not follow fails the type check; this file only names
 * them and narrows the JSON fields the schema leaves open (a module's params, a step's
 * outputs). The WebSocket messages, the pipeline file and a step's error are in the schema
 * too, from the server's pydantic models (designer/web/wire_types.py). Times in WebSocket
 * messages are seconds since the epoch; times in REST responses are ISO 8601 strings.
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
  /** A Web Service Input: never a step of a run; it may feed an input beside the data that input takes in a run. */
  request_input: boolean;
  /** Other words for what it does, which the palette's search finds it by. */
  keywords: string[];
}

// -- the pipeline file (format atelier/pipeline@1) ----------------------------------------

export type ParamValue = unknown;

export type PipelineNode = Schemas["NodeDoc"];
export type PipelineParameter = Schemas["ParameterDoc"];
export type PipelineSettings = Schemas["SettingsDoc"];

/** The file's structure as the server sends it (`nodes` always there); `layout` holds each
 * node's place on the canvas. */
export type PipelineDocument = Omit<Schemas["PipelineDoc"], "layout" | "nodes"> & {
  nodes: Record<string, PipelineNode>;
  layout?: Record<string, { x: number; y: number }>;
};

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
/** What a queued or preparing step waits for, as the server says. */
export type StepWaiting = Schemas["StepWaiting"];

// The status groups, once on this side (the server's are designer/engine/events.py's).
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];
export const FINISHED_STEP_STATUSES: readonly StepStatus[] = ["completed", "reused", "failed", "cancelled", "skipped"];
export const SUCCEEDED_STEP_STATUSES: readonly StepStatus[] = ["completed", "reused"];
export const STARTED_STEP_STATUSES: readonly StepStatus[] = ["preparing", "running"];

/** A step's error: `origin` says whose failure it is (module, infrastructure, time_limit,
 * memory_limit, user). */
export type StepError = Schemas["StepErrorPayload"];
export type ErrorOrigin = Schemas["Origin"];

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

// -- WebSocket: /ws/runs/<id>/ and /ws/runs/ (designer/realtime/schemas.py) -------------

export type RunState = Schemas["RunState"];
export type StepState = Schemas["StepState"];
export type SnapshotMessage = Schemas["SnapshotMessage"];
export type RunStatusMessage = Schemas["RunStatusMessage"];
export type StepStatusMessage = Schemas["StepStatusMessage"];
export type StepLogMessage = Schemas["StepLogMessage"];
export type StepProgressMessage = Schemas["StepProgressMessage"];
export type StepMetricMessage = Schemas["StepMetricMessage"];
export type RunMessage = Schemas["RunMessage"];

/** /ws/runs/: one of the user's runs changed status. */
export type UserRunStatusMessage = Schemas["UserRunStatusMessage"];

// -- jobs (/api/jobs/, /api/experiments/) ---------------------------------------------------

export type JobSummary = Schemas["Job"];
/** A job: its run (steps as RunDetail's) plus its job file (`job.file`) and snapshot (`job.snapshot`). */
export type JobDetail = Omit<Schemas["JobDetail"], "parameters" | "pipeline" | "steps" | "job"> & {
  steps: StepRun[];
  job: {
    file: Record<string, unknown>;
    snapshot: { digest: string; files: number; bytes: number; ignore_file: string | null };
    requirements?: string[];
    compute?: string;
  };
};
export type Experiment = Schemas["Experiment"];
export type ExperimentRun = Schemas["ExperimentRun"];
/** The files of a job's snapshot (/api/jobs/<id>/snapshot/). */
export type SnapshotFiles = Schemas["Snapshot"];
/** A job's environment (/api/jobs/<id>/environment/): null on a target without one (local). */
export type JobEnvironment = Schemas["JobEnvironment"];
/** The files of an output folder (/api/runs/<id>/steps/<node>/outputs/<port>/files/). */
export type OutputFiles = Schemas["OutputFiles"];
