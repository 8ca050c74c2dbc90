import { createMiddleware } from "hono/factory";
import { authenticate, credentialFrom } from "../auth/authenticate";
import type { AppEnv } from "./env";

/** Resolves the caller once per request; routes then read `c.get("principal")`. */
export const authenticateRequest = createMiddleware<AppEnv>(async (c, next) => {
  const credential = credentialFrom({
    authorization: c.req.header("authorization"),
    apiKey: c.req.header("x-api-key"),
  });
  c.set("credential", credential);
  c.set("principal", await authenticate(c.get("services"), credential));
  await next();
});
