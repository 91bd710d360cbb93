/**
 * The inspector: the selected node's params (a form generated from its module spec), its
 * inputs (a keyboard way to wire ports), name, comment, force rerun and compute override;
 * with no node selected, the pipeline's own settings and parameters.
 */
import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { connectionProblem, isRequestInput } from "../canvas/ports";
import type { ModuleFlowNode } from "../canvas/graph";
import { useEditor } from "../canvas/store";
import type { GraphError, ModuleSpec, PipelineParameter } from "../types";

type ParameterType = NonNullable<PipelineParameter["type"]>;
import { ComputeSelect } from "../ui/ComputeSelect";
import { Markdown } from "../ui/Markdown";
import { ParamField, paramApplies } from "./ParamField";
import { inputForParam, useUpstreamColumns } from "./upstreamColumns";

export function Inspector({ pipelineId, readOnly }: { pipelineId: number | null; readOnly?: boolean }) {
  const selected = useEditor(useShallow((s) => s.nodes.filter((n) => n.selected).map((n) => n.id)));
  const node = useEditor((s) => (selected.length === 1 ? s.nodes.find((n) => n.id === selected[0]) : undefined));
  const spec = useEditor((s) => (node ? s.specs[node.data.module] : undefined));

  return (
    <aside className="inspector" aria-label="Inspector">
      {selected.length > 1 ? (
        <MultiSelection count={selected.length} readOnly={readOnly} />
      ) : node && spec ? (
        <NodeInspector key={node.id} node={node} spec={spec} pipelineId={pipelineId} readOnly={readOnly} />
      ) : node ? (
        <p role="alert">Module {node.data.module} is not installed here.</p>
      ) : (
        <PipelineInspector readOnly={readOnly} />
      )}
    </aside>
  );
}

function MultiSelection({ count, readOnly }: { count: number; readOnly?: boolean }) {
  const deleteSelection = useEditor((s) => s.deleteSelection);
  return (
    <section>
      <h2>{count} modules selected</h2>
      <p className="muted">Drag any of them to move them together; Ctrl+C copies them.</p>
      {!readOnly && (
        <button type="button" className="danger" onClick={deleteSelection}>
          Delete {count} modules
        </button>
      )}
    </section>
  );
}

function NodeInspector({ node, spec, pipelineId, readOnly }: { node: ModuleFlowNode; spec: ModuleSpec; pipelineId: number | null; readOnly?: boolean }) {
  const validation = useEditor((s) => s.validation);
  const setParam = useEditor((s) => s.setParam);
  const updateNode = useEditor((s) => s.updateNode);
  const errors = validation?.errors.filter((e) => e.node === node.id) ?? [];
  const nodeErrors = errors.filter((e) => !e.param && !e.port);

  return (
    <section aria-label={`Settings of ${node.id}`}>
      <h2>{spec.name}</h2>
      <p className="muted">{spec.description}</p>
      <NodeName id={node.id} readOnly={readOnly} />
      {nodeErrors.length > 0 && (
        <ul className="field-errors" role="alert">
          {nodeErrors.map((e, i) => (
            <li key={i}>{e.message}</li>
          ))}
        </ul>
      )}

      {spec.inputs.length > 0 && (
        <fieldset className="group">
          <legend>Inputs</legend>
          {spec.inputs.map((port) => (
            <InputSelect key={port.name} nodeId={node.id} port={port.name} type={port.type} optional={port.optional} readOnly={readOnly} />
          ))}
        </fieldset>
      )}

      {spec.params.length > 0 && (
        <fieldset className="group">
          <legend>Parameters</legend>
          {spec.params.filter((param) => paramApplies(param, node.data.params, spec.params)).map((param) => (
            <ParamWithColumns
              key={param.name}
              nodeId={node.id}
              spec={spec}
              paramName={param.name}
              value={node.data.params[param.name]}
              pipelineId={pipelineId}
              onChange={(v) => setParam(node.id, param.name, v)}
              errors={errors.filter((e) => e.param === param.name)}
              readOnly={readOnly}
            />
          ))}
        </fieldset>
      )}

      <fieldset className="group">
        <legend>Run settings</legend>
        <div className="field">
          <label>
            <input
              type="checkbox"
              checked={Boolean(node.data.force_rerun)}
              disabled={readOnly}
              onChange={(e) => updateNode(node.id, { force_rerun: e.target.checked || undefined })}
            />{" "}
            Force rerun
          </label>
          <div className="field-help">Run this module again even when its outputs are already known.</div>
        </div>
        <div className="field">
          <label htmlFor={`compute-${node.id}`}>Compute</label>
          <ComputeSelect
            id={`compute-${node.id}`}
            inheritLabel="Pipeline default"
            value={node.data.compute ?? ""}
            disabled={readOnly}
            onChange={(compute) => updateNode(node.id, { compute: compute || undefined }, `compute:${node.id}`)}
          />
          <div className="field-help">Where this module runs, if not where the rest of the pipeline does.</div>
        </div>
      </fieldset>

      <div className="field">
        <label htmlFor={`comment-${node.id}`}>Comment</label>
        <textarea
          id={`comment-${node.id}`}
          rows={3}
          value={node.data.comment ?? ""}
          disabled={readOnly}
          onChange={(e) => updateNode(node.id, { comment: e.target.value || undefined }, `comment:${node.id}`)}
        />
      </div>

      <details className="module-help">
        <summary>About {spec.name}</summary>
        <Markdown text={spec.help} label={`About ${spec.name}`} />
      </details>
    </section>
  );
}

