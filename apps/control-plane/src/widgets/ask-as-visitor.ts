import type { ChatStreamEvent } from "@vdb/schemas/chat";
import { WidgetChatInput } from "@vdb/schemas/widgets";
import { streamAnswer } from "../chat/ask-question";
import type { Ctx } from "../lib/context";
import { type Visitor, visitorCtx } from "./authenticate-visitor";
import { limitWidgetRequest } from "./visitor-rate-limit";

/**
 * A visitor's question, answered like any chat (same retrieval, answer writer, citations and
 * usage metering) from the widget's collection of the widget's tenant, streaming. The
 * conversation is the visitor's: continuing anyone else's session is NOT_FOUND.
 */
export async function* askAsVisitor({
  ctx,
  visitor,
  input,
  signal,
}: {
  ctx: Ctx;
  visitor: Visitor;
  input: WidgetChatInput;
  signal?: AbortSignal;
}): AsyncGenerator<ChatStreamEvent> {
  const data = WidgetChatInput.parse(input);
  limitWidgetRequest(ctx.services.rateBuckets, {
    widgetId: visitor.widget.id,
    plan: visitor.widget.plan,
    purpose: "chat",
    visitorId: visitor.visitorId,
  });
  yield* streamAnswer({
    ctx: visitorCtx(ctx, visitor),
    input: {
      tenantId: visitor.widget.tenantId,
      message: data.message,
      collection: visitor.widget.collection,
      ...(data.sessionId ? { sessionId: data.sessionId } : {}),
    },
    visitor: { widgetId: visitor.widget.id, visitorId: visitor.visitorId },
    ...(signal ? { signal } : {}),
  });
}
