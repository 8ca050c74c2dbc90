import { randomUUID } from "node:crypto";
import {
  type Container,
  DescribeTasksCommand,
  type ECSClient,
  type Failure,
  type KeyValuePair,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { checkInstanceId, identityEnvName } from "./pools";
import {
  type InstanceHandle,
  type InstanceRuntime,
  type InstanceSpec,
  type ObservedState,
  RetryableRuntimeError,
} from "./runtime";

/** `startedBy` of every instance task: `list()` finds them with it. */
export const ECS_STARTED_BY = "vdb";
/** `startedBy` of the one-off tasks that delete a tenant's data (not instances, so `list()` skips them). */
export const ECS_CLEANUP_STARTED_BY = "vdb-cleanup";
/** The `reason` StopTask records; a task stopped with it is `stopped`, never `failed`. */
export const ECS_STOP_REASON = "stopped by VDB";
/** Tag carrying the tenant id, next to the task `group` `vdb:<tenantId>`. */
export const ECS_TENANT_TAG = "vdb:tenant";

const GROUP_PREFIX = "vdb:";
/** The instance env the driver decides itself (see `InstanceSpec.env`); CHROMA_URL is left to the task definition (a sidecar). */
const DRIVER_ENV = new Set(["PORT", "HOST", "DATA_DIR", "CHROMA_URL"]);
/** Error names ECS and the SDK use for throttling and transient server trouble. */
const TRANSIENT_ERRORS = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ServerException",
  "ServiceUnavailable",
  "InternalFailure",
  "TimeoutError",
]);
const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);
/** DescribeTasks takes at most 100 tasks per call. */
const DESCRIBE_BATCH = 100;

export interface EcsRuntimeOptions {
  client: ECSClient;
  cluster: string;
  /** `family`, `family:revision` or the ARN of the instance task definition (infra/ecs/instance-task-definition.json). */
  taskDefinition: string;
  /** The instance container in that task definition ("instance"). */
  containerName: string;
  subnets: string[];
  securityGroups: string[];
  /** Only for subnets without a NAT gateway (the task must still reach ECR and the control plane). */
  assignPublicIp?: boolean;
  /** The port the instance listens on inside its task (the task definition's containerPort). */
  port: number;
  launchType: "FARGATE";
  /** Where the task definition mounts the EFS volume; each tenant's DATA_DIR is `<dataDir>/<tenantId>`. Default `/data`. */
  dataDir?: string;
  /**
   * Report a RUNNING task as `running` only once its container health check passes (default: true,
   * the template defines one). Without a health check ECS never says HEALTHY: set it to false.
   */
  waitForHealthy?: boolean;
  /** How long `stop()` waits for STOPPED (ECS gives the container `stopTimeout`, 30 s, then deprovisions the ENI). */
  stopTimeoutMs?: number;
  /** How long `destroyData()` waits for its cleanup task. */
  cleanupTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Attempts per ECS call when it is throttled (with exponential backoff and full jitter). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected in tests so nothing really waits. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

/**
 * Instances as ECS tasks (Fargate, awsvpc): one task per tenant, started from one task
 * definition with the tenant's environment as container overrides. Tasks carry
 * `startedBy: "vdb"`, `group: "vdb:<tenantId>"` and a `vdb:tenant` tag, so `list()` finds them
 * after a control-plane restart. The instance URL is the task ENI's private IP.
 *
 * What `observe()` reports:
 * - `starting` — PROVISIONING / PENDING / ACTIVATING, or RUNNING before the container health
 *   check passes (or before the ENI has an IP);
 * - `running` — RUNNING, ENI IP known and the container HEALTHY (`http://<ip>:<port>`);
 * - `failed` — RUNNING but UNHEALTHY, or the task stopped by itself: it failed to start
 *   (image pull, EFS mount…), the container was killed (OOM) or exited non-zero;
 * - `stopped` — it was asked to stop (StopTask by us or anyone: stopCode UserInitiated), AWS
 *   reclaimed it (Spot interruption, termination notice), it exited on its own with code 0, or ECS
 *   no longer knows the task (it forgets stopped tasks after about an hour).
 * A task on its way down (desired STOPPED, or DEACTIVATING / STOPPING / DEPROVISIONING) is
 * already reported as what it will end as: it no longer serves. A replacement started right away
 * cannot meet it on the tenant's EFS directory in practice, since a Fargate task takes longer to
 * provision than the old one's 30 s stop timeout; `stop()` waits for STOPPED for the strict case.
 *
 * Data lives on EFS under `<dataDir>/<tenantId>` (one access point rooted at `/tenants`, so
 * `/tenants/<tenantId>` on the file system). `destroyData()` runs a one-off task of the same
 * task definition with the command `rm -rf -- <dataDir>/<tenantId>` and waits for it to exit 0.
 */
export class EcsRuntime implements InstanceRuntime {
  readonly kind = "ecs" as const;
  private readonly dataDir: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: EcsRuntimeOptions) {
    this.dataDir = (opts.dataDir ?? "/data").replace(/\/+$/, "");
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  async start(spec: InstanceSpec): Promise<InstanceHandle> {
    const tenantId = checkTenantId(spec.tenantId);
    const idName = identityEnvName(tenantId);
    if (spec.env[idName] !== undefined && spec.env[idName] !== tenantId) {
      throw new Error(`instance env ${idName} "${spec.env[idName]}" does not match ${tenantId}`);
    }
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(spec.env)) if (!DRIVER_ENV.has(name)) env[name] = value;
    Object.assign(env, {
      [idName]: tenantId,
      PORT: String(this.opts.port),
      // Inside its own ENI: reachable only through the security group, never from the internet.
      HOST: "0.0.0.0",
      DATA_DIR: this.tenantDataDir(tenantId),
    });
    const task = await this.runTask(`start the instance of ${tenantId}`, {
      startedBy: ECS_STARTED_BY,
      group: `${GROUP_PREFIX}${tenantId}`,
      tenantId,
      environment: Object.entries(env).map(([name, value]) => ({ name, value })),
    });
    return { ref: task.taskArn!, url: null };
  }

