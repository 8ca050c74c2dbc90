import { PLANS, PlanQuotas } from "@vdb/schemas/plans";
import {
  resolveUsageRange,
  UsageKind,
  UsageQuery,
  type UsageReport,
  type UsageSummary,
  UsageSummaryQuery,
  type UsageWindow,
} from "@vdb/schemas/usage";
import { and, asc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { z } from "zod";
import { requireOperator, requireTenantScope } from "../auth/authorize";
import { countDocuments } from "../documents/document-admission";
import type { Ctx } from "../lib/context";
import { tenants, usageEvents } from "../lib/db/schema";
import { findTenantOrThrow } from "../tenants/to-tenant";

const DAY_MS = 86_400_000;

// The UTC day of an event as text: `date_trunc` alone gives a timestamp, which drivers would turn
// into a Date in the server's local zone.
const utcDay = sql<string>`to_char(date_trunc('day', ${usageEvents.createdAt} at time zone 'UTC'), 'YYYY-MM-DD')`;
// sum(integer) is a bigint, which postgres.js returns as a string.
const totalQuantity = sql<number>`sum(${usageEvents.quantity})`.mapWith(Number);

/** The window's filters: [from 00:00 UTC, the day after `to` 00:00 UTC), and the kinds. */
function windowFilters(window: UsageWindow) {
  const { from, to } = resolveUsageRange(window);
  const kinds = window.kinds ?? UsageKind.options;
  return {
    from,
    to,
    kinds,
    where: [
      gte(usageEvents.createdAt, new Date(Date.parse(from))),
      lt(usageEvents.createdAt, new Date(Date.parse(to) + DAY_MS)),
      inArray(usageEvents.kind, kinds),
    ],
  };
}

/**
 * A tenant's usage per UTC day and kind, with totals and its plan's quotas. Anyone who may read
 * the tenant may read it (viewers and read keys too): it says nothing the tenant's own data does not.
 */
export async function getUsage({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof UsageQuery>;
}): Promise<UsageReport> {
  const query = UsageQuery.parse(input);
  requireTenantScope(ctx.principal, query.tenantId, "read");
  const tenant = await findTenantOrThrow(ctx.services.db, query.tenantId);
  const { from, to, kinds, where } = windowFilters(query);
  const rows = await ctx.services.db
    .select({ date: utcDay, kind: usageEvents.kind, quantity: totalQuantity })
    .from(usageEvents)
    .where(and(eq(usageEvents.tenantId, query.tenantId), ...where))
    .groupBy(utcDay, usageEvents.kind)
    .orderBy(asc(utcDay), asc(usageEvents.kind));
  const totals: Partial<Record<UsageKind, number>> = Object.fromEntries(kinds.map((kind) => [kind, 0]));
  const days = rows.map((row) => {
    const kind = row.kind as UsageKind;
    totals[kind] = (totals[kind] ?? 0) + row.quantity;
    return { date: row.date, kind, quantity: row.quantity };
  });
  // The quotas only (PlanQuotas strips the plan's other settings, such as its sleep time).
  const quotas = PlanQuotas.parse(PLANS[tenant.plan]);
  const documents = await countDocuments(ctx.services.db, tenant.id);
  return { tenantId: tenant.id, plan: tenant.plan, quotas, documents, from, to, days, totals };
}

/** Operators only: per kind, the total across tenants and the tenants that used it most. */
export async function getUsageSummary({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof UsageSummaryQuery>;
}): Promise<UsageSummary> {
  const query = UsageSummaryQuery.parse(input);
  requireOperator(ctx.principal);
  const { from, to, kinds, where } = windowFilters(query);
  // One group per tenant and kind: a few thousand rows at most, ranked here.
  const rows = await ctx.services.db
    .select({
      tenantId: usageEvents.tenantId,
      slug: tenants.slug,
      kind: usageEvents.kind,
      quantity: totalQuantity,
    })
    .from(usageEvents)
    .innerJoin(tenants, eq(tenants.id, usageEvents.tenantId))
    .where(and(...where))
    .groupBy(usageEvents.tenantId, tenants.slug, usageEvents.kind);
  return {
    from,
    to,
    kinds: kinds.map((kind) => {
      const ofKind = rows
        .filter((row) => row.kind === kind)
        .sort((a, b) => b.quantity - a.quantity || a.tenantId.localeCompare(b.tenantId));
      return {
        kind,
        total: ofKind.reduce((sum, row) => sum + row.quantity, 0),
        top: ofKind
          .slice(0, query.limit)
          .map(({ tenantId, slug, quantity }) => ({ tenantId, slug, quantity })),
      };
    }),
  };
}
