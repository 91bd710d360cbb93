import { useState } from "react";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ColumnStatistics as Stats } from "../types";
import { distributionBars, formatCell, formatNumber } from "./transforms";

function extreme(value: unknown): string {
  return typeof value === "number" ? formatNumber(value) : value === null ? "—" : formatCell(value);
}

/** Statistics of every column of a table output (of the whole table, not the page shown),
 * and the distribution of the column picked in the list. */
export function ColumnStatistics({ port, columns }: { port: string; columns: Stats[] }) {
  const [picked, setPicked] = useState<string | null>(null);
  const shown = columns.find((c) => c.name === picked) ?? columns[0];
  if (!shown) return null;
  const bars = distributionBars(shown);
  const kind = shown.histogram ? "Histogram" : "Most frequent values";

  return (
    <section className="outputs-stats" aria-label={`Column statistics of ${port}`}>
      <div className="outputs-scroll outputs-stats-table">
        <table className="outputs-table">
          <caption className="outputs-caption">Statistics of every column of {port}</caption>
          {/* Shares of the box's width (the table is laid out fixed, to fit it). */}
          <colgroup>
            {[16, 11, 8, 8, 8, 8, 11, 11, 10, 9].map((percent, i) => (
              <col key={i} style={{ width: `${percent}%` }} />
            ))}
          </colgroup>
          <thead>
            <tr>
              {["Column", "Type", "Role", "Count", "Missing", "Unique", "Min", "Max", "Mean", "Std dev"].map((h, i) => (
                <th key={h} scope="col" className={i >= 3 ? "outputs-number" : undefined}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {columns.map((column) => (
              <tr key={column.name} className={column === shown ? "outputs-picked" : undefined}>
                <th scope="row">
                  <button
                    type="button"
                    className="outputs-link"
                    aria-pressed={column === shown}
                    aria-label={`Show the distribution of ${column.name}`}
                    onClick={() => setPicked(column.name)}
                  >
                    {column.name}
                  </button>
                </th>
                <td>{column.type}</td>
                <td>{column.role ?? ""}</td>
                <td className="outputs-number">{formatNumber(column.count)}</td>
                <td className="outputs-number">{formatNumber(column.missing)}</td>
                <td className="outputs-number">{formatNumber(column.unique)}</td>
                <td className="outputs-number">{extreme(column.min)}</td>
                <td className="outputs-number">{extreme(column.max)}</td>
                <td className="outputs-number">{formatNumber(column.mean)}</td>
                <td className="outputs-number">{formatNumber(column.std)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <figure className="outputs-figure outputs-histogram">
        <figcaption>
          {kind} of <strong>{shown.name}</strong>
        </figcaption>
        {bars.length ? (
          <div className="outputs-chart">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={bars} margin={{ top: 8, right: 8, bottom: 8, left: 0 }} title={`${kind} of ${shown.name}`} desc={`${bars.length} bars of row counts`}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                {/* Every value is named under its bar; histogram bins, too many to name, keep their ends. */}
                <XAxis dataKey="label" tick={{ fontSize: 10 }} interval={shown.histogram ? "preserveStartEnd" : 0} angle={shown.histogram ? 0 : -30} textAnchor={shown.histogram ? "middle" : "end"} height={shown.histogram ? 30 : 60} />
                <YAxis allowDecimals={false} tick={{ fontSize: 11 }} width={48} />
                <Tooltip formatter={(value) => [formatNumber(Number(value)), "rows"]} />
                <Bar dataKey="count" fill="var(--outputs-series-1)" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        ) : (
          <p className="outputs-note">No distribution to show: the column has no values that can be counted into bars.</p>
        )}
      </figure>
    </section>
  );
}
