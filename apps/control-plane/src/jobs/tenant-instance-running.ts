import { sql } from "drizzle-orm";
import { instances, jobs, poolPlacements } from "../lib/db/schema";

/**
 * The queue's `claimableWhen`: a tenant's job is claimed only while the tenant's instance is
 * running and meant to be (every tenant job works on it). While it is stopped, starting,
 * restarting or absent, the tenant's jobs wait in the queue without using attempts, and are
 * claimed at the first poll after the reconciler records it `running`. Platform jobs (no tenant)
 * are always claimable.
 */
export const TENANT_INSTANCE_RUNNING = sql`(${jobs.tenantId} is null or exists (
  select 1 from ${instances}
  where (${instances.tenantId} = ${jobs.tenantId}
      or ${instances.tenantId} = (select ${poolPlacements.poolId} from ${poolPlacements} where ${poolPlacements.tenantId} = ${jobs.tenantId}))
    and ${instances.state} = 'running'
    and ${instances.desiredState} = 'running'
))`;