function ParamWithColumns(props: {
  nodeId: string;
  spec: ModuleSpec;
  paramName: string;
  value: unknown;
  pipelineId: number | null;
  onChange(v: unknown): void;
  errors: GraphError[];
  readOnly?: boolean;
}) {
  const param = props.spec.params.find((p) => p.name === props.paramName)!;
  // Code is written against the input table's columns too: the wide editor lists them.
  const port = ["columns", "struct", "code"].includes(param.type) ? inputForParam(props.spec, param) : undefined;
  const columns = useUpstreamColumns(port ? props.pipelineId : null, props.nodeId, port);
  return (
    <ParamField
      spec={param}
      value={props.value}
      onChange={props.onChange}
      errors={props.errors}
      columns={port ? columns : null}
      readOnly={props.readOnly}
    />
  );
}

function NodeName({ id, readOnly }: { id: string; readOnly?: boolean }) {
  const renameNode = useEditor((s) => s.renameNode);
  const [text, setText] = useState(id);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setText(id), [id]);
  const commit = () => setProblem(renameNode(id, text.trim()));
  return (
    <div className="field">
      <label htmlFor={`name-${id}`}>Node name</label>
      <input
        id={`name-${id}`}
        value={text}
        disabled={readOnly}
        aria-invalid={problem !== null}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === "Enter" && commit()}
      />
      {problem && (
        <div className="field-errors" role="alert">
          {problem}
        </div>
      )}
    </div>
  );
}

