/**
 * Where instances run. Two drivers behind this one interface: `local` (child processes on this
 * machine) and `ecs` (Fargate/EC2 tasks). The reconciler is the only caller; drivers never
 * touch the store, they only start, stop, look and list.
 */

/** Everything a driver needs to start one tenant's instance. */
export interface InstanceSpec {
  tenantId: string;
  /** The environment the instance reads (see `apps/instance/src/config.ts`), minus PORT/HOST/DATA_DIR/CHROMA_URL, which the driver decides. */
  env: Record<string, string>;
}

/** What a driver remembers of a started instance, persisted by the reconciler between restarts. */
export interface InstanceHandle {
  /** Driver-specific id: a pid for `local`, a task ARN for `ecs`. */
  ref: string;
  /** Base URL of the instance's HTTP API once known. */
  url: string | null;
}

export type ObservedState =
  | { state: "starting"; url: string | null }
  | { state: "running"; url: string }
  /**
   * The process is alive but its health probe went unanswered (or answered unhealthy): busy or
   * hung, the reconciler decides (see liveness.ts). `stalled`: the probe's timeout fired late
   * because this process was itself stalled, so the probe says nothing about the instance.
   */
  | { state: "unresponsive"; url: string; reason: string; stalled: boolean }
  | { state: "stopped"; reason: string | null }
  | { state: "failed"; reason: string };

export interface InstanceRuntime {
  readonly kind: "local" | "ecs";
  /** Starts an instance; resolves once it is accepted (not necessarily healthy). */
  start(spec: InstanceSpec): Promise<InstanceHandle>;
  /**
   * What the tenant's instance is doing now. Only an instance that says it serves `tenantId`
   * counts as running: whatever else answers at its address (a port reused by another tenant's
   * instance, another control plane's) does not.
   */
  observe(handle: InstanceHandle, tenantId: string): Promise<ObservedState>;
  /**
   * Stops it gracefully (`force`: at once, for a hung instance that would not heed a request to
   * stop); resolves when it is gone. Stopping a stopped instance is a no-op.
   */
  stop(handle: InstanceHandle, opts?: { force?: boolean }): Promise<void>;
  /** Removes the tenant's instance data (after `stop`). */
  destroyData(tenantId: string): Promise<void>;
  /** Instances this driver can see, whether or not the store knows them: for adoption and orphan clean-up. */
  list(): Promise<(InstanceHandle & { tenantId: string })[]>;
  /**
   * Calls `listener` as soon as an instance this driver started exits (or, within a moment, one it
   * re-adopted), so a crash is handled at once instead of at the next sweep. Drivers that cannot
   * tell (ECS) do not implement it.
   */
  onExit?(listener: (tenantId: string) => void): void;
}

/** Raised by drivers for conditions the reconciler should retry later (no capacity, throttling). */
export class RetryableRuntimeError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs = 5_000,
  ) {
    super(message);
    this.name = "RetryableRuntimeError";
  }
}
