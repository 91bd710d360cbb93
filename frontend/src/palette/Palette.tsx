/**
 * The module palette: modules grouped by category, a search, each module's help, and the
 * user's datasets (with an upload). A module is dragged onto the canvas with the pointer,
 * or added at the centre of the view with Enter/click, so the keyboard reaches everything.
 */
import { useEffect, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from "react";
import { api, ApiError } from "../api";
import type { Dataset, Delimiter, ModuleSpec, UploadReading } from "../types";
import { Help } from "../ui/Help";
import { Markdown } from "../ui/Markdown";
import { useToasts } from "../ui/toasts";
import { searchModules } from "./search";
import { uploadAdvice } from "./uploadAdvice";

export interface PaletteDrop {
  module: string;
  params?: Record<string, unknown>;
}

interface Props {
  modules: ModuleSpec[];
  /** Add a module where the pointer let go (screen coordinates), or at the view's centre. */
  onAdd(drop: PaletteDrop, at?: { x: number; y: number }): void;
  readOnly?: boolean;
}

const CATEGORY_ORDER = [
  "Data Input and Output",
  "Data Transformation",
  "Python Language",
  "R Language",
  "Machine Learning Algorithms",
  "Model Training",
  "Model Scoring and Evaluation",
  "Statistical Functions",
];

export function Palette({ modules, onAdd, readOnly }: Props) {
  const [query, setQuery] = useState("");
  const searching = query.trim() !== "";
  const groups = useMemo(() => {
    const byCategory = new Map<string, ModuleSpec[]>();
    for (const m of modules) byCategory.set(m.category, [...(byCategory.get(m.category) ?? []), m]);
    const rank = (c: string) => (CATEGORY_ORDER.indexOf(c) + 1 || 99);
    return [...byCategory.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  }, [modules]);
  // Ranked across categories: the best match on top wherever it is filed.
  const found = useMemo(() => (searching ? searchModules(modules, query) : []), [modules, query, searching]);

  return (
    <aside className="palette" aria-label="Module palette">
      <input
        type="search"
        className="palette-search"
        placeholder="Search: e.g. drop column"
        aria-label="Search modules"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div className="palette-groups">
        {/* Data first: a pipeline starts from it. */}
        <Datasets samples={sampleNames(modules)} onAdd={onAdd} disabled={readOnly} query={query} />
        {searching ? (
          found.length > 0 && (
            <details open className="palette-group">
              <summary>Modules</summary>
              <ul aria-label="Modules found">
                {found.map((spec) => (
                  <PaletteItem key={spec.id} spec={spec} onAdd={onAdd} disabled={readOnly} />
                ))}
              </ul>
            </details>
          )
        ) : (
          groups.map(([category, specs]) => (
            <details key={category} open className="palette-group">
              <summary>{category}</summary>
              <ul>
                {specs.map((spec) => (
                  <PaletteItem key={spec.id} spec={spec} onAdd={onAdd} disabled={readOnly} />
                ))}
              </ul>
            </details>
          ))
        )}
        {searching && !found.length && <p className="muted">No module matches “{query}”.</p>}
      </div>
    </aside>
  );
}

function useDragToCanvas(drop: PaletteDrop, onAdd: Props["onAdd"], label: string) {
  const dragged = useRef(false);
  const onPointerDown = (event: ReactPointerEvent) => {
    if (event.button !== 0) return;
    const start = { x: event.clientX, y: event.clientY };
    dragged.current = false;
    let ghost: HTMLDivElement | null = null;
    const move = (e: PointerEvent) => {
      if (!dragged.current && Math.hypot(e.clientX - start.x, e.clientY - start.y) < 5) return;
      dragged.current = true;
      if (!ghost) {
        ghost = document.createElement("div");
        ghost.className = "drag-ghost";
        ghost.textContent = label;
        document.body.appendChild(ghost);
      }
      ghost.style.transform = `translate(${e.clientX + 8}px, ${e.clientY + 8}px)`;
    };
    const up = (e: PointerEvent) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      ghost?.remove();
      if (!dragged.current) return;
      const target = document.elementFromPoint(e.clientX, e.clientY);
      if (target?.closest(".react-flow")) onAdd(drop, { x: e.clientX, y: e.clientY });
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };
  // A click that ended a drag is not also an "add at the centre".
  const onClick = () => {
    if (dragged.current) dragged.current = false;
    else onAdd(drop);
  };
  return { onPointerDown, onClick };
}

function PaletteItem({ spec, onAdd, disabled }: { spec: ModuleSpec; onAdd: Props["onAdd"]; disabled?: boolean }) {
  const drag = useDragToCanvas({ module: spec.id }, onAdd, spec.name);
  return (
    <li className="palette-item">
      <button
        type="button"
        className="palette-module"
        data-module={spec.id}
        aria-label={`Add ${spec.name}`}
        title={`${spec.description}\nDrag onto the canvas, or press Enter to add it.`}
        disabled={disabled}
        {...drag}
      >
        {spec.name}
      </button>
      <Help label={`Help for ${spec.name}`} title={spec.name}>
        <p>{spec.description}</p>
        <p className="ports-summary">
          In: {spec.inputs.map((p) => `${p.name} (${p.type}${p.optional ? ", optional" : ""})`).join(", ") || "none"}
          <br />
          Out: {spec.outputs.map((p) => `${p.name} (${p.type})`).join(", ") || "none"}
        </p>
        <Markdown text={spec.help} />
      </Help>
    </li>
  );
}

/** The sample datasets Import Data offers (its `name` param's suggestions). */
export function sampleNames(modules: ModuleSpec[]): string[] {
  const name = modules.find((m) => m.id === "import_data")?.params.find((p) => p.name === "name");
  return name?.type === "string" ? (name.suggestions ?? []) : [];
}

function SampleItem({ name, onAdd, disabled }: { name: string; onAdd: Props["onAdd"]; disabled?: boolean }) {
  const drag = useDragToCanvas(sampleDrop(name), onAdd, name);
  return (
    <li className="palette-item">
      <button type="button" className="palette-module" aria-label={`Add sample ${name}`} disabled={disabled} {...drag}>
        {name} <span className="muted">sample</span>
      </button>
    </li>
  );
}

/** The node a sample dataset becomes on the canvas: an Import Data reading it. */
export function sampleDrop(name: string): PaletteDrop {
  return { module: "import_data", params: { source: "sample", name } };
}

/** The node a dataset becomes on the canvas: a table is read by Import Data; a file dataset
 * (an uploaded zip) by Import File Dataset, whose output wires to a Script Bundle port. */
export function datasetDrop(dataset: Pick<Dataset, "name" | "kind">): PaletteDrop {
  return dataset.kind === "files"
    ? { module: "import_file_dataset", params: { name: dataset.name } }
    : { module: "import_data", params: { source: "dataset", name: dataset.name } };
}

function DatasetItem({ dataset, onAdd, disabled }: { dataset: Dataset; onAdd: Props["onAdd"]; disabled?: boolean }) {
  const drop = datasetDrop(dataset);
  const drag = useDragToCanvas(drop, onAdd, dataset.name);
  return (
    <li className="palette-item">
      <button type="button" className="palette-module" aria-label={`Add dataset ${dataset.name}`} disabled={disabled} {...drag}>
        {dataset.name} <span className="muted">v{dataset.current_version}</span>
      </button>
    </li>
  );
}

const ENCODINGS: { value: string; label: string }[] = [
  { value: "utf-8", label: "UTF-8" },
  { value: "cp1252", label: "Windows (cp1252)" },
  { value: "latin-1", label: "Latin-1 (ISO-8859-1)" },
  { value: "utf-16", label: "UTF-16" },
];
const DELIMITERS: { value: Delimiter; label: string }[] = [
  { value: "auto", label: "Detect" },
  { value: ",", label: "Comma" },
  { value: ";", label: "Semicolon" },
  { value: "tab", label: "Tab" },
  { value: "|", label: "Pipe" },
];
const DEFAULT_READING: UploadReading = { encoding: "utf-8", delimiter: "auto", has_header: true };

/** How delimited text is read: most files need none of it, so it stays folded until a
 * refusal says the text was read wrong. */
function ReadingOptions({ reading, onChange, open, onToggle }: {
  reading: UploadReading;
  onChange(reading: UploadReading): void;
  open: boolean;
  onToggle(open: boolean): void;
}) {
  return (
    <details className="upload-options" open={open} onToggle={(e) => onToggle(e.currentTarget.open)}>
      <summary>Reading options</summary>
      <label>
        Encoding
        <select value={reading.encoding} onChange={(e) => onChange({ ...reading, encoding: e.target.value })}>
          {ENCODINGS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      </label>
      <label>
        Separator
        <select
          value={reading.delimiter}
          onChange={(e) => onChange({ ...reading, delimiter: e.target.value as Delimiter })}
        >
          {DELIMITERS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={reading.has_header}
          onChange={(e) => onChange({ ...reading, has_header: e.target.checked })}
        />
        First line holds the column names
      </label>
    </details>
  );
}

/** Datasets to drag onto the canvas (each an Import Data already set): the samples and yours. */
function Datasets({ samples, onAdd, disabled, query }: { samples: string[]; onAdd: Props["onAdd"]; disabled?: boolean; query: string }) {
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [uploading, setUploading] = useState(false);
  const [reading, setReading] = useState<UploadReading>(DEFAULT_READING);
  const [optionsOpen, setOptionsOpen] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const toast = useToasts((s) => s.push);

  const refresh = () =>
    api.datasets.list().then(
      (page) => setDatasets(page.results),
      (e: ApiError) => toast("error", `Datasets could not be listed: ${e.message}`),
    );
  useEffect(() => {
    void refresh();
  }, []);

  const upload = async (file: File) => {
    setUploading(true);
    const name = file.name.replace(/\.[^.]+$/, "");
    try {
      const dataset = await api.datasets.upload(file, name, reading);
      const drop = datasetDrop(dataset);
      const as = drop.module === "import_data" ? "Import Data" : "Import File Dataset";
      toast("info", `Dataset ${dataset.name} uploaded; it was added to the canvas as ${as}.`);
      await refresh();
      onAdd(drop);
    } catch (e) {
      const advice = uploadAdvice(e instanceof ApiError ? e.errors.map((item) => item.code) : [], file.size);
      if (advice?.openReadingOptions) setOptionsOpen(true);
      toast("error", `The upload of ${file.name} failed: ${(e as Error).message}.${advice ? ` ${advice.text}` : ""}`);
    } finally {
      setUploading(false);
      if (fileInput.current) fileInput.current.value = "";
    }
  };

  // A search narrows the datasets by name too, so that the modules found stay in sight.
  const wanted = query.trim().toLowerCase();
  const named = (name: string) => !wanted || name.toLowerCase().includes(wanted);
  return (
    <details open className="palette-group">
      <summary>Datasets</summary>
      <ul>
        {samples.filter(named).map((name) => (
          <SampleItem key={name} name={name} onAdd={onAdd} disabled={disabled} />
        ))}
        {datasets.filter((d) => named(d.name)).map((d) => (
          <DatasetItem key={d.id} dataset={d} onAdd={onAdd} disabled={disabled} />
        ))}
      </ul>
      <label className="button small upload">
        {uploading ? "Uploading…" : "Upload dataset…"}
        <input
          ref={fileInput}
          type="file"
          accept=".csv,.tsv,.txt,.parquet,.json,.zip"
          aria-label="Upload dataset"
          className="visually-hidden"
          disabled={uploading || disabled}
          onChange={(e) => e.target.files?.[0] && void upload(e.target.files[0])}
        />
      </label>
      <ReadingOptions reading={reading} onChange={setReading} open={optionsOpen} onToggle={setOptionsOpen} />
    </details>
  );
}
