import { useId } from "react";
import { countAxis, layoutBars } from "../lib/chart";
import { formatCompact, formatNumber } from "../lib/format";

const WIDTH = 640;
const HEIGHT = 180;
const PAD = { top: 12, right: 12, bottom: 26, left: 44 };

/**
 * One series per day as an SVG bar chart, with a y axis, first/last day labels, a `<title>` per
 * bar for hover, and an optional dashed limit line (e.g. a plan's quota) when it fits the scale.
 */
export function BarChart({
  title,
  series,
  limit,
}: {
  title: string;
  series: { date: string; value: number }[];
  limit?: { value: number; label: string } | undefined;
}) {
  const titleId = useId();
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const peak = Math.max(0, ...series.map((point) => point.value));
  const showLimit = limit !== undefined && limit.value <= Math.max(peak, 1) * 4;
  const axis = countAxis(Math.max(peak, showLimit && limit ? limit.value : 0));
  const max = axis.max;
  const bars = layoutBars(series, { width: plotWidth, height: plotHeight, max });
  const total = series.reduce((sum, point) => sum + point.value, 0);
  const first = series[0]?.date;
  const last = series[series.length - 1]?.date;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={titleId}
        preserveAspectRatio="xMidYMid meet"
      >
        <title id={titleId}>
          {title}: {formatNumber(total)} in total from {first} to {last}, at most {formatNumber(peak)} a day
        </title>
        <g transform={`translate(${PAD.left},${PAD.top})`}>
          {axis.ticks.map((tick) => {
            const y = plotHeight - (tick / max) * plotHeight;
            return (
              <g key={tick}>
                <line x1={0} x2={plotWidth} y1={y} y2={y} className="grid-line" />
                <text x={-8} y={y} className="axis-label" textAnchor="end" dominantBaseline="middle">
                  {formatCompact(tick)}
                </text>
              </g>
            );
          })}
          {bars.map((bar) => (
            <rect
              key={bar.date}
              x={bar.x}
              y={bar.y}
              width={bar.width}
              height={bar.height}
              rx={1.5}
              className="bar"
            >
              <title>
                {bar.date}: {formatNumber(bar.value)}
              </title>
            </rect>
          ))}
          {showLimit && limit ? (
            <g>
              <line
                x1={0}
                x2={plotWidth}
                y1={plotHeight - (limit.value / max) * plotHeight}
                y2={plotHeight - (limit.value / max) * plotHeight}
                className="limit-line"
              />
              <text
                x={plotWidth}
                y={plotHeight - (limit.value / max) * plotHeight - 4}
                className="axis-label limit-label"
                textAnchor="end"
              >
                {limit.label}
              </text>
            </g>
          ) : null}
          <line x1={0} x2={plotWidth} y1={plotHeight} y2={plotHeight} className="axis-line" />
          {first ? (
            <text x={0} y={plotHeight + 18} className="axis-label">
              {first}
            </text>
          ) : null}
          {last && last !== first ? (
            <text x={plotWidth} y={plotHeight + 18} className="axis-label" textAnchor="end">
              {last}
            </text>
          ) : null}
        </g>
      </svg>
    </figure>
  );
}
