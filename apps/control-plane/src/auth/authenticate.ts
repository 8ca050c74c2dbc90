import { AppError } from "@vdb/http/errors";
import type { Principal } from "@vdb/schemas/auth";
import { and, eq, gt } from "drizzle-orm";
import { sessions, users } from "../lib/db/schema";
import { hashSecret } from "../lib/secrets";
import type { Services } from "../services";
import { loadMemberships } from "../users/to-user";

/** The bearer credential of a request: `Authorization: Bearer …` or `X-API-Key: …`. */
export function credentialFrom(headers: {
  authorization?: string | null;
  apiKey?: string | null;
}): string | null {
  const auth = headers.authorization?.trim();
  if (auth) {
    const match = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!match?.[1]) {
      throw new AppError({ code: "UNAUTHORIZED", message: "Authorization header must be `Bearer <token>`" });
    }
    return match[1];
  }
  return headers.apiKey?.trim() || null;
}

const KEY_REJECTIONS = {
  unknown: "API key is not valid",
  revoked: "API key has been revoked",
  expired: "API key has expired",
} as const;

/**
 * Resolves a credential to who is calling. No credential → null (public routes still work);
 * a credential that does not check out → 401, never a silent downgrade to anonymous.
 */
export async function authenticate(services: Services, credential: string | null): Promise<Principal | null> {
  if (!credential) return null;
  if (credential.startsWith("vdbk_")) {
    const result = await services.apiKeys.check(credential);
    if (!result.ok) throw new AppError({ code: "UNAUTHORIZED", message: KEY_REJECTIONS[result.reason] });
    return { kind: "apiKey", ...result.key };
  }
  if (credential.startsWith("vdbs_")) {
    const [row] = await services.db
      .select({
        userId: users.id,
        email: users.email,
        isOperator: users.isOperator,
        mustChangePassword: users.mustChangePassword,
      })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, hashSecret(credential)), gt(sessions.expiresAt, new Date())))
      .limit(1);
    if (!row)
      throw new AppError({ code: "UNAUTHORIZED", message: "Session expired or logged out; log in again" });
    return { kind: "user", ...row, memberships: await loadMemberships(services.db, row.userId) };
  }
  throw new AppError({
    code: "UNAUTHORIZED",
    message: "Unrecognised credential: expected a VDB API key or session token",
  });
}