  async observe(handle: InstanceHandle): Promise<ObservedState> {
    const task = await this.describe(handle.ref);
    if (!task) return { state: "stopped", reason: "ECS no longer knows this task (it stopped long ago)" };
    return this.toObserved(task);
  }

  async stop(handle: InstanceHandle): Promise<void> {
    const task = await this.describe(handle.ref);
    if (!task || task.lastStatus === "STOPPED") return;
    if (task.desiredStatus !== "STOPPED") {
      try {
        await this.send("StopTask", () =>
          this.opts.client.send(
            new StopTaskCommand({ cluster: this.opts.cluster, task: handle.ref, reason: ECS_STOP_REASON }),
          ),
        );
      } catch (error) {
        // Gone between DescribeTasks and StopTask: that is what we wanted.
        if (
          errorName(causeOf(error)) === "InvalidParameterException" &&
          /not found/i.test(messageOf(error))
        ) {
          return;
        }
        throw error;
      }
    }
    await this.waitUntilStopped(handle.ref, this.opts.stopTimeoutMs ?? 180_000);
  }

  async destroyData(tenantId: string): Promise<void> {
    checkTenantId(tenantId);
    const dir = this.tenantDataDir(tenantId);
    const task = await this.runTask(`delete the data of ${tenantId}`, {
      startedBy: ECS_CLEANUP_STARTED_BY,
      group: `vdb-cleanup:${tenantId}`,
      tenantId,
      // Exec form, no shell; the tenant id was validated above, so the path cannot escape dataDir.
      command: ["rm", "-rf", "--", dir],
      environment: [{ name: identityEnvName(tenantId), value: tenantId }],
    });
    const stopped = await this.waitUntilStopped(task.taskArn!, this.opts.cleanupTimeoutMs ?? 600_000);
    if (!stopped) {
      throw new RetryableRuntimeError(
        `could not confirm that the cleanup task for ${tenantId} deleted ${dir}`,
      );
    }
    const container = this.containerOf(stopped);
    if (container?.exitCode !== 0) {
      const why = [stopped.stoppedReason, container?.reason, exitText(container)].filter(Boolean).join("; ");
      throw new Error(`deleting ${dir} on EFS for ${tenantId} failed: ${why || "unknown reason"}`);
    }
  }

  async list(): Promise<(InstanceHandle & { tenantId: string })[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      // startedBy must be the only filter ListTasks gets; its default desiredStatus is RUNNING.
      const page = await this.send("ListTasks", () =>
        this.opts.client.send(
          new ListTasksCommand({ cluster: this.opts.cluster, startedBy: ECS_STARTED_BY, nextToken }),
        ),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);

    const found: (InstanceHandle & { tenantId: string })[] = [];
    for (let i = 0; i < arns.length; i += DESCRIBE_BATCH) {
      const output = await this.send("DescribeTasks", () =>
        this.opts.client.send(
          new DescribeTasksCommand({
            cluster: this.opts.cluster,
            tasks: arns.slice(i, i + DESCRIBE_BATCH),
            include: ["TAGS"],
          }),
        ),
      );
      for (const task of output.tasks ?? []) {
        const tenantId = tenantOf(task);
        if (!task.taskArn || !tenantId || task.lastStatus === "STOPPED") continue;
        found.push({ tenantId, ref: task.taskArn, url: this.urlOf(task) });
      }
    }
    return found;
  }