/** Connect an input by choosing an upstream output: the keyboard's way to wire ports. */
function InputSelect({ nodeId, port, type, optional, readOnly }: { nodeId: string; port: string; type: string; optional?: boolean; readOnly?: boolean }) {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const specs = useEditor((s) => s.specs);
  const connect = useEditor((s) => s.connect);
  const disconnect = useEditor((s) => s.disconnect);
  const validation = useEditor((s) => s.validation);
  const there = edges.filter((e) => e.target === nodeId && e.targetHandle === port);
  // The data the input takes in a run is the one to choose here; a Web Service Input beside it is noted.
  const current = there.find((e) => !isRequestInput(e.source, nodes, specs)) ?? there[0];
  const beside = there.find((e) => e !== current);
  const others = edges.filter((e) => e !== current);
  const options = nodes.flatMap((n) =>
    (specs[n.data.module]?.outputs ?? [])
      .filter((o) => !connectionProblem({ source: n.id, sourceHandle: o.name, target: nodeId, targetHandle: port }, nodes, others, specs))
      .map((o) => `${n.id}.${o.name}`),
  );
  const value = current ? `${current.source}.${current.sourceHandle}` : "";
  const errors = validation?.errors.filter((e) => e.node === nodeId && e.port === port) ?? [];
  return (
    <div className={`field${errors.length ? " invalid" : ""}`}>
      <label htmlFor={`input-${nodeId}-${port}`}>
        {port} <span className="muted">({type}{optional ? ", optional" : ""})</span>
      </label>
      <select
        id={`input-${nodeId}-${port}`}
        value={value}
        disabled={readOnly}
        onChange={(e) => {
          const [source, sourcePort] = e.target.value.split(".");
          if (source) connect(source, sourcePort, nodeId, port);
          else if (current) disconnect(nodeId, port, current.source);
        }}
      >
        <option value="">(not connected)</option>
        {value && !options.includes(value) && <option value={value}>{value}</option>}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
      {beside && (
        <p className="muted">
          and {beside.source}.{beside.sourceHandle} beside it, which feeds it when the pipeline serves requests
        </p>
      )}
      {errors.length > 0 && (
        <ul className="field-errors" role="alert">
          {errors.map((e, i) => (
            <li key={i}>{e.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function PipelineInspector({ readOnly }: { readOnly?: boolean }) {
  const meta = useEditor((s) => s.meta);
  const change = useEditor((s) => s.change);
  const validation = useEditor((s) => s.validation);
  const general = validation?.errors.filter((e) => !e.node) ?? [];
  const setMeta = (patch: Partial<typeof meta>, key: string) => change((s) => ({ meta: { ...s.meta, ...patch } }), key);
  const parameters = meta.parameters ?? {};
  const setParameter = (name: string, value: PipelineParameter | undefined) => {
    const next = { ...parameters };
    if (value) next[name] = value;
    else delete next[name];
    setMeta({ parameters: next }, `parameter:${name}`);
  };
  const [newName, setNewName] = useState("");
  const [newType, setNewType] = useState<ParameterType>("float");

  return (
    <section aria-label="Pipeline settings">
      <h2>Pipeline</h2>
      <p className="muted">Select a module to edit it. These settings are the pipeline's own.</p>
      {general.length > 0 && (
        <ul className="field-errors" role="alert">
          {general.map((e, i) => (
            <li key={i}>{e.message}</li>
          ))}
        </ul>
      )}
      <div className="field">
        <label htmlFor="pipeline-description">Description</label>
        <textarea
          id="pipeline-description"
          rows={3}
          disabled={readOnly}
          value={meta.description ?? ""}
          onChange={(e) => setMeta({ description: e.target.value || undefined }, "description")}
        />
      </div>
      <div className="field">
        <label htmlFor="pipeline-compute">Default compute</label>
        <ComputeSelect
          id="pipeline-compute"
          disabled={readOnly}
          value={meta.settings?.default_compute ?? "local"}
          onChange={(compute) => setMeta({ settings: { ...meta.settings, default_compute: compute } }, "default_compute")}
        />
      </div>
      <div className="field">
        <label>
          <input
            type="checkbox"
            disabled={readOnly}
            checked={Boolean(meta.settings?.continue_on_step_failure)}
            onChange={(e) => setMeta({ settings: { ...meta.settings, continue_on_step_failure: e.target.checked } }, "continue")}
          />{" "}
          Continue when a step fails
        </label>
      </div>
      <fieldset className="group">
        <legend>Pipeline parameters</legend>
        <p className="field-help">Set when a run is submitted; a param uses one as {"${{parameters.NAME}}"}.</p>
        {Object.entries(parameters).map(([name, p]) => (
          <div key={name} className="field parameter-row">
            <label htmlFor={`parameter-${name}`}>
              {name} <span className="muted">({p.type})</span>
            </label>
            <input
              id={`parameter-${name}`}
              disabled={readOnly}
              value={p.default === undefined || p.default === null ? "" : String(p.default)}
              onChange={(e) => setParameter(name, { ...p, default: p.type === "string" ? e.target.value : (parseScalar(e.target.value) as PipelineParameter["default"]) })}
            />
            {!readOnly && (
              <button type="button" className="icon" aria-label={`Remove parameter ${name}`} onClick={() => setParameter(name, undefined)}>
                ×
              </button>
            )}
          </div>
        ))}
        {!readOnly && (
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              if (/^[A-Za-z_]\w*$/.test(newName) && !parameters[newName]) {
                const defaults = { float: 0, int: 0, string: "", bool: false } as const;
                setParameter(newName, { type: newType, default: defaults[newType] });
                setNewName("");
              }
            }}
          >
            <input aria-label="New parameter name" placeholder="new_parameter" value={newName} onChange={(e) => setNewName(e.target.value)} />
            <select aria-label="New parameter type" value={newType} onChange={(e) => setNewType(e.target.value as ParameterType)}>
              <option value="float">float</option>
              <option value="int">int</option>
              <option value="string">string</option>
              <option value="bool">bool</option>
            </select>
            <button type="submit">Add</button>
          </form>
        )}
      </fieldset>
    </section>
  );
}

export function parseScalar(text: string): string | number | boolean {
  if (text === "true" || text === "false") return text === "true";
  const n = Number(text);
  return text.trim() !== "" && Number.isFinite(n) ? n : text;
}
