import type { TokenIdentity } from "../auth/token-verifier";
import type { Logger } from "../logger";
import type { InstanceServices } from "../services";

/** Hono variables every instance handler can read. */
export type InstanceEnv = {
  Variables: {
    services: InstanceServices;
    requestId: string;
    logger: Logger;
    /** The verified caller; null on the public routes (health, docs). */
    identity: TokenIdentity | null;
  };
};
