import { AppError } from "@vdb/http/errors";
import { newId } from "@vdb/schemas/ids";
import { EmbedTokenClaims, widgetAudience } from "@vdb/schemas/widgets";
import { errors as joseErrors } from "jose";
import type { Services } from "../services";

/** What an embed token binds together. */
export interface EmbedTokenSubject {
  tenantId: string;
  widgetId: string;
  visitorId: string;
  origin: string;
}

/**
 * Signs a chat-only embed token with the control plane's active ES256 key (the same keys and
 * JWKS as instance tokens; the audience `vdb:widget:<id>` keeps the two apart). It lives
 * `EMBED_TOKEN_TTL_SECONDS` (ten minutes by default) by the services' clock; the widget refreshes
 * it before then and on any 401.
 */
export async function signEmbedToken(
  services: Services,
  subject: EmbedTokenSubject,
  ttlSeconds = services.config.EMBED_TOKEN_TTL_SECONDS,
): Promise<{ token: string; expiresAt: Date }> {
  return services.signingKeys.sign(
    {
      iss: services.config.publicUrl,
      aud: widgetAudience(subject.widgetId),
      sub: subject.visitorId,
      kind: "embed",
      scope: "chat",
      tenant: subject.tenantId,
      widget: subject.widgetId,
      origin: subject.origin,
      jti: newId("request"),
    },
    ttlSeconds,
    services.now(),
  );
}

/**
 * Verifies an embed token for `widgetId`: signature against the current JWKS, issuer, expiry,
 * audience and the claims' shape. Every failure is UNAUTHORIZED (the widget then fetches a new
 * token); which check failed is in the message, never anything about other widgets.
 */
export async function verifyEmbedToken(
  services: Services,
  token: string,
  widgetId: string,
): Promise<EmbedTokenClaims> {
  let payload: unknown;
  try {
    ({ payload } = await services.signingKeys.verify(token, {
      audience: widgetAudience(widgetId),
      issuer: services.config.publicUrl,
      now: services.now(),
    }));
  } catch (error) {
    throw new AppError({ code: "UNAUTHORIZED", message: tokenRejection(error), cause: error });
  }
  const claims = EmbedTokenClaims.safeParse(payload);
  if (!claims.success || claims.data.widget !== widgetId) {
    throw new AppError({ code: "UNAUTHORIZED", message: "This is not an embed token for this widget" });
  }
  return claims.data;
}

function tokenRejection(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The embed token has expired; fetch a new one";
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "aud") {
    return "This is not an embed token for this widget";
  }
  return "The embed token is not valid";
}
