/**
 * The typed client of Atelier's REST API. The page is signed in with Django's session
 * cookie; unsafe requests carry the CSRF token from the `csrftoken` cookie (the page shell
 * also embeds it, for the first request before any cookie is readable). Every error comes
 * back as an `ApiError` holding the server's `{"errors": [...]}` items.
 */
import type {
  ApiErrorItem,
  ComputeTarget,
  Conflict,
  Dataset,
  Experiment,
  ExperimentRun,
  JobDetail,
  JobEnvironment,
  JobSummary,
  OutputFiles,
  ModuleSpec,
  Page,
  Pipeline,
  PipelineDetail,
  PipelineDocument,
  Preview,
  RunDetail,
  RunSummary,
  RunSubmit,
  SampleInfo,
  SnapshotFiles,
  StepLogs,
  StepMetrics,
  UploadReading,
  User,
  ValidationResult,
} from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly errors: ApiErrorItem[];
  /** The whole response body (e.g. a 409 also carries the current version). */
  readonly body: unknown;

  constructor(status: number, errors: ApiErrorItem[], body: unknown) {
    super(errors.map((e) => e.message).join("; ") || `request failed (${status})`);
    this.status = status;
    this.errors = errors;
    this.body = body;
  }
}

/** A save refused because someone else saved first; carries what is saved now. */
export class ConflictError extends ApiError {
  readonly conflict: Conflict;

  constructor(body: Conflict) {
    super(409, body.errors, body);
    this.conflict = body;
  }
}

function cookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

function csrfToken(): string {
  return cookie("csrftoken") ?? document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
}

type Body = object | FormData | string | undefined;

