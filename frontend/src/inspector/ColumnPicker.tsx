/**
 * A column selector: one column (a label column), or a set of columns: all of them, chosen
 * ones, or by kind, each minus exclusions. Offers the upstream columns when they are known,
 * and free text when they are not. Excluding a column before anything is chosen means "all
 * columns (of the kinds the param takes) but this one": one click for the common case.
 */
import type { ColumnInfo, ColumnKind, ColumnSelector } from "../types";

const KINDS: ColumnKind[] = ["numeric", "string", "categorical", "boolean", "datetime"];

interface Props {
  id: string;
  label: string;
  multiple: boolean;
  value: ColumnSelector | string | null;
  onChange(value: unknown): void;
  columns: ColumnInfo[] | null;
  readOnly?: boolean;
  describedBy: string;
  /** The kinds of column the param takes (none: any). */
  kinds?: ColumnKind[];
}

const splitNames = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);

export function ColumnPicker(props: Props) {
  return props.multiple ? <ManyColumns {...props} /> : <OneColumn {...props} />;
}

function OneColumn({ id, value, onChange, columns, readOnly, describedBy }: Props) {
  const name = typeof value === "string" ? value : "";
  if (!columns) {
    return (
      <input id={id} type="text" value={name} disabled={readOnly} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value || undefined)} />
    );
  }
  const names = columns.map((c) => c.name);
  return (
    <select id={id} value={name} disabled={readOnly} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value || undefined)}>
      <option value="">(choose a column)</option>
      {name && !names.includes(name) && <option value={name}>{name} (not upstream)</option>}
      {columns.map((c) => (
        <option key={c.name} value={c.name}>
          {c.name}
          {c.kind ? ` (${c.kind})` : ""}
        </option>
      ))}
    </select>
  );
}

function asSelector(value: ColumnSelector | string | null): ColumnSelector | null {
  if (!value) return null;
  if (typeof value === "string") return { include: [value] };
  return value;
}

/** What "exclude these" means when nothing is chosen yet: every column the param can
 * take (all of them, or all of its kinds) but these. */
export function allBut(names: string[], kinds: ColumnKind[] = []): ColumnSelector {
  return { include: kinds.length ? { types: kinds } : "all", exclude: names };
}

function ManyColumns({ id, label, value, onChange, columns, readOnly, describedBy, kinds }: Props) {
  const selector = asSelector(value);
  const mode = !selector ? "" : selector.include === "all" ? "all" : Array.isArray(selector.include) ? "names" : "kinds";
  const exclude = selector?.exclude ?? [];
  const emit = (next: ColumnSelector) => onChange(next.exclude?.length ? next : { include: next.include });

  const setMode = (m: string) => {
    if (m === "all") emit({ include: "all", exclude });
    else if (m === "names") emit({ include: columns ? columns.map((c) => c.name).filter((n) => !exclude.includes(n)) : [] });
    else emit({ include: { types: ["numeric"] }, exclude });
  };

  return (
    <fieldset id={id} className="column-picker" aria-describedby={describedBy} disabled={readOnly}>
      <legend className="visually-hidden">{label}</legend>
      <select aria-label={`${label}: which columns`} value={mode} onChange={(e) => setMode(e.target.value)}>
        {mode === "" && <option value="">(choose)</option>}
        <option value="all">All columns</option>
        <option value="names">Chosen columns</option>
        <option value="kinds">Columns of some kinds</option>
      </select>

      {selector && mode === "names" && (
        <NameList
          label="Include"
          columns={columns}
          chosen={selector.include as string[]}
          onChange={(names) => emit({ include: names })}
        />
      )}
      {selector && mode === "kinds" && (
        <div className="checks" role="group" aria-label={`${label}: kinds`}>
          {KINDS.map((kind) => {
            const types = (selector.include as { types?: ColumnKind[] }).types ?? [];
            return (
              <label key={kind}>
                <input
                  type="checkbox"
                  checked={types.includes(kind)}
                  onChange={(e) =>
                    emit({ include: { types: e.target.checked ? [...types, kind] : types.filter((t) => t !== kind) }, exclude })
                  }
                />
                {kind}
              </label>
            );
          })}
        </div>
      )}
      {mode !== "names" && (
        <NameList
          label="Exclude"
          title={selector ? "Exclude" : kinds?.length ? `Exclude (from all ${kinds.join(" or ")} columns)` : "Exclude (from all columns)"}
          columns={columns}
          chosen={exclude}
          onChange={(names) => emit(selector ? { include: selector.include, exclude: names } : allBut(names, kinds))}
        />
      )}
    </fieldset>
  );
}

function NameList({
  label,
  title = label,
  columns,
  chosen,
  onChange,
}: {
  label: "Include" | "Exclude";
  /** What the list is headed with (default: `label`). */
  title?: string;
  columns: ColumnInfo[] | null;
  chosen: string[];
  onChange(names: string[]): void;
}) {
  if (!columns) {
    return (
      <label className="stacked">
        {title} (comma-separated names)
        <input type="text" value={chosen.join(", ")} onChange={(e) => onChange(splitNames(e.target.value))} />
      </label>
    );
  }
  const unknown = chosen.filter((n) => !columns.some((c) => c.name === n));
  return (
    <div className="checks column-list" role="group" aria-label={`${label} columns`}>
      <span className="checks-title">{title}</span>
      {[...columns.map((c) => c.name), ...unknown].map((name) => (
        <label key={name} className={unknown.includes(name) ? "unknown" : undefined}>
          <input
            type="checkbox"
            aria-label={`${label} column ${name}`}
            checked={chosen.includes(name)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, name] : chosen.filter((n) => n !== name))}
          />
          {name}
        </label>
      ))}
    </div>
  );
}
