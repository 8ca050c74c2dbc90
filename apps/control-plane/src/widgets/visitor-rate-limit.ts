import { AppError } from "@vdb/http/errors";
import type { TakeResult, TokenBuckets } from "@vdb/http/token-buckets";
import { PLANS, type Plan } from "@vdb/schemas/plans";

/** Messages one visitor may send per second (bursts of two): people type slower than this. */
export const VISITOR_MESSAGES_PER_SECOND = 1;

/** A RATE_LIMITED refusal that knows its `Retry-After`. */
export class WidgetRateLimitError extends AppError {
  constructor(message: string, taken: TakeResult) {
    super({
      code: "RATE_LIMITED",
      message: `${message}; retry in ${taken.retryAfterSeconds} s`,
      retryAfterSeconds: taken.retryAfterSeconds,
    });
  }
}

/**
 * Spends one request of the widget's budget (its tenant's plan rate, like an API key, shared by
 * every visitor of the widget) and, for chat, one of the visitor's own, from `buckets` (the
 * process's: `Services.rateBuckets`). Per process, like API keys' limits (see TokenBuckets): they
 * protect the tenant's instance and quota from one noisy page, they are not a billing boundary.
 * Throws RATE_LIMITED.
 */
export function limitWidgetRequest(
  buckets: TokenBuckets,
  opts: {
    widgetId: string;
    plan: Plan;
    purpose: "token" | "chat";
    visitorId?: string;
  },
): void {
  const widget = buckets.take(`${opts.purpose}:${opts.widgetId}`, PLANS[opts.plan].requestsPerSecond);
  if (!widget.isAllowed) {
    throw new WidgetRateLimitError("This widget is receiving too many requests", widget);
  }
  if (opts.visitorId) {
    const visitor = buckets.take(`visitor:${opts.widgetId}:${opts.visitorId}`, VISITOR_MESSAGES_PER_SECOND);
    if (!visitor.isAllowed) throw new WidgetRateLimitError("You are sending messages too quickly", visitor);
  }
}
