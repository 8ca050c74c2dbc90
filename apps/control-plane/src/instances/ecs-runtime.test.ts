import {
  DescribeTasksCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ECS_TEST_TASK_ARN, ECS_TEST_TENANT, mockedEcs } from "../testing/ecs";
import type { EcsRuntimeOptions } from "./ecs-runtime";

// No ECS can run here: the client is mocked, and these tests pin down both what the runtime
// asks ECS for and what it makes of ECS's answers.

const TENANT = ECS_TEST_TENANT;
const OTHER = "ten_abcdefghij0123456789";
const ARN = ECS_TEST_TASK_ARN;

const { ecs, fake, reset, runtime: mockedRuntime } = mockedEcs({ startClock: 1_000_000 });
const runtime = (extra: Partial<EcsRuntimeOptions> = {}) =>
  mockedRuntime({ subnets: ["subnet-a", "subnet-b"], ...extra });

/** Answers calls in order from `steps`; an Error step is thrown; running out fails the test. */
function script(steps: (object | Error)[]) {
  return async () => {
    const step = steps.shift();
    if (step === undefined) throw new Error("unexpected extra ECS call");
    if (step instanceof Error) throw step;
    return step;
  };
}

function task(fields: Partial<Task>): Task {
  return {
    taskArn: ARN,
    group: `vdb:${TENANT}`,
    startedBy: "vdb",
    desiredStatus: "RUNNING",
    lastStatus: "PROVISIONING",
    containers: [{ name: "instance", lastStatus: "PENDING", healthStatus: "UNKNOWN" }],
    ...fields,
  };
}

function eni(ip: string): Task["attachments"] {
  return [
    {
      type: "ElasticNetworkInterface",
      status: "ATTACHED",
      details: [
        { name: "subnetId", value: "subnet-a" },
        { name: "networkInterfaceId", value: "eni-0abc" },
        { name: "privateIPv4Address", value: ip },
      ],
    },
  ];
}

beforeEach(reset);
afterEach(() => ecs.reset());

