const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** `1536` → `1.5 KB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** `12345` → `12,345` (grouping in English, the console's one language). */
export function formatNumber(value: number): string {
  return new Intl.NumberFormat("en-US").format(value);
}

/** `1_500_000` → `1.5M`, for axis labels. */
export function formatCompact(value: number): string {
  return new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

/** An ISO time as `2025-03-01 14:05` in UTC, unambiguous for operators in any zone. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** How long ago `iso` was, relative to `now`: `just now`, `5 min ago`, `3 h ago`, `2 days ago`. */
export function formatRelative(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "—";
  const seconds = Math.round((now.getTime() - then) / 1000);
  if (seconds < 0) {
    const ahead = -seconds;
    if (ahead < 3600) return `in ${Math.max(1, Math.round(ahead / 60))} min`;
    if (ahead < 86_400) return `in ${Math.round(ahead / 3600)} h`;
    return `in ${Math.round(ahead / 86_400)} days`;
  }
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  const days = Math.round(seconds / 86_400);
  return days === 1 ? "yesterday" : `${days} days ago`;
}

/** A search hit's score (its similarity, BM25 or fused score), `digits` decimals; "—" when it has none. */
export function formatScore(score: number | null | undefined, digits = 3): string {
  if (score === null || score === undefined) return "—";
  return score.toFixed(digits);
}

/** `0.4567` → `46%`, clamped to 0-100. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return "0%";
  const ratio = Math.min(1, Math.max(0, part / whole));
  const percent = ratio * 100;
  return `${percent > 0 && percent < 1 ? "<1" : Math.round(percent)}%`;
}

/** The end of a `YYYY-MM-DD` day in UTC as an ISO time (a key's expiry picked from a date input). */
export function endOfDayIso(day: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  return `${day}T23:59:59.000Z`;
}

/** A wait in words: seconds under two minutes, then minutes, then hours; null when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "unknown";
  if (seconds < 120) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/**
 * A document's ingestion as the upload list says it: queued (no progress yet), being parsed (no
 * chunk counted yet), or how many of its chunks are embedded and stored.
 */
export function formatIngestion(progress: { done: number; total: number } | null): string {
  if (!progress) return "Queued for ingestion…";
  if (progress.total === 0) return "Parsing…";
  return `Ingesting: ${formatNumber(progress.done)} of ${formatNumber(progress.total)} chunks`;
}
