import type { Principal } from "@vdb/schemas/auth";
import type { Services } from "../services";

/** Facts about the HTTP request that verbs record (audit) but never branch on. */
export interface RequestMeta {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

/** What every verb receives: the services, who is calling, and the request it came from. */
export interface Ctx {
  services: Services;
  principal: Principal | null;
  request: RequestMeta;
}

/** A context for work the platform does on its own (first-admin creation, tests' set-up). */
export function systemCtx(services: Services, requestId = "system"): Ctx {
  return { services, principal: null, request: { requestId, ip: null, userAgent: null } };
}

/** The user id background work acts as (see `workerCtx`). */
export const WORKER_USER_ID = "system:worker";

/** Whether `principal` is the platform's own background work, not a person or a key. */
export function isPlatformWork(principal: Principal | null): boolean {
  return principal?.kind === "user" && principal.userId === WORKER_USER_ID;
}

/**
 * A context for background work on tenants' data (ingestion, its clean-up): it acts for the
 * platform with an operator's reach, since the work was authorized when it was asked for.
 */
export function workerCtx(services: Services, requestId: string): Ctx {
  return {
    services,
    principal: {
      kind: "user",
      userId: WORKER_USER_ID,
      email: "worker",
      isOperator: true,
      mustChangePassword: false,
      memberships: [],
    },
    request: { requestId, ip: null, userAgent: null },
  };
}
