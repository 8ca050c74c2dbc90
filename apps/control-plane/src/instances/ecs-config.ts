import { ECSClient } from "@aws-sdk/client-ecs";
import type { Config } from "../config";
import { EcsRuntime } from "./ecs-runtime";
import type { InstanceRuntime } from "./runtime";

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** Builds the ECS runtime from the ECS_* settings; a missing one stops the start with its name. */
export function createEcsRuntimeFromConfig(config: Config): InstanceRuntime {
  const missing = (["ECS_CLUSTER", "ECS_TASK_DEFINITION", "ECS_SUBNETS"] as const).filter(
    (name) => !config[name],
  );
  if (missing.length > 0) throw new Error(`RUNTIME=ecs needs ${missing.join(", ")}`);
  return new EcsRuntime({
    // Region and credentials come from the AWS SDK's usual chain (task role, env, profile).
    client: new ECSClient({}),
    cluster: config.ECS_CLUSTER!,
    taskDefinition: config.ECS_TASK_DEFINITION!,
    containerName: config.ECS_CONTAINER_NAME,
    subnets: list(config.ECS_SUBNETS),
    securityGroups: list(config.ECS_SECURITY_GROUPS),
    port: 8080,
    launchType: "FARGATE",
  });
}