describe("EcsRuntime: an instance's life", () => {
  it("starts a Fargate task with the tenant's environment, reports starting → running at the task IP, then stops it", async () => {
    const ecsRuntime = runtime();
    ecs.on(RunTaskCommand).resolves({ tasks: [task({ lastStatus: "PROVISIONING" })], failures: [] });

    const handle = await ecsRuntime.start({
      tenantId: TENANT,
      env: {
        TENANT_ID: TENANT,
        PLAN: "pro",
        MODEL_NAME: "use-lite",
        DIMENSION: "512",
        MAX_DOCS: "1000000",
        JWKS_URL: "https://vdb.example.com/.well-known/jwks.json",
        TOKEN_ISSUER: "https://vdb.example.com",
        // The driver decides these: whatever the caller sends is replaced or dropped.
        PORT: "1234",
        HOST: "127.0.0.1",
        CHROMA_URL: "http://elsewhere:8000",
      },
    });
    expect(handle).toEqual({ ref: ARN, url: null });

    const [run] = ecs.commandCalls(RunTaskCommand);
    const input = run!.args[0].input;
    expect(input).toEqual({
      cluster: "vdb",
      taskDefinition: "vdb-instance:7",
      launchType: "FARGATE",
      count: 1,
      startedBy: "vdb",
      group: `vdb:${TENANT}`,
      clientToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ["subnet-a", "subnet-b"],
          securityGroups: ["sg-instances"],
          assignPublicIp: "DISABLED",
        },
      },
      overrides: { containerOverrides: [{ name: "instance", environment: expect.any(Array) }] },
      tags: [{ key: "vdb:tenant", value: TENANT }],
      enableECSManagedTags: true,
    });
    const environment = input.overrides!.containerOverrides![0]!.environment!;
    expect(Object.fromEntries(environment.map(({ name, value }) => [name, value]))).toEqual({
      TENANT_ID: TENANT,
      PLAN: "pro",
      MODEL_NAME: "use-lite",
      DIMENSION: "512",
      MAX_DOCS: "1000000",
      JWKS_URL: "https://vdb.example.com/.well-known/jwks.json",
      TOKEN_ISSUER: "https://vdb.example.com",
      PORT: "8080",
      HOST: "0.0.0.0",
      DATA_DIR: `/data/${TENANT}`,
    });

    const describes: (object | Error)[] = [];
    ecs.on(DescribeTasksCommand).callsFake(script(describes));

    describes.push({ tasks: [task({ lastStatus: "PENDING", attachments: eni("10.0.1.23") })] });
    expect(await ecsRuntime.observe(handle)).toEqual({ state: "starting", url: "http://10.0.1.23:8080" });

    // RUNNING, but the container health check has not passed yet: not ready for traffic.
    describes.push({ tasks: [task({ lastStatus: "RUNNING", attachments: eni("10.0.1.23") })] });
    expect(await ecsRuntime.observe(handle)).toEqual({ state: "starting", url: "http://10.0.1.23:8080" });

    describes.push({
      tasks: [
        task({
          lastStatus: "RUNNING",
          healthStatus: "HEALTHY",
          attachments: eni("10.0.1.23"),
          containers: [{ name: "instance", lastStatus: "RUNNING", healthStatus: "HEALTHY" }],
        }),
      ],
    });
    expect(await ecsRuntime.observe(handle)).toEqual({ state: "running", url: "http://10.0.1.23:8080" });
    expect(ecs.commandCalls(DescribeTasksCommand)[0]!.args[0].input).toEqual({
      cluster: "vdb",
      tasks: [ARN],
      include: ["TAGS"],
    });

    const stopped = task({
      lastStatus: "STOPPED",
      desiredStatus: "STOPPED",
      stopCode: "UserInitiated",
      stoppedReason: "stopped by VDB",
      containers: [{ name: "instance", lastStatus: "STOPPED", exitCode: 143 }],
    });
    ecs.on(StopTaskCommand).resolves({ task: task({ lastStatus: "RUNNING", desiredStatus: "STOPPED" }) });
    describes.push(
      { tasks: [task({ lastStatus: "RUNNING", healthStatus: "HEALTHY", attachments: eni("10.0.1.23") })] },
      { tasks: [task({ lastStatus: "DEACTIVATING", desiredStatus: "STOPPED", stopCode: "UserInitiated" })] },
      {
        tasks: [task({ lastStatus: "DEPROVISIONING", desiredStatus: "STOPPED", stopCode: "UserInitiated" })],
      },
      { tasks: [stopped] },
    );
    await ecsRuntime.stop(handle);
    expect(ecs.commandCalls(StopTaskCommand).map((call) => call.args[0].input)).toEqual([
      { cluster: "vdb", task: ARN, reason: "stopped by VDB" },
    ]);
    expect(describes).toEqual([]); // it waited for STOPPED…
    expect(fake.sleeps).toEqual([1_000, 1_000]); // …polling, without really sleeping

    // Asked to stop (even if the container was killed with SIGTERM's 143): stopped, not failed.
    describes.push({ tasks: [stopped] });
    expect(await ecsRuntime.observe(handle)).toEqual({ state: "stopped", reason: "stopped by VDB" });

    // Stopping it again is a no-op: no second StopTask.
    describes.push({ tasks: [stopped] });
    await ecsRuntime.stop(handle);
    expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(1);
  });

  it("reports a task that stopped by itself with a non-zero exit as failed, with ECS's reason", async () => {
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task({
          lastStatus: "STOPPED",
          desiredStatus: "STOPPED",
          stopCode: "EssentialContainerExited",
          stoppedReason: "Essential container in task exited",
          containers: [{ name: "instance", lastStatus: "STOPPED", exitCode: 1 }],
        }),
      ],
    });
    expect(await runtime().observe({ ref: ARN, url: "http://10.0.1.23:8080" })).toEqual({
      state: "failed",
      reason: "Essential container in task exited (exit code 1)",
    });
  });

  it("reports a task that could not start (EFS mount, image pull) or was OOM-killed as failed", async () => {
    ecs.on(DescribeTasksCommand).resolvesOnce({
      tasks: [
        task({
          lastStatus: "STOPPED",
          desiredStatus: "STOPPED",
          stopCode: "TaskFailedToStart",
          stoppedReason:
            "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes",
          containers: [{ name: "instance", lastStatus: "STOPPED" }],
        }),
      ],
    });
    expect(await runtime().observe({ ref: ARN, url: null })).toEqual({
      state: "failed",
      reason: "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes",
    });

    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task({
          lastStatus: "STOPPING",
          desiredStatus: "STOPPED",
          stopCode: "EssentialContainerExited",
          stoppedReason: "Essential container in task exited",
          containers: [
            {
              name: "instance",
              lastStatus: "STOPPED",
              exitCode: 137,
              reason: "OutOfMemoryError: Container killed due to memory usage",
            },
          ],
        }),
      ],
    });
    expect(await runtime().observe({ ref: ARN, url: null })).toEqual({
      state: "failed",
      reason:
        "Essential container in task exited (OutOfMemoryError: Container killed due to memory usage, exit code 137) (task still stopping)",
    });
  });

  it("reports a task ECS no longer knows as stopped, and a clean exit 0 as stopped", async () => {
    ecs.on(DescribeTasksCommand).resolvesOnce({ tasks: [], failures: [{ arn: ARN, reason: "MISSING" }] });
    expect(await runtime().observe({ ref: ARN, url: null })).toEqual({
      state: "stopped",
      reason: expect.stringContaining("no longer knows"),
    });

    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task({
          lastStatus: "STOPPED",
          desiredStatus: "STOPPED",
          stopCode: "EssentialContainerExited",
          stoppedReason: "Essential container in task exited",
          containers: [{ name: "instance", lastStatus: "STOPPED", exitCode: 0 }],
        }),
      ],
    });
    expect(await runtime().observe({ ref: ARN, url: null })).toEqual({
      state: "stopped",
      reason: "Essential container in task exited (exit code 0)",
    });
  });

  it("reports a running task whose health check fails as failed, and skips the health wait when told to", async () => {
    const running = (health: "UNHEALTHY" | "UNKNOWN") =>
      task({
        lastStatus: "RUNNING",
        attachments: eni("10.0.9.9"),
        containers: [{ name: "instance", lastStatus: "RUNNING", healthStatus: health }],
      });
    ecs.on(DescribeTasksCommand).resolvesOnce({ tasks: [running("UNHEALTHY")] });
    expect(await runtime().observe({ ref: ARN, url: null })).toEqual({
      state: "failed",
      reason: "the instance container is failing its health check (/healthz)",
    });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [running("UNKNOWN")] });
    expect(await runtime({ waitForHealthy: false }).observe({ ref: ARN, url: null })).toEqual({
      state: "running",
      url: "http://10.0.9.9:8080",
    });
  });

  it("stop() of a task ECS has forgotten does nothing", async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: ARN, reason: "MISSING" }] });
    await runtime().stop({ ref: ARN, url: null });
    expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(0);
  });
});

