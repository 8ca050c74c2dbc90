import path from "node:path";
import type { Config } from "../config";
import type { Logger } from "../lib/logger";
import { LocalRuntime } from "./local-runtime";
import type { InstanceRuntime } from "./runtime";

/** The runtime the config names. */
export async function createRuntime(config: Config, logger: Logger): Promise<InstanceRuntime> {
  if (config.RUNTIME === "ecs") {
    // Loaded only when used: the AWS SDK is heavy and the local runtime never needs it.
    const { createEcsRuntimeFromConfig } = await import("./ecs-config");
    return createEcsRuntimeFromConfig(config);
  }
  const [first, last] = config.INSTANCE_PORTS.split("-").map(Number) as [number, number];
  return new LocalRuntime({
    dataDir: path.join(config.DATA_DIR, "instances"),
    ports: [first, last],
    logger,
    probeTimeoutMs: config.INSTANCE_PROBE_TIMEOUT_MS,
  });
}
