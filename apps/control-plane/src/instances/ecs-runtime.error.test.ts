import {
  ClientException,
  DescribeTasksCommand,
  ECSServiceException,
  InvalidParameterException,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { beforeEach, describe, expect, it } from "vitest";
import { ECS_TEST_TASK_ARN, ECS_TEST_TENANT, mockedEcs } from "../testing/ecs";
import type { EcsRuntimeOptions } from "./ecs-runtime";
import { RetryableRuntimeError } from "./runtime";

const TENANT = ECS_TEST_TENANT;
const ARN = ECS_TEST_TASK_ARN;
const SPEC = { tenantId: TENANT, env: { TENANT_ID: TENANT, PLAN: "starter" } };

const { ecs, fake, reset, runtime: mockedRuntime } = mockedEcs();
const runtime = (extra: Partial<EcsRuntimeOptions> = {}) =>
  mockedRuntime({ baseDelayMs: 200, maxDelayMs: 1_000, maxAttempts: 4, ...extra });

const throttled = () =>
  new ECSServiceException({
    name: "ThrottlingException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
    message: "Rate exceeded",
  });

const running: Task = {
  taskArn: ARN,
  group: `vdb:${TENANT}`,
  lastStatus: "PROVISIONING",
  desiredStatus: "RUNNING",
};

/** What `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

beforeEach(reset);

describe("EcsRuntime.start: errors", () => {
  it("no capacity (RunTask failures) is retryable, and names the reason", async () => {
    for (const failure of [
      { arn: "arn:aws:ecs:eu-west-1:123456789012:container-instance/abc", reason: "RESOURCE:MEMORY" },
      { reason: "RESOURCE:CPU" },
      {
        reason:
          "Capacity is unavailable at this time. Please try again later or in a different availability zone",
      },
    ]) {
      ecs.on(RunTaskCommand).resolves({ tasks: [], failures: [failure] });
      const error = await rejection(runtime().start(SPEC));
      expect(error).toBeInstanceOf(RetryableRuntimeError);
      expect(error.message).toContain(failure.reason);
      expect(error.message).toContain(TENANT);
    }
  });

  it("a failure that time will not fix (placement attribute) is a plain error", async () => {
    ecs
      .on(RunTaskCommand)
      .resolves({ tasks: [], failures: [{ reason: "ATTRIBUTE", detail: "ecs.cpu-architecture" }] });
    const error = await rejection(runtime().start(SPEC));
    expect(error).not.toBeInstanceOf(RetryableRuntimeError);
    expect(error.message).toMatch(/ATTRIBUTE: ecs.cpu-architecture.*vdb-instance:7/);
  });

  it("retries throttled calls with growing, jittered delays and then succeeds, sending the same client token", async () => {
    ecs
      .on(RunTaskCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ tasks: [running] });

    const handle = await runtime().start(SPEC);

    expect(handle).toEqual({ ref: ARN, url: null });
    const calls = ecs.commandCalls(RunTaskCommand);
    expect(calls).toHaveLength(3);
    // Idempotent: a RunTask that reached ECS but whose answer was lost is not started twice.
    expect(new Set(calls.map((call) => call.args[0].input.clientToken)).size).toBe(1);
    expect(fake.sleeps).toEqual([100, 200]); // random 0.5 × 200 ms × 2^n
  });

  it("still throttled after every attempt → RetryableRuntimeError, no task started", async () => {
    ecs.on(RunTaskCommand).rejects(throttled());

    const error = await rejection(runtime().start(SPEC));

    expect(error).toBeInstanceOf(RetryableRuntimeError);
    expect(error.message).toMatch(/ThrottlingException after 4 attempts/);
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(4);
    expect(fake.sleeps).toEqual([100, 200, 400]);
  });

  it("the backoff is capped", async () => {
    ecs.on(ListTasksCommand).rejects(throttled());
    await rejection(runtime({ maxAttempts: 6, random: () => 1 }).list());
    expect(fake.sleeps).toEqual([200, 400, 800, 1_000, 1_000]);
  });

  it("a bad task definition (ClientException) is a plain error that says what failed", async () => {
    ecs.on(RunTaskCommand).rejects(
      new ClientException({
        $metadata: { httpStatusCode: 400 },
        message: "Unable to find task definition.",
      }),
    );

    const error = await rejection(runtime().start(SPEC));

    expect(error).not.toBeInstanceOf(RetryableRuntimeError);
    expect(error.message).toBe(
      "ECS RunTask (task definition vdb-instance:7 in cluster vdb) failed: ClientException: Unable to find task definition.",
    );
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(1); // not retried
  });

  it("an invalid parameter is a plain error, not retried", async () => {
    ecs.on(RunTaskCommand).rejects(
      new InvalidParameterException({
        $metadata: { httpStatusCode: 400 },
        message: "subnets can have at most 16 items.",
      }),
    );
    const error = await rejection(runtime().start(SPEC));
    expect(error).not.toBeInstanceOf(RetryableRuntimeError);
    expect(error.message).toContain("InvalidParameterException: subnets can have at most 16 items.");
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(1);
  });

  it("refuses what is not a tenant id, or an env naming another tenant, before calling ECS", async () => {
    await expect(runtime().start({ tenantId: "../../etc", env: {} })).rejects.toThrow(
      /not a tenant or pool id/,
    );
    await expect(runtime().destroyData("ten_x; rm -rf /")).rejects.toThrow(/not a tenant or pool id/);
    await expect(
      runtime().start({ tenantId: TENANT, env: { TENANT_ID: "ten_abcdefghij0123456789" } }),
    ).rejects.toThrow(/does not match/);
    expect(ecs.calls()).toHaveLength(0);
  });
});

describe("EcsRuntime.stop / observe / destroyData: errors", () => {
  it("gives up waiting for STOPPED after the timeout with a retryable error", async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ ...running, lastStatus: "RUNNING" }] });
    ecs.on(StopTaskCommand).resolves({});

    const error = await rejection(runtime({ stopTimeoutMs: 5_000 }).stop({ ref: ARN, url: null }));

    expect(error).toBeInstanceOf(RetryableRuntimeError);
    expect(error.message).toContain("still RUNNING");
    expect(fake.sleeps.reduce((a, b) => a + b, 0)).toBe(5_000);
  });

  it("a task that vanishes between DescribeTasks and StopTask counts as stopped", async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ ...running, lastStatus: "RUNNING" }] });
    ecs
      .on(StopTaskCommand)
      .rejects(
        new InvalidParameterException({ $metadata: {}, message: "The referenced task was not found." }),
      );
    await expect(runtime().stop({ ref: ARN, url: null })).resolves.toBeUndefined();
  });

  it("observe() turns a DescribeTasks failure other than MISSING into an error", async () => {
    ecs.on(DescribeTasksCommand).resolves({ failures: [{ arn: ARN, reason: "ACCESS_DENIED" }] });
    await expect(runtime().observe({ ref: ARN, url: null })).rejects.toThrow(/ACCESS_DENIED/);
  });

  it("destroyData() fails loudly when the cleanup command exits non-zero", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [running] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          ...running,
          lastStatus: "STOPPED",
          desiredStatus: "STOPPED",
          stoppedReason: "Essential container in task exited",
          containers: [{ name: "instance", exitCode: 1 }],
        },
      ],
    });
    const error = await rejection(runtime().destroyData(TENANT));
    expect(error).not.toBeInstanceOf(RetryableRuntimeError);
    expect(error.message).toBe(
      `deleting /data/${TENANT} on EFS for ${TENANT} failed: Essential container in task exited; exit code 1`,
    );
  });

  it("destroyData() without capacity is retryable", async () => {
    ecs.on(RunTaskCommand).resolves({ failures: [{ reason: "RESOURCE:ENI" }] });
    await expect(runtime().destroyData(TENANT)).rejects.toBeInstanceOf(RetryableRuntimeError);
  });
});
