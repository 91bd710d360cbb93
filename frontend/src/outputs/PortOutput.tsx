import { useState } from "react";
import { api } from "../api";
import type { OutputInfo } from "../types";
import { ColumnStatistics } from "./ColumnStatistics";
import { PAGE_SIZES, TablePreview } from "./TablePreview";
import { formatMeta } from "./transforms";
import { useRequest } from "./useRequest";

/** The port type of table outputs (modules/sdk/types.py PortType.DATAFRAME). */
const TABLE = "DataFrame";

/** One output port: its download, and for a table its rows and column statistics, for
 * anything else (models, transforms, files) what its metadata says. */
export function PortOutput({ runId, node, port, info }: { runId: string; node: string; port: string; info: OutputInfo }) {
  const isTable = info.type === TABLE;
  return (
    <div className="outputs-port">
      <header className="outputs-port-header">
        <h3>
          {port} <span className="outputs-type">{info.type ?? "artifact"}</span>
        </h3>
        {isTable && typeof info.rows === "number" && <span>{info.rows.toLocaleString("en")} rows</span>}
        <a
          className="outputs-button"
          href={api.runs.downloadUrl(runId, node, port)}
          download
          aria-label={`Download ${port} ${isTable ? "as Parquet" : "as a zip"}`}
        >
          Download {isTable ? "Parquet" : "zip"}
        </a>
        {isTable && (
          <a className="outputs-button" href={api.runs.downloadUrl(runId, node, port, "csv")} download aria-label={`Download ${port} as CSV`}>
            Download CSV
          </a>
        )}
      </header>
      {isTable ? <TableOutput runId={runId} node={node} port={port} /> : <ArtifactSummary info={info} />}
    </div>
  );
}

function TableOutput({ runId, node, port }: { runId: string; node: string; port: string }) {
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState<number>(PAGE_SIZES[0]);
  const [sort, setSort] = useState<string | null>(null);
  const { data, error, loading } = useRequest(
    () => api.runs.preview(runId, node, port, { offset, limit, sort: sort ?? undefined }),
    JSON.stringify([runId, node, port, offset, limit, sort]),
  );

  return (
    <>
      {error && (
        <p role="alert" className="outputs-error">
          The preview could not be loaded: {error}
        </p>
      )}
      {!data && loading && <p className="outputs-note">Loading the preview…</p>}
      {data && (
        <div className="outputs-table-output">
          <TablePreview
            port={port}
            preview={data}
            loading={loading}
            onPage={setOffset}
            onSort={(next) => {
              setSort(next);
              setOffset(0);
            }}
            onPageSize={(size) => {
              setLimit(size);
              setOffset(0);
            }}
          />
          <ColumnStatistics port={port} columns={data.columns} />
        </div>
      )}
    </>
  );
}

/** What a non-table output's manifest says about it (a trained model's algorithm, label
 * and features, for instance), as a definition list. */
function ArtifactSummary({ info }: { info: OutputInfo }) {
  const meta = info.meta;
  const entries = meta && typeof meta === "object" ? Object.entries(meta as Record<string, unknown>) : [];
  if (!entries.length) return <p className="outputs-note">Download the artifact to use it elsewhere.</p>;
  return (
    <dl className="outputs-meta">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{formatMeta(value)}</dd>
        </div>
      ))}
    </dl>
  );
}
