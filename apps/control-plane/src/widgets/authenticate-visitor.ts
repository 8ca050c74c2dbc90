import { AppError } from "@vdb/http/errors";
import type { Principal } from "@vdb/schemas/auth";
import type { Ctx } from "../lib/context";
import { isOriginAllowed, normalizeOrigin } from "./allowed-origin";
import { verifyEmbedToken } from "./embed-token";
import { findPublicWidget, type PublicWidgetRow } from "./find-public-widget";

/** A visitor whose embed token checked out, with the widget as it is now. */
export interface Visitor {
  widget: PublicWidgetRow;
  visitorId: string;
  /**
   * What the visitor may do, expressed as the narrowest principal the chat verbs understand:
   * `read` on the widget's tenant only (`keyId` names the widget, for the records).
   */
  principal: Principal;
}

/**
 * Checks a visitor's request to `widgetId`: the embed token (signature, expiry, audience, the
 * widget), then that it comes from the Origin it was issued to, and that the widget is still
 * enabled, still allows that Origin and still belongs to the token's tenant. A token is
 * UNAUTHORIZED (get a new one); a page that may not use the widget is FORBIDDEN.
 */
export async function authenticateVisitor({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { widgetId: string; token: string | null; origin: string | null | undefined };
}): Promise<Visitor> {
  if (!input.token) {
    throw new AppError({
      code: "UNAUTHORIZED",
      message: "Send the widget's embed token: `Authorization: Bearer <token>` (POST /embed/token)",
    });
  }
  const claims = await verifyEmbedToken(ctx.services, input.token, input.widgetId);
  const origin = normalizeOrigin(input.origin);
  if (!origin || origin !== claims.origin) {
    throw new AppError({ code: "FORBIDDEN", message: "This embed token was issued to another site" });
  }
  const widget = await findPublicWidget(ctx.services.db, input.widgetId);
  if (widget.tenantId !== claims.tenant) {
    throw new AppError({ code: "UNAUTHORIZED", message: "This is not an embed token for this widget" });
  }
  if (!widget.enabled || !isOriginAllowed(widget.allowedOrigins, origin)) {
    throw new AppError({ code: "FORBIDDEN", message: `This widget is not available on ${origin}` });
  }
  return {
    widget,
    visitorId: claims.sub,
    principal: { kind: "apiKey", keyId: widget.id, tenantId: widget.tenantId, scopes: ["read"] },
  };
}

/** The verb context a visitor's request runs with. */
export function visitorCtx(ctx: Ctx, visitor: Visitor): Ctx {
  return { ...ctx, principal: visitor.principal };
}
