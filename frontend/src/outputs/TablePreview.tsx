import type { Preview } from "../types";
import { ariaSort, formatCell, nextSort, pageWindow } from "./transforms";

export const PAGE_SIZES = [25, 50, 100] as const;

const SORT_MARK = { ascending: "▲", descending: "▼", none: "" } as const;

/** A page of a table output: sortable headers, numbered rows, paging controls. */
export function TablePreview({
  port,
  preview,
  loading,
  onPage,
  onSort,
  onPageSize,
}: {
  port: string;
  preview: Preview;
  loading: boolean;
  onPage: (offset: number) => void;
  onSort: (sort: string | null) => void;
  onPageSize: (limit: number) => void;
}) {
  const { offset, limit, total_rows: total, sort, columns, rows } = preview;
  const page = pageWindow(offset, limit, total, rows.length);
  const numeric = columns.map((c) => c.type === "numeric");

  return (
    <section className="outputs-preview" aria-label={`Rows of ${port}`}>
      <div className="outputs-scroll" aria-busy={loading}>
        <table className="outputs-table">
          <caption className="outputs-caption">
            {port}: rows {page.first.toLocaleString("en")}–{page.last.toLocaleString("en")} of {total.toLocaleString("en")}
            {sort ? `, sorted by ${sort.startsWith("-") ? `${sort.slice(1)} (descending)` : sort}` : ""}
          </caption>
          <thead>
            <tr>
              <th scope="col" className="outputs-rownum">
                #
              </th>
              {columns.map((column, c) => {
                const order = ariaSort(sort, column.name);
                const next = nextSort(sort, column.name);
                const action = next === null ? "Remove sorting" : order === "ascending" ? "Sort descending" : "Sort ascending";
                return (
                  <th key={column.name} scope="col" aria-sort={order} className={numeric[c] ? "outputs-number" : undefined}>
                    <button
                      type="button"
                      className="outputs-sort"
                      aria-label={`${action} by ${column.name}`}
                      title={`${column.name} (${column.type}${column.role ? `, ${column.role}` : ""})`}
                      onClick={() => onSort(next)}
                    >
                      {column.name}
                      <span aria-hidden="true"> {SORT_MARK[order]}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, r) => (
              <tr key={offset + r}>
                <th scope="row" className="outputs-rownum">
                  {(offset + r + 1).toLocaleString("en")}
                </th>
                {row.map((cell, c) => (
                  <td key={c} className={numeric[c] ? "outputs-number" : undefined}>
                    {cell === null ? <span className="outputs-missing">missing</span> : formatCell(cell)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {!rows.length && <p className="outputs-note">{total ? "No rows on this page." : "The table has no rows."}</p>}
      </div>
      <nav className="outputs-pager" aria-label={`Pages of ${port}`}>
        <button type="button" aria-label="First page" disabled={!page.hasPrevious} onClick={() => onPage(0)}>
          «
        </button>
        <button type="button" aria-label="Previous page" disabled={!page.hasPrevious} onClick={() => onPage(Math.max(0, offset - limit))}>
          ‹
        </button>
        <span aria-live="polite">
          Page {page.page.toLocaleString("en")} of {page.pages.toLocaleString("en")}
        </span>
        <button type="button" aria-label="Next page" disabled={!page.hasNext} onClick={() => onPage(offset + limit)}>
          ›
        </button>
        <button type="button" aria-label="Last page" disabled={!page.hasNext} onClick={() => onPage(page.lastOffset)}>
          »
        </button>
        <label>
          Rows per page{" "}
          <select aria-label="Rows per page" value={limit} onChange={(e) => onPageSize(Number(e.target.value))}>
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </label>
      </nav>
    </section>
  );
}