describe("EcsRuntime.list", () => {
  it("pages through ListTasks, describes in batches of 100 and names each task's tenant", async () => {
    const arns = Array.from({ length: 150 }, (_, i) => `${ARN}-${i}`);
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: arns.slice(0, 100), nextToken: "page-2" })
      .resolvesOnce({ taskArns: arns.slice(100) });
    ecs.on(DescribeTasksCommand).callsFake(async (input: { tasks: string[] }) => ({
      tasks: input.tasks.map((arn, i) => {
        const index = Number(arn.split("-").pop());
        if (index === 0) return task({ taskArn: arn, lastStatus: "RUNNING", attachments: eni("10.0.0.1") });
        // Found by its tag when the group is not ours.
        if (index === 1) {
          return task({
            taskArn: arn,
            group: "family:vdb-instance",
            tags: [{ key: "vdb:tenant", value: OTHER }],
          });
        }
        if (index === 2) return task({ taskArn: arn, group: "family:something-else" }); // not a VDB instance
        if (index === 3) return task({ taskArn: arn, lastStatus: "STOPPED", desiredStatus: "STOPPED" });
        return task({ taskArn: arn, group: `vdb:ten_${String(i).padStart(20, "0")}` });
      }),
    }));

    const found = await runtime().list();

    expect(ecs.commandCalls(ListTasksCommand).map((call) => call.args[0].input)).toEqual([
      { cluster: "vdb", startedBy: "vdb", nextToken: undefined },
      { cluster: "vdb", startedBy: "vdb", nextToken: "page-2" },
    ]);
    const batches = ecs.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input);
    expect(batches.map((batch) => batch.tasks)).toEqual([arns.slice(0, 100), arns.slice(100)]);
    expect(batches.every((batch) => batch.cluster === "vdb" && batch.include?.includes("TAGS"))).toBe(true);

    expect(found).toHaveLength(148); // 150 listed, minus the foreign one and the one already STOPPED
    expect(found[0]).toEqual({ tenantId: TENANT, ref: `${ARN}-0`, url: "http://10.0.0.1:8080" });
    expect(found[1]).toEqual({ tenantId: OTHER, ref: `${ARN}-1`, url: null });
    expect(found.map((item) => item.ref)).not.toContain(`${ARN}-2`);
    expect(found.map((item) => item.ref)).not.toContain(`${ARN}-3`);
  });
});

describe("EcsRuntime.destroyData", () => {
  it("runs a one-off task of the same definition that deletes the tenant's EFS directory, and waits for exit 0", async () => {
    const cleanupArn = `${ARN}-cleanup`;
    ecs
      .on(RunTaskCommand)
      .resolves({ tasks: [task({ taskArn: cleanupArn, group: `vdb-cleanup:${TENANT}` })] });
    ecs
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task({ taskArn: cleanupArn, lastStatus: "RUNNING" })] })
      .resolves({
        tasks: [
          task({
            taskArn: cleanupArn,
            lastStatus: "STOPPED",
            desiredStatus: "STOPPED",
            stopCode: "EssentialContainerExited",
            containers: [{ name: "instance", exitCode: 0 }],
          }),
        ],
      });

    await runtime().destroyData(TENANT);

    const [run] = ecs.commandCalls(RunTaskCommand);
    expect(run!.args[0].input).toMatchObject({
      cluster: "vdb",
      taskDefinition: "vdb-instance:7",
      launchType: "FARGATE",
      startedBy: "vdb-cleanup", // so list() never mistakes it for an instance
      group: `vdb-cleanup:${TENANT}`,
      overrides: {
        containerOverrides: [
          {
            name: "instance",
            command: ["rm", "-rf", "--", `/data/${TENANT}`],
            environment: [{ name: "TENANT_ID", value: TENANT }],
          },
        ],
      },
    });
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(2);
  });
});
