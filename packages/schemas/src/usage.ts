import { z } from "zod";
import { TenantId } from "./ids";
import { Plan, PlanQuotas } from "./plans";

/** What is metered. `ingest.*` are counted when a document is ingested; one `search` or `chat` per call. */
export const UsageKind = z.enum(["ingest.documents", "ingest.chunks", "ingest.tokens", "search", "chat"]);
export type UsageKind = z.infer<typeof UsageKind>;

/** The widest window one usage query may cover, in days (a leap year, both ends included). */
export const MAX_USAGE_DAYS = 366;
/** The window when neither end is given: the last 30 UTC days, today included. */
export const DEFAULT_USAGE_DAYS = 30;

const DAY_MS = 86_400_000;

/** A UTC calendar day, `YYYY-MM-DD`. */
export const UsageDate = z.iso.date({ message: "must be a date like 2025-03-01" });

/** `kinds=search,chat` or `kinds=search&kinds=chat` in a query string; an array in JSON. */
const UsageKinds = z.preprocess((value) => {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list)) return value;
  const items = list.flatMap((item) =>
    typeof item === "string" ? item.split(",").map((kind) => kind.trim()) : [item],
  );
  return [...new Set(items)];
}, z.array(UsageKind).min(1).max(UsageKind.options.length));

/** The window and kinds of a usage query, without the range checks (see `UsageQuery`). */
export const UsageWindow = z.object({
  /** First UTC day included; default `to` minus 29 days. */
  from: UsageDate.optional(),
  /** Last UTC day included; default today (UTC). */
  to: UsageDate.optional(),
  /** Default: every kind. */
  kinds: UsageKinds.optional(),
});
export type UsageWindow = z.infer<typeof UsageWindow>;

function toDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/**
 * The days a usage window covers once its defaults are filled in, both ends included.
 *
 * @example
 * resolveUsageRange({ to: "2025-03-31" }); // { from: "2025-03-02", to: "2025-03-31", days: 30 }
 */
export function resolveUsageRange(
  window: Pick<UsageWindow, "from" | "to">,
  now: Date = new Date(),
): { from: string; to: string; days: number } {
  const to = window.to ?? toDay(now.getTime());
  const from = window.from ?? toDay(Date.parse(to) - (DEFAULT_USAGE_DAYS - 1) * DAY_MS);
  return { from, to, days: Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS) + 1 };
}

function checkRange(window: UsageWindow, ctx: z.core.$RefinementCtx): void {
  // A malformed date already has its issue; a window computed from it would only add noise.
  if (
    !UsageDate.optional().safeParse(window.from).success ||
    !UsageDate.optional().safeParse(window.to).success
  )
    return;
  const { from, to, days } = resolveUsageRange(window);
  if (days < 1) {
    ctx.addIssue({
      code: "custom",
      path: ["from"],
      message: `must not be after to (${to})`,
    });
  } else if (days > MAX_USAGE_DAYS) {
    ctx.addIssue({
      code: "custom",
      path: ["from"],
      message: `the window ${from}…${to} spans ${days} days; at most ${MAX_USAGE_DAYS} may be asked at once`,
    });
  }
}

/** One tenant's usage over a window of UTC days. */
export const UsageQuery = UsageWindow.extend({ tenantId: TenantId }).superRefine(checkRange);
export type UsageQuery = z.infer<typeof UsageQuery>;

export const UsageDay = z.object({ date: UsageDate, kind: UsageKind, quantity: z.number().int() });
export type UsageDay = z.infer<typeof UsageDay>;

export const UsageReport = z.object({
  tenantId: TenantId,
  plan: Plan,
  quotas: PlanQuotas,
  /** Documents the tenant keeps now: what `quotas.maxDocuments` counts (records are counted by its instance). */
  documents: z.number().int(),
  from: UsageDate,
  to: UsageDate,
  /** One row per UTC day and kind that saw usage, oldest first; days without usage are left out. */
  days: z.array(UsageDay),
  /** Every kind asked for, 0 when unused. */
  totals: z.partialRecord(UsageKind, z.number().int()),
});
export type UsageReport = z.infer<typeof UsageReport>;

/** Across tenants (operators only): the heaviest users of each kind. */
export const UsageSummaryQuery = UsageWindow.extend({
  /** Tenants listed per kind. */
  limit: z.coerce.number().int().min(1).max(100).default(10),
}).superRefine(checkRange);
export type UsageSummaryQuery = z.infer<typeof UsageSummaryQuery>;

export const UsageSummary = z.object({
  from: UsageDate,
  to: UsageDate,
  kinds: z.array(
    z.object({
      kind: UsageKind,
      /** Across all tenants, not only those listed. */
      total: z.number().int(),
      top: z.array(z.object({ tenantId: TenantId, slug: z.string(), quantity: z.number().int() })),
    }),
  ),
});
export type UsageSummary = z.infer<typeof UsageSummary>;
