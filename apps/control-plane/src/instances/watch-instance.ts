import type { Instance } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import { eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { instances } from "../lib/db/schema";
import { toInstance } from "./to-instance";

const POLL_MS = 1_000;

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
  const queue: (Instance | null)[] = [];
  let wake: (() => void) | null = null;
  const onChange = (instance: Instance) => {
    if (instance.tenantId !== tenantId) return;
    queue.push(instance);
    wake?.();
  };
  const read = async () => {
    const [row] = await db.select().from(instances).where(eq(instances.tenantId, tenantId)).limit(1);
    return row ? toInstance(row) : null;
  };
  const onAbort = () => wake?.();
  reconciler.on("change", onChange);
  signal?.addEventListener("abort", onAbort);
  try {
    queue.push(await read());
    let last = "";
    while (!signal?.aborted) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, POLL_MS).unref();
        });
        wake = null;
        if (signal?.aborted) break;
        if (queue.length === 0) queue.push(await read());
      }
      for (const instance of queue.splice(0)) {
        const key = instance ? `${instance.state}|${instance.url}|${instance.updatedAt}` : "none";
        if (key === last) continue;
        last = key;
        yield instance;
      }
    }
  } finally {
    reconciler.off("change", onChange);
    signal?.removeEventListener("abort", onAbort);
  }
}
