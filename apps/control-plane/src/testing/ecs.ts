import { ECSClient } from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { EcsRuntime, type EcsRuntimeOptions } from "../instances/ecs-runtime";

/** A tenant id and a task ARN of the shapes ECS and VDB use. */
export const ECS_TEST_TENANT = "ten_0123456789abcdefghij";
export const ECS_TEST_TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/vdb/1f2e3d4c5b6a";

/**
 * An ECS client mocked with aws-sdk-client-mock (no ECS can run here) and `EcsRuntime`s on it
 * whose clock only moves when they sleep: `fake.sleeps` lists each wait they asked for, without
 * anyone waiting. `reset()` before each test forgets the calls, the answers and the waits.
 *
 * @example
 * const { ecs, fake, reset, runtime } = mockedEcs();
 * beforeEach(reset);
 * ecs.on(RunTaskCommand).resolves({ tasks: [task], failures: [] });
 * await runtime({ maxAttempts: 2 }).start(spec);
 */
export function mockedEcs({ startClock = 0 }: { startClock?: number } = {}) {
  const client = new ECSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
  });
  const ecs = mockClient(client);
  const fake = { sleeps: [] as number[], clock: startClock };
  return {
    ecs,
    fake,
    reset() {
      ecs.reset();
      fake.sleeps = [];
      fake.clock = startClock;
    },
    runtime(options: Partial<EcsRuntimeOptions> = {}): EcsRuntime {
      return new EcsRuntime({
        client,
        cluster: "vdb",
        taskDefinition: "vdb-instance:7",
        containerName: "instance",
        subnets: ["subnet-a"],
        securityGroups: ["sg-instances"],
        port: 8080,
        launchType: "FARGATE",
        pollIntervalMs: 1_000,
        sleep: async (ms) => {
          fake.sleeps.push(ms);
          fake.clock += ms;
        },
        now: () => fake.clock,
        random: () => 0.5,
        ...options,
      });
    },
  };
}
