/** One param of a module as a form field, generated from its declaration in the module spec. */
import { lazy, Suspense, useId, useState } from "react";
import type { ColumnInfo, ColumnSelector, GraphError, ParamSpec } from "../types";
import { useEditor } from "../canvas/store";
import { Dialog } from "../ui/Dialog";
import { ColumnPicker } from "./ColumnPicker";

const CodeEditor = lazy(() => import("./CodeEditor"));

interface FieldProps {
  spec: ParamSpec;
  value: unknown;
  onChange(value: unknown): void;
  errors: GraphError[];
  columns: { columns: ColumnInfo[] | null; note: string } | null;
  readOnly?: boolean;
}

const isExpression = (v: unknown) => typeof v === "string" && v.includes("${{");
const PIPELINE_PARAMETER = /^\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** The pipeline parameter a value is bound to ("${{parameters.train_fraction}}"), if it is just that. */
export function boundParameter(value: unknown): string | null {
  return typeof value === "string" ? (PIPELINE_PARAMETER.exec(value.trim())?.[1] ?? null) : null;
}

/** Whether a param applies given the node's values (its `when`), so that fields that
 * don't (Url while the source is a sample) are not shown. */
export function paramApplies(param: ParamSpec, values: Record<string, unknown>, params: readonly ParamSpec[]): boolean {
  return Object.entries(param.when ?? {}).every(([other, allowed]) => {
    const value = values[other] === undefined ? params.find((p) => p.name === other)?.default : values[other];
    return allowed.includes(value);
  });
}

/** What the user typed in a number field: a number when it is one, else the text (an
 * expression such as `${{parameters.x}}`, or a mistake the validation will name). */
export function parseNumber(text: string, integer: boolean): unknown {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return trimmed;
  return integer && Number.isInteger(n) ? n : integer ? trimmed : n;
}

export function rangeProblem(spec: ParamSpec, value: unknown): string | null {
  if ((spec.type !== "int" && spec.type !== "float") || typeof value !== "number") return null;
  if (spec.min !== null && spec.min !== undefined && value < spec.min) return `At least ${spec.min}.`;
  if (spec.max !== null && spec.max !== undefined && value > spec.max) return `At most ${spec.max}.`;
  return null;
}

function rangeHint(spec: ParamSpec): string {
  if (spec.type !== "int" && spec.type !== "float") return "";
  const { min, max } = spec;
  const kind = spec.type === "int" ? "a whole number" : "a number";
  if (min != null && max != null) return `${kind} from ${min} to ${max}`;
  if (min != null) return `${kind}, at least ${min}`;
  if (max != null) return `${kind}, at most ${max}`;
  return kind;
}