  private tenantDataDir(tenantId: string): string {
    return `${this.dataDir}/${tenantId}`;
  }

  private toObserved(task: Task): ObservedState {
    if (task.desiredStatus === "STOPPED") return this.ended(task);
    switch (task.lastStatus) {
      case "RUNNING": {
        const url = this.urlOf(task);
        if (!url) return { state: "starting", url: null };
        const health = this.containerOf(task)?.healthStatus ?? task.healthStatus;
        if (health === "UNHEALTHY") {
          return { state: "failed", reason: "the instance container is failing its health check (/healthz)" };
        }
        if (health === "HEALTHY" || this.opts.waitForHealthy === false) return { state: "running", url };
        return { state: "starting", url };
      }
      case "DEACTIVATING":
      case "STOPPING":
      case "DEPROVISIONING":
      case "STOPPED":
        return this.ended(task);
      default: // PROVISIONING, PENDING, ACTIVATING
        return { state: "starting", url: this.urlOf(task) };
    }
  }

  /** A task that stopped or is stopping: asked to (stopped) or by itself (failed unless it exited 0). */
  private ended(task: Task): ObservedState {
    const container = this.containerOf(task);
    const pending = task.lastStatus === "STOPPED" ? "" : ` (task still ${task.lastStatus?.toLowerCase()})`;
    const stopCode = task.stopCode as string | undefined;
    if (
      stopCode === "UserInitiated" ||
      stopCode === "SpotInterruption" ||
      stopCode === "TerminationNotice" ||
      task.stoppedReason === ECS_STOP_REASON
    ) {
      return { state: "stopped", reason: `${task.stoppedReason ?? "stopped"}${pending}` };
    }
    const exit = exitText(container);
    if (stopCode !== "TaskFailedToStart" && !container?.reason && container?.exitCode === 0) {
      return {
        state: "stopped",
        reason: `${task.stoppedReason ?? "the instance exited"} (${exit})${pending}`,
      };
    }
    const details = [container?.reason, exit].filter(Boolean).join(", ");
    const reason = task.stoppedReason ?? "the instance task stopped";
    return { state: "failed", reason: `${reason}${details ? ` (${details})` : ""}${pending}` };
  }

  private containerOf(task: Task): Container | undefined {
    return task.containers?.find((container) => container.name === this.opts.containerName);
  }

  /** `http://<private IP>:<port>` from the task's ENI attachment, once it has one. */
  private urlOf(task: Task): string | null {
    const eni = task.attachments?.find((attachment) => attachment.type === "ElasticNetworkInterface");
    const ip =
      eni?.details?.find((detail: KeyValuePair) => detail.name === "privateIPv4Address")?.value ??
      this.containerOf(task)?.networkInterfaces?.[0]?.privateIpv4Address;
    return ip ? `http://${ip}:${this.opts.port}` : null;
  }

  /** The task, or null when ECS reports it MISSING. */
  private async describe(taskArn: string): Promise<Task | null> {
    const output = await this.send("DescribeTasks", () =>
      this.opts.client.send(
        new DescribeTasksCommand({ cluster: this.opts.cluster, tasks: [taskArn], include: ["TAGS"] }),
      ),
    );
    const task = output.tasks?.find((candidate) => candidate.taskArn === taskArn) ?? output.tasks?.[0];
    if (task) return task;
    const failure = output.failures?.[0];
    if (!failure || failure.reason === "MISSING") return null;
    throw new Error(`ECS DescribeTasks of ${taskArn} failed: ${failureText(failure)}`);
  }

