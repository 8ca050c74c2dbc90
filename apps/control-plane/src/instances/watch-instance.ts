import type { Instance } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { watchChanges } from "../lib/watch-changes";
import { servingInstance } from "./serving-instance";
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
      const serving = await servingInstance(db, tenantId);
      return serving ? toInstance(serving.row, tenantId) : null;
    },
    // The reconciler's events carry the instance: every state is seen, however quickly they pass.
    // A pool's change is read again: it may be the pool this tenant is placed in.
    subscribe: (notify) => {
      const onChange = (instance: Instance) => {
        if (instance.tenantId === tenantId) notify(instance);
        else if (instance.poolId) notify();
      };
      reconciler.on("change", onChange);
      return () => reconciler.off("change", onChange);
    },
    key: (instance) => (instance ? `${instance.state}|${instance.url}|${instance.updatedAt}` : "none"),
    ...(signal ? { signal } : {}),
  });
}
