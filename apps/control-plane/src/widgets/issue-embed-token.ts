import { randomInt } from "node:crypto";
import { AppError } from "@vdb/http/errors";
import { EmbedTokenRequest, type EmbedTokenResponse, WidgetTheme } from "@vdb/schemas/widgets";
import type { Ctx } from "../lib/context";
import { isOriginAllowed, normalizeOrigin } from "./allowed-origin";
import { signEmbedToken } from "./embed-token";
import { findPublicWidget } from "./find-public-widget";
import { limitWidgetRequest } from "./visitor-rate-limit";

const VISITOR_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A new visitor id: 24 random characters (~124 bits), the visitor's only key to its conversation. */
export function newVisitorId(): string {
  let body = "";
  for (let i = 0; i < 24; i++) body += VISITOR_ALPHABET[randomInt(VISITOR_ALPHABET.length)];
  return `vis_${body}`;
}

/**
 * Seed `/embed/token`: a short-lived, chat-only token for one widget, bound to the requesting
 * page's Origin and to a visitor id. Issued only when the widget exists, is enabled and lists
 * `origin` (the request's `Origin` header, set by the browser, not by page scripts).
 */
export async function issueEmbedToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: EmbedTokenRequest & { origin: string | null | undefined };
}): Promise<EmbedTokenResponse> {
  const { widgetId, visitorId } = EmbedTokenRequest.parse({
    widgetId: input.widgetId,
    visitorId: input.visitorId,
  });
  const origin = normalizeOrigin(input.origin);
  if (!origin) {
    throw new AppError({
      code: "FORBIDDEN",
      message: "Embed tokens are issued to web pages only: the request has no http(s) Origin header",
    });
  }
  const widget = await findPublicWidget(ctx.services.db, widgetId);
  // The same answer for a disabled widget and a foreign origin: a page learns nothing it could use.
  if (!widget.enabled || !isOriginAllowed(widget.allowedOrigins, origin)) {
    throw new AppError({
      code: "FORBIDDEN",
      message: `This widget is not available on ${origin}: its owner can add this origin to the widget's allowed origins (and enable the widget) in the VDB console`,
    });
  }
  limitWidgetRequest(ctx.services.rateBuckets, { widgetId, plan: widget.plan, purpose: "token" });
  const visitor = visitorId ?? newVisitorId();
  const { token, expiresAt } = await signEmbedToken(ctx.services, {
    tenantId: widget.tenantId,
    widgetId,
    visitorId: visitor,
    origin,
  });
  return {
    token,
    expiresAt: expiresAt.toISOString(),
    // Rounded down: the widget refreshes at a fraction of this, which must never outlast the token.
    expiresInSeconds: Math.max(0, Math.floor((expiresAt.getTime() - ctx.services.now()) / 1000)),
    visitorId: visitor,
    config: { widgetId, theme: WidgetTheme.parse(widget.theme) },
  };
}
