import type { Instance } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import { eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { instances } from "../lib/db/schema";
import { watchChanges } from "../lib/watch-changes";
import { toInstance } from "./to-instance";

/**
 * Yields the tenant's instance now and at every change until `signal` aborts (null: no
 * instance). Changes made by this process's reconciler arrive at once; a poll catches those
 * of a reconciler in another control-plane process.
 */
export async function* watchInstance({
  ctx,
  input,
  signal,
}: {
  ctx: Ctx;
  input: TenantRef;
  signal?: AbortSignal;
}): AsyncGenerator<Instance | null> {
  const { tenantId } = TenantRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const { db, reconciler } = ctx.services;
  yield* watchChanges<Instance | null>({
    read: async () => {
      const [row] = await db.select().from(instances).where(eq(instances.tenantId, tenantId)).limit(1);
      return row ? toInstance(row) : null;
    },
    // The reconciler's events carry the instance: every state is seen, however quickly they pass.
    subscribe: (notify) => {
      const onChange = (instance: Instance) => {
        if (instance.tenantId === tenantId) notify(instance);
      };
      reconciler.on("change", onChange);
      return () => reconciler.off("change", onChange);
    },
    key: (instance) => (instance ? `${instance.state}|${instance.url}|${instance.updatedAt}` : "none"),
    ...(signal ? { signal } : {}),
  });
}
