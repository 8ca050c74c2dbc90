import type { Instance } from "@vdb/schemas/instances";
import { eq } from "drizzle-orm";
import { instances } from "../lib/db/schema";
import type { Services } from "../services";

/** How often a waiting request re-reads the store (a reconciler in another process moves the state). */
const POLL_MS = 250;

export type AwakeOutcome =
  | { kind: "running"; url: string }
  /** It left sleeping/waking some other way (failed, stopped, deleted): the state it reached. */
  | { kind: "gave-up"; state: string; desiredState: string | null }
  | { kind: "timed-out" };

/** Whether a request for an instance in this state should wake it (or wait for its waking). */
export function isAsleep(state: string, desiredState: string): boolean {
  return desiredState === "running" && (state === "sleeping" || state === "waking");
}

/**
 * Wakes the tenant's sleeping instance (if no one has yet) and waits until it runs, for at most
 * INSTANCE_WAKE_TIMEOUT_MS. The tenant is the caller's own (checked before this): nothing here
 * takes a tenant from a path or a name. Every caller, in any process, shares one start (only one
 * wins the sleeping → waking change); the instance client shares one wait among its callers.
 */
export async function waitUntilAwake(services: Services, tenantId: string): Promise<AwakeOutcome> {
  const { reconciler } = services;
  const deadline = Date.now() + services.config.INSTANCE_WAKE_TIMEOUT_MS;
  let changed: (() => void) | null = null;
  const onChange = (instance: Instance) => {
    if (instance.tenantId === tenantId) changed?.();
  };
  reconciler.on("change", onChange);
  try {
    for (;;) {
      const [row] = await services.db
        .select({ state: instances.state, desiredState: instances.desiredState, url: instances.url })
        .from(instances)
        .where(eq(instances.tenantId, tenantId))
        .limit(1);
      if (row?.state === "running" && row.url) return { kind: "running", url: row.url };
      if (!row || !isAsleep(row.state, row.desiredState)) {
        return { kind: "gave-up", state: row?.state ?? "none", desiredState: row?.desiredState ?? null };
      }
      if (row.state === "sleeping") await reconciler.wake(tenantId);
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timed-out" };
      // The next change of this instance here, or the next poll for one made elsewhere.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, left));
        changed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      changed = null;
    }
  } finally {
    reconciler.off("change", onChange);
  }
}