  /** Polls until the task is STOPPED (returns it) or unknown to ECS (returns null). */
  private async waitUntilStopped(taskArn: string, timeoutMs: number): Promise<Task | null> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const task = await this.describe(taskArn);
      if (!task || task.lastStatus === "STOPPED") return task;
      if (this.now() >= deadline) {
        throw new RetryableRuntimeError(
          `ECS task ${taskArn} is still ${task.lastStatus} ${Math.round(timeoutMs / 1000)} s after being stopped`,
        );
      }
      await this.sleep(this.opts.pollIntervalMs ?? 2_000);
    }
  }

  private async runTask(
    purpose: string,
    input: {
      startedBy: string;
      group: string;
      tenantId: string;
      environment: KeyValuePair[];
      command?: string[];
    },
  ): Promise<Task> {
    const request: RunTaskCommandInput = {
      cluster: this.opts.cluster,
      taskDefinition: this.opts.taskDefinition,
      launchType: this.opts.launchType,
      count: 1,
      startedBy: input.startedBy,
      group: input.group,
      // Same token on every retry: a RunTask that succeeded but whose answer was lost is not repeated.
      clientToken: randomUUID(),
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: this.opts.subnets,
          securityGroups: this.opts.securityGroups,
          assignPublicIp: this.opts.assignPublicIp ? "ENABLED" : "DISABLED",
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: this.opts.containerName,
            environment: input.environment,
            ...(input.command ? { command: input.command } : {}),
          },
        ],
      },
      tags: [{ key: ECS_TENANT_TAG, value: input.tenantId }],
      enableECSManagedTags: true,
    };
    const where = `task definition ${this.opts.taskDefinition} in cluster ${this.opts.cluster}`;
    const output = await this.send(`RunTask (${where})`, () =>
      this.opts.client.send(new RunTaskCommand(request)),
    );
    const failure = output.failures?.[0];
    if (failure) {
      const message = `ECS could not ${purpose}: ${failureText(failure)}`;
      if (isCapacityFailure(failure)) throw new RetryableRuntimeError(message, 30_000);
      throw new Error(`${message} (${where})`);
    }
    const task = output.tasks?.[0];
    if (!task?.taskArn) throw new Error(`ECS RunTask returned no task to ${purpose} (${where})`);
    return task;
  }

  /**
   * One ECS call, retried with exponential backoff and full jitter while ECS throttles (on top of
   * the SDK's own few retries); still throttled → RetryableRuntimeError for the reconciler. Other
   * errors become an Error naming the call and the ECS error.
   */
  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    const maxAttempts = this.opts.maxAttempts ?? 5;
    const base = this.opts.baseDelayMs ?? 250;
    const cap = this.opts.maxDelayMs ?? 5_000;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!isTransient(error)) {
          throw new Error(`ECS ${what} failed: ${errorName(error)}: ${messageOf(error)}`, { cause: error });
        }
        if (attempt >= maxAttempts) {
          throw new RetryableRuntimeError(
            `ECS ${what} is throttled or unavailable (${errorName(error)} after ${attempt} attempts); trying again later`,
            10_000,
          );
        }
        await this.sleep(Math.round(this.random() * Math.min(cap, base * 2 ** (attempt - 1))));
      }
    }
  }
}

/** A tenant's id or a pool's (pools run as instances too): it names an EFS directory. */
function checkTenantId(tenantId: string): string {
  return checkInstanceId(tenantId);
}

function tenantOf(task: Task): string | null {
  const fromGroup = task.group?.startsWith(GROUP_PREFIX) ? task.group.slice(GROUP_PREFIX.length) : undefined;
  const candidate = fromGroup ?? task.tags?.find((tag) => tag.key === ECS_TENANT_TAG)?.value;
  if (!candidate) return null;
  try {
    return checkInstanceId(candidate);
  } catch {
    return null;
  }
}

/** RunTask failures that go away with time: no capacity in the cluster / AZ, agent busy. */
function isCapacityFailure(failure: Failure): boolean {
  const text = `${failure.reason ?? ""} ${failure.detail ?? ""}`;
  return /^RESOURCE:/.test(failure.reason ?? "") || failure.reason === "AGENT" || /capacity/i.test(text);
}

function failureText(failure: Failure): string {
  return [failure.reason, failure.detail].filter(Boolean).join(": ") || "unknown failure";
}

function exitText(container: Container | undefined): string | null {
  return container?.exitCode === undefined ? null : `exit code ${container.exitCode}`;
}

function isTransient(error: unknown): boolean {
  if (TRANSIENT_ERRORS.has(errorName(error))) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return true;
  const code = (error as { code?: string })?.code;
  return code === "ECONNRESET" || code === "ETIMEDOUT" || code === "ECONNREFUSED" || code === "EAI_AGAIN";
}

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? "Error";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function causeOf(error: unknown): unknown {
  return error instanceof Error && error.cause !== undefined ? error.cause : error;
}