async function request<T>(method: string, path: string, body?: Body, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  const sendHeaders = init.headers as Record<string, string>;
  if (method !== "GET" && method !== "HEAD") sendHeaders["X-CSRFToken"] = csrfToken();
  if (body instanceof FormData || typeof body === "string") {
    init.body = body;
  } else if (body !== undefined) {
    sendHeaders["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, [{ code: "network", message: "The server cannot be reached. Check your connection and try again." }], null);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    if (response.status === 409 && isConflict(data)) throw new ConflictError(data);
    const errors = errorItems(data) ?? [{ code: `http_${response.status}`, message: `The server answered ${response.status} ${response.statusText}.` }];
    if (response.status === 401 || response.status === 403) {
      // A session that expired: the sign-in page brings the user back here.
      if (errors.some((e) => e.code === "not_authenticated")) window.location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`);
    }
    throw new ApiError(response.status, errors, data);
  }
  return data as T;
}

function errorItems(data: unknown): ApiErrorItem[] | null {
  if (data && typeof data === "object" && Array.isArray((data as { errors?: unknown }).errors)) {
    return (data as { errors: ApiErrorItem[] }).errors;
  }
  return null;
}

function isConflict(data: unknown): data is Conflict {
  return !!data && typeof data === "object" && "current_version" in data && "document" in data;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

const enc = encodeURIComponent;

export const api = {
  me: () => request<User>("GET", "/api/auth/me/"),
  modules: () => request<ModuleSpec[]>("GET", "/api/modules/"),
  computeTargets: () => request<ComputeTarget[]>("GET", "/api/compute/"),

  pipelines: {
    list: (params: { limit?: number; offset?: number } = {}) =>
      request<Page<Pipeline>>("GET", `/api/pipelines/${query({ limit: 100, ...params })}`),
    get: (id: number) => request<PipelineDetail>("GET", `/api/pipelines/${id}/`),
    create: (body: { name?: string; document?: PipelineDocument; description?: string }) =>
      request<PipelineDetail>("POST", "/api/pipelines/", body),
    save: (id: number, body: { document: PipelineDocument; base_version: number; message?: string; session?: string }) =>
      request<PipelineDetail>("PUT", `/api/pipelines/${id}/`, body),
    rename: (id: number, name: string) => request<PipelineDetail>("PATCH", `/api/pipelines/${id}/`, { name }),
    remove: (id: number) => request<void>("DELETE", `/api/pipelines/${id}/`),
    duplicate: (id: number, name?: string) =>
      request<PipelineDetail>("POST", `/api/pipelines/${id}/duplicate/`, name ? { name } : {}),
    validate: (id: number, body: { document?: PipelineDocument; parameters?: Record<string, unknown>; compute?: string }) =>
      request<ValidationResult>("POST", `/api/pipelines/${id}/validate/`, body),
    importFile: (file: File, name?: string) => {
      const form = new FormData();
      form.append("file", file);
      if (name) form.append("name", name);
      return request<PipelineDetail>("POST", "/api/pipelines/import/", form);
    },
    exportUrl: (id: number, format: "yaml" | "json") => `/api/pipelines/${id}/export/${query({ format })}`,
    samples: () => request<SampleInfo[]>("GET", "/api/pipelines/samples/"),
    fromSample: (slug: string) => request<PipelineDetail>("POST", `/api/pipelines/samples/${enc(slug)}/`),
  },

  runs: {
    /** `pipeline`: runs whose pipeline name contains it (a search); `pipeline_id`: the runs of that pipeline. */
    list: (params: { limit?: number; offset?: number; pipeline?: string; pipeline_id?: number } = {}) =>
      request<Page<RunSummary>>("GET", `/api/runs/${query({ limit: 50, ...params })}`),
    get: (id: string) => request<RunDetail>("GET", `/api/runs/${enc(id)}/`),
    submit: (body: RunSubmit) => request<RunDetail>("POST", "/api/runs/", body),
    cancel: (id: string) => request<RunDetail>("POST", `/api/runs/${enc(id)}/cancel/`),
    rerun: (id: string, forceRerun?: boolean) =>
      request<RunDetail>("POST", `/api/runs/${enc(id)}/rerun/`, forceRerun === undefined ? {} : { force_rerun: forceRerun }),
    clone: (id: string) => request<{ pipeline_id: number; name: string; version: number }>("POST", `/api/runs/${enc(id)}/clone/`, {}),
    rerunFrom: (id: string, node: string) => request<RunDetail>("POST", `/api/runs/${enc(id)}/rerun-from/${enc(node)}/`, {}),
    logs: (id: string, node: string, tail?: number) =>
      request<StepLogs>("GET", `/api/runs/${enc(id)}/steps/${enc(node)}/logs/${query({ tail })}`),
    metrics: (id: string, node: string) => request<StepMetrics>("GET", `/api/runs/${enc(id)}/steps/${enc(node)}/metrics/`),
    preview: (id: string, node: string, port: string, params: { offset?: number; limit?: number; sort?: string } = {}) =>
      request<Preview>("GET", `/api/runs/${enc(id)}/steps/${enc(node)}/outputs/${enc(port)}/preview/${query(params)}`),
    /** A table downloads as Parquet, or as CSV with `format: "csv"`; anything else as a zip. */
    downloadUrl: (id: string, node: string, port: string, format?: "csv") =>
      `/api/runs/${enc(id)}/steps/${enc(node)}/outputs/${enc(port)}/download/${format ? query({ format }) : ""}`,
    /** The files of an output that is a folder (a job's ./outputs, ./logs). */
    outputFiles: (id: string, node: string, port: string) =>
      request<OutputFiles>("GET", `/api/runs/${enc(id)}/steps/${enc(node)}/outputs/${enc(port)}/files/`),
    /** One file of an output folder, by its path in `outputFiles`. */
    outputFileUrl: (id: string, node: string, port: string, path: string) =>
      `/api/runs/${enc(id)}/steps/${enc(node)}/outputs/${enc(port)}/file/${query({ path })}`,
    imageUrl: (id: string, node: string, name: string) => `/api/runs/${enc(id)}/steps/${enc(node)}/images/${enc(name)}`,
  },

  jobs: {
    list: () => request<Page<JobSummary>>("GET", `/api/jobs/${query({ limit: 100 })}`),
    get: (id: string) => request<JobDetail>("GET", `/api/jobs/${enc(id)}/`),
    snapshot: (id: string) => request<SnapshotFiles>("GET", `/api/jobs/${enc(id)}/snapshot/`),
    environment: (id: string) => request<JobEnvironment>("GET", `/api/jobs/${enc(id)}/environment/`),
    /** `job`: the job file's text; `code`: the code folder as a zip. */
    submit: (job: string, code: File, compute?: string) => {
      const form = new FormData();
      form.append("job", job);
      form.append("code", code);
      if (compute) form.append("compute", compute);
      return request<JobDetail>("POST", "/api/jobs/", form);
    },
  },

  experiments: {
    list: () => request<Experiment[]>("GET", "/api/experiments/"),
    runs: (name: string) => request<ExperimentRun[]>("GET", `/api/experiments/${enc(name)}/`),
  },

  datasets: {
    list: () => request<Page<Dataset>>("GET", `/api/datasets/${query({ limit: 200 })}`),
    upload: (file: File, name: string, reading: UploadReading) => {
      const form = new FormData();
      form.append("file", file);
      form.append("name", name);
      form.append("encoding", reading.encoding);
      form.append("delimiter", reading.delimiter);
      form.append("has_header", String(reading.has_header));
      return request<Dataset>("POST", "/api/datasets/", form);
    },
  },
};

/** The URL of the socket of the user's run status changes. */
export function userRunsSocketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/runs/`;
}

/** The URL of a run's event socket, on the page's own host. */
export function runSocketUrl(runId: string, after?: number): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/runs/${enc(runId)}/${after === undefined ? "" : `?after=${after}`}`;
}
