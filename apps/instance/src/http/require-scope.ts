import { AppError } from "@vdb/http/errors";
import { isScopeGranted, type Scope } from "@vdb/schemas/auth";
import { createMiddleware } from "hono/factory";
import type { InstanceEnv } from "./env";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Verifies the caller's instance token and checks it grants `needed`. Runs before body
 * validation, so an unauthenticated caller learns nothing about the API from error details.
 */
export function requireScope(needed: Scope) {
  return createMiddleware<InstanceEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    if (!header) {
      throw new AppError({
        code: "UNAUTHORIZED",
        message: "Send an instance token: Authorization: Bearer <token>",
      });
    }
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      throw new AppError({ code: "UNAUTHORIZED", message: "Authorization header must be 'Bearer <token>'" });
    }
    const identity = await c.get("services").verifier(token);
    c.set("identity", identity);
    if (!isScopeGranted(identity.scopes, needed)) {
      throw new AppError({
        code: "FORBIDDEN",
        message: `This token lacks the "${needed}" scope (it has: ${identity.scopes.join(", ") || "none"})`,
      });
    }
    await next();
  });
}
