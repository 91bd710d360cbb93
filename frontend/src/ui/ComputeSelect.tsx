/**
 * A choice of compute target, from the server's list (/api/compute/, fetched once per page):
 * each with what it is, and the ones this server cannot run steps on shown but not
 * choosable. A name the list lacks (a pipeline file from another installation) stays
 * selected and says so, rather than silently becoming another target.
 */
import { useEffect, useState } from "react";
import { api } from "../api";
import type { ComputeTarget } from "../types";

let targets: Promise<ComputeTarget[]> | null = null;

function useComputeTargets(): ComputeTarget[] | null {
  const [list, setList] = useState<ComputeTarget[] | null>(null);
  useEffect(() => {
    targets ??= api.computeTargets().catch((error: unknown) => {
      targets = null; // asked again by the next picker that mounts
      throw error;
    });
    let current = true;
    targets.then(
      (loaded) => current && setList(loaded),
      () => current && setList([]),
    );
    return () => {
      current = false;
    };
  }, []);
  return list;
}

function describe(target: ComputeTarget): string {
  const what = target.description ? `${target.name}: ${target.description}` : target.name;
  return target.available ? what : `${what} (cannot run here)`;
}

export function ComputeSelect({
  id,
  value,
  onChange,
  inheritLabel,
  disabled,
}: {
  id: string;
  value: string;
  onChange(value: string): void;
  /** Offer "" (no choice of one's own) under this label, e.g. "Pipeline default". */
  inheritLabel?: string;
  disabled?: boolean;
}) {
  const list = useComputeTargets();
  const known = list?.some((t) => t.name === value) ?? true;
  return (
    <select id={id} value={value} disabled={disabled || list === null} onChange={(e) => onChange(e.target.value)}>
      {inheritLabel !== undefined && <option value="">{inheritLabel}</option>}
      {list?.map((target) => (
        <option key={target.name} value={target.name} disabled={!target.available && target.name !== value}>
          {describe(target)}
        </option>
      ))}
      {list === null && value && <option value={value}>{value}</option>}
      {!known && value && <option value={value}>{value} (not a compute target here)</option>}
    </select>
  );
}
