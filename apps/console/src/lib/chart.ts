/** Pure geometry for the usage charts (plain SVG, no chart library). */

/**
 * A y axis for counts peaking at `peak`: a step of 1, 2 or 5 times a power of ten (never below
 * 1, counts are whole), at most `maxTicks` steps, and the axis maximum a whole number of steps.
 *
 * @example
 * countAxis(7); // { max: 8, ticks: [0, 2, 4, 6, 8] }
 */
export function countAxis(peak: number, maxTicks = 4): { max: number; ticks: number[] } {
  const top = Number.isFinite(peak) && peak > 0 ? peak : 1;
  let step = 1;
  for (let power = 1; ; power *= 10) {
    const fits = [1, 2, 5].map((factor) => factor * power).find((candidate) => candidate * maxTicks >= top);
    if (fits !== undefined) {
      step = fits;
      break;
    }
  }
  const steps = Math.max(1, Math.ceil(top / step));
  return { max: steps * step, ticks: Array.from({ length: steps + 1 }, (_, index) => index * step) };
}

/** Every UTC day from `from` to `to`, both included, as `YYYY-MM-DD`. */
export function daysBetween(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return [];
  const days: string[] = [];
  for (let time = start; time <= end; time += 86_400_000)
    days.push(new Date(time).toISOString().slice(0, 10));
  return days;
}

/** One kind's daily series over the window, days without usage as 0. */
export function dailySeries(
  rows: readonly { date: string; kind: string; quantity: number }[],
  kind: string,
  days: readonly string[],
): { date: string; value: number }[] {
  const byDay = new Map<string, number>();
  for (const row of rows)
    if (row.kind === kind) byDay.set(row.date, (byDay.get(row.date) ?? 0) + row.quantity);
  return days.map((date) => ({ date, value: byDay.get(date) ?? 0 }));
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  date: string;
  value: number;
}

/**
 * Bars for a series in a `width` × `height` plot area (y grows downwards, as in SVG), scaled to
 * `max`; a non-zero value is at least 1 px tall so it never disappears.
 */
export function layoutBars(
  series: readonly { date: string; value: number }[],
  opts: { width: number; height: number; max: number; gap?: number },
): Bar[] {
  if (series.length === 0) return [];
  const slot = opts.width / series.length;
  const gap = Math.min(opts.gap ?? 2, slot / 3);
  return series.map((point, index) => {
    const scaled = opts.max > 0 ? (Math.min(point.value, opts.max) / opts.max) * opts.height : 0;
    const barHeight = point.value > 0 ? Math.max(1, scaled) : 0;
    return {
      x: index * slot + gap / 2,
      y: opts.height - barHeight,
      width: Math.max(0.5, slot - gap),
      height: barHeight,
      date: point.date,
      value: point.value,
    };
  });
}
