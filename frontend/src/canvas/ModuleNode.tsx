import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo, useEffect, useState } from "react";
import { useRunView } from "../runs/runStore";
import { STATUS_LABEL, WAITING_LABEL } from "../runs/runState";
import type { ErrorOrigin, PortSpec } from "../types";
import type { ModuleFlowNode } from "./graph";
import { useEditor } from "./store";

function portStyle(index: number, count: number) {
  return { left: `${((index + 1) / (count + 1)) * 100}%` };
}

function PortHandles({ ports, kind, nodeId }: { ports: PortSpec[]; kind: "input" | "output"; nodeId: string }) {
  const type = kind === "input" ? "target" : "source";
  const position = kind === "input" ? Position.Top : Position.Bottom;
  return (
    <>
      {ports.map((port, index) => (
        <Handle
          key={port.name}
          id={port.name}
          type={type}
          position={position}
          style={portStyle(index, ports.length)}
          className={`port port-${port.type}`}
          title={`${kind} ${port.name}: ${port.type}${port.optional ? " (optional)" : ""}${port.help ? ` — ${port.help}` : ""}`}
          aria-label={`${kind} ${port.name} of ${nodeId} (${port.type})`}
        >
          <span className={`port-label port-label-${kind}`}>{port.name}</span>
        </Handle>
      ))}
    </>
  );
}

/** A module on the canvas: its ports, its state in the run shown, its problems, its comment. */
export const ModuleNode = memo(function ModuleNode({ id, data, selected }: NodeProps<ModuleFlowNode>) {
  const spec = useEditor((s) => s.specs[data.module]);
  const validation = useEditor((s) => s.validation);
  const step = useRunView((s) => s.run?.steps[id]);
  const runShown = useRunView((s) => s.run !== null);
  const errors = validation?.errors.filter((e) => e.node === id) ?? [];
  const status = step?.status;
  const className = [
    "module-node",
    selected ? "selected" : "",
    errors.length ? "has-errors" : "",
    status ? `status-${status}` : "",
  ].join(" ");

  return (
    <div className={className} data-node={id} aria-label={`module ${id}`} role="group">
      <PortHandles ports={spec?.inputs ?? []} kind="input" nodeId={id} />
      <div className="module-node-title">
        {/* People read titles; the node's name (what files, logs and the run panel use) stays
            in the tooltip and the inspector. */}
        <span className="module-node-name" title={`${spec?.name ?? data.module} (${id})`}>
          {spec?.name ?? data.module}
        </span>
        {data.force_rerun && <span className="tag" title="Runs again even when its outputs are known">forced</span>}
        {data.compute && <span className="tag" title="Runs on this compute target">{data.compute}</span>}
      </div>
      {status && (
        <div className="module-node-status" aria-label={`status of ${id}`} data-status={status}>
          <span className={`badge badge-${status}`}>{STATUS_LABEL[status]}</span>
          {status === "reused" && <span className="reused-note">outputs reused from an earlier run</span>}
          {step?.durationS != null && status !== "reused" && <span className="duration">{formatSeconds(step.durationS)}</span>}
        </div>
      )}
      {!status && runShown && spec?.request_input && (
        // Not a step of a run: its edges carry a request's table only when the pipeline serves.
        <div className="module-node-status" aria-label={`status of ${id}`} data-status="serves-requests">
          <span className="badge badge-serves" title="Not a step of a pipeline run: the data beside it feeds its inputs">
            serves requests only
          </span>
        </div>
      )}
      {step?.waiting && (
        <div className="waiting muted" aria-label={`what ${id} waits for`}>
          {WAITING_LABEL[step.waiting]}
        </div>
      )}
      {status === "running" &&
        // A bar only once the module has reported some progress: one stuck at 0 % says nothing.
        (step?.progress && step.progress.fraction > 0 ? (
          <div className="progress" role="progressbar" aria-label={`progress of ${id}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(step.progress.fraction * 100)}>
            <div style={{ width: `${step.progress.fraction * 100}%` }} />
          </div>
        ) : (
          <Elapsed label={`running time of ${id}`} />
        ))}
      {status === "failed" && step?.error && (
        <div className="module-node-error" role="alert" aria-label={`error of ${id}`}>
          {step.error.origin && step.error.origin !== "module" && <strong>{originLabel(step.error.origin)}: </strong>}
          {step.error.message}
        </div>
      )}
      {errors.length > 0 && (
        // Two lines at most, so a node stays compact; the inspector lists every problem.
        <ul className="module-node-problems" aria-label={`problems of ${id}`} title={errors.map((e) => e.message).join("\n")}>
          {errors.slice(0, 2).map((e, i) => (
            <li key={i}>{e.message}</li>
          ))}
          {errors.length > 2 && <li>and {errors.length - 2} more (see the inspector)</li>}
        </ul>
      )}
      {data.comment && <div className="module-node-comment" aria-label={`comment of ${id}`}>{data.comment}</div>}
      <PortHandles ports={spec?.outputs ?? []} kind="output" nodeId={id} />
    </div>
  );
});

const ORIGIN_LABEL: Record<ErrorOrigin, string> = {
  module: "The module failed",
  infrastructure: "Infrastructure problem (not your pipeline)",
  time_limit: "Time limit",
  memory_limit: "Memory limit",
  user: "Cancelled",
};

/** What a step error's origin means to the user; an origin from a newer server is shown as it is. */
export function originLabel(origin: string): string {
  return ORIGIN_LABEL[origin as ErrorOrigin] ?? origin;
}

/** How long a step has been running (seen from this page), counting up each second. */
function Elapsed({ label }: { label: string }) {
  const [start] = useState(() => Date.now());
  const [now, setNow] = useState(start);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.floor((now - start) / 1000);
  return (
    <div className="elapsed muted" aria-label={label}>
      running for {seconds < 60 ? `${seconds} s` : formatSeconds(seconds)}
    </div>
  );
}

export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}
