import { createMiddleware } from "hono/factory";
import { authenticate, credentialFrom } from "../auth/authenticate";
import { requireOwnPassword } from "../auth/authorize";
import type { AppEnv } from "./env";

/**
 * Resolves the caller once per request; routes then read `c.get("principal")`. A session still
 * on an administrator's password gets no further than choosing its own (`requireOwnPassword`).
 */
export const authenticateRequest = createMiddleware<AppEnv>(async (c, next) => {
  const credential = credentialFrom({
    authorization: c.req.header("authorization"),
    apiKey: c.req.header("x-api-key"),
  });
  c.set("credential", credential);
  const principal = await authenticate(c.get("services"), credential);
  requireOwnPassword(principal, `${c.req.method} ${c.req.path}`);
  c.set("principal", principal);
  await next();
});
