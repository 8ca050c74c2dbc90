import type { Config } from "../config";
import type { InstanceRuntime } from "./runtime";

/** Builds the ECS runtime from config (ECS_* variables). */
export async function createEcsRuntimeFromConfig(config: Config): Promise<InstanceRuntime> {
  throw new Error(`RUNTIME=ecs is not wired yet (cluster ${config.ECS_CLUSTER ?? "unset"})`);
}