export function ParamField({ spec, value, onChange, errors, columns, readOnly }: FieldProps) {
  const id = useId();
  const current = value === undefined ? spec.default : value;
  const local = rangeProblem(spec, current);
  const problems = [...errors.map((e) => e.message), ...(local ? [local] : [])];
  const describedBy = `${id}-help ${problems.length ? `${id}-errors` : ""}`.trim();
  const common = { id, "aria-describedby": describedBy, "aria-invalid": problems.length > 0, disabled: readOnly };
  const bound = boundParameter(current);
  let control;

  switch (spec.type) {
    case "bool":
      control = <input type="checkbox" {...common} checked={Boolean(current)} onChange={(e) => onChange(e.target.checked)} />;
      break;
    case "int":
    case "float":
      control = (
        <input
          type="text"
          inputMode={spec.type === "int" ? "numeric" : "decimal"}
          {...common}
          value={current === null || current === undefined ? "" : String(current)}
          placeholder={isExpression(current) ? undefined : rangeHint(spec)}
          onChange={(e) => onChange(parseNumber(e.target.value, spec.type === "int"))}
        />
      );
      break;
    case "choice":
      control = (
        <select {...common} value={String(current ?? "")} onChange={(e) => onChange(e.target.value)}>
          {current === null && <option value="">(choose)</option>}
          {spec.choices.map((c) => (
            <option key={c} value={c}>
              {spec.labels?.[c] ?? c}
            </option>
          ))}
        </select>
      );
      break;
    case "code":
      control =
        spec.language === "python" || spec.language === "sql" ? (
          <Suspense fallback={<textarea {...common} rows={8} value={String(current ?? "")} readOnly />}>
            <div className="code-field" id={id}>
              <CodeEditor value={String(current ?? "")} language={spec.language} label={spec.label} onChange={onChange} readOnly={readOnly} />
            </div>
            <WideCode label={spec.label} language={spec.language} value={String(current ?? "")} onChange={onChange} columns={columns} readOnly={readOnly} />
          </Suspense>
        ) : (
          <textarea {...common} rows={8} className="mono" value={String(current ?? "")} onChange={(e) => onChange(e.target.value)} />
        );
      break;
    case "columns":
      control = (
        <ColumnPicker
          id={id}
          label={spec.label}
          multiple={spec.multiple}
          kinds={spec.kinds}
          value={current as ColumnSelector | string | null}
          onChange={onChange}
          columns={columns?.columns ?? null}
          readOnly={readOnly}
          describedBy={describedBy}
        />
      );
      break;
    case "struct": {
      const object = (current && typeof current === "object" ? current : {}) as Record<string, unknown>;
      control = (
        <fieldset className="struct" id={id} aria-describedby={describedBy}>
          {spec.fields.map((field) => (
            <ParamField
              key={field.name}
              spec={field}
              value={object[field.name]}
              onChange={(v) => onChange({ ...object, [field.name]: v })}
              errors={[]}
              columns={columns}
              readOnly={readOnly}
            />
          ))}
        </fieldset>
      );
      break;
    }
    case "string":
      control = (
        <>
          <input
            type="text"
            {...common}
            list={spec.suggestions ? `${id}-suggestions` : undefined}
            value={String(current ?? "")}
            onChange={(e) => onChange(e.target.value)}
          />
          {spec.suggestions && (
            <datalist id={`${id}-suggestions`}>
              {spec.suggestions.map((value) => (
                <option key={value} value={value} />
              ))}
            </datalist>
          )}
        </>
      );
      break;
    default:
      control = (
        <input type="text" {...common} value={String(current ?? "")} onChange={(e) => onChange(e.target.value)} />
      );
  }

  return (
    <div className={`field field-${spec.type}${problems.length ? " invalid" : ""}`} data-param={spec.name}>
      <label htmlFor={id}>
        {spec.label}
        {spec.required && <span aria-hidden="true"> *</span>}
      </label>
      {bound === null ? control : <BoundParameter id={id} name={bound} onUnbind={() => onChange(undefined)} readOnly={readOnly} />}
      <div id={`${id}-help`} className="field-help">
        {[spec.help, rangeHint(spec), spec.type === "columns" ? columns?.note : ""].filter(Boolean).join(" · ")}
      </div>
      {problems.length > 0 && (
        <ul id={`${id}-errors`} className="field-errors" role="alert" aria-label={`problems with ${spec.label}`}>
          {problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A param set by a pipeline parameter: its name and value, in words, not `${{…}}`. */
function BoundParameter({ id, name, onUnbind, readOnly }: { id: string; name: string; onUnbind(): void; readOnly?: boolean }) {
  const parameter = useEditor((s) => s.meta.parameters?.[name]);
  return (
    <div className="bound-parameter" id={id}>
      <span>
        Pipeline parameter: <strong>{name}</strong>
        {parameter ? ` (${parameter.default ?? "no default: set when a run is submitted"})` : " (not defined: add it to the pipeline's parameters)"}
      </span>
      {!readOnly && (
        <button type="button" className="link" onClick={onUnbind}>
          Set a value here instead
        </button>
      )}
    </div>
  );
}

/** The code in a dialog as wide as the screen, the input table's columns beside it: the
 * inspector's column is too narrow to write in. */
function WideCode({ label, language, value, onChange, columns, readOnly }: {
  label: string;
  language: string;
  value: string;
  onChange(value: string): void;
  columns: FieldProps["columns"];
  readOnly?: boolean;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="small" onClick={() => setOpen(true)}>
        Open in a wide editor
      </button>
      {open && (
        <Dialog title={label} wide onClose={() => setOpen(false)}>
          <div className="wide-code">
            <div className="code-field">
              <CodeEditor value={value} language={language} label={`${label} (wide editor)`} onChange={onChange} readOnly={readOnly} height="60vh" />
            </div>
            <aside className="wide-code-columns" aria-label="Input columns">
              <h3>Input columns</h3>
              {columns?.columns ? (
                <ul>
                  {columns.columns.map((c) => (
                    <li key={c.name}>
                      <code>{c.name}</code> {c.kind && <span className="muted">{c.kind}</span>}
                    </li>
                  ))}
                </ul>
              ) : null}
              <p className="muted">{columns?.note ?? "This module has no input table."}</p>
            </aside>
          </div>
          <div className="dialog-actions">
            <button type="button" className="primary" onClick={() => setOpen(false)}>
              Done
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}
