import type { ChatAnswer, ChatStreamEvent } from "@vdb/schemas/chat";
import type { ErrorBody } from "@vdb/schemas/errors";
import type { EmbedTokenResponse, VisitorConversation, WidgetTheme } from "@vdb/schemas/widgets";

/** A refusal the widget can explain: the server's error code, or `NETWORK` when it never answered. */
export class WidgetError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterSeconds = 0,
  ) {
    super(message);
  }
}

interface Saved {
  visitorId?: string;
  sessionId?: string;
}

/** This browser's visitor id and conversation for one widget (localStorage may be off: then per page). */
class VisitorStore {
  private readonly key: string;
  private memory: Saved = {};

  constructor(widgetId: string) {
    this.key = `vdb-widget:${widgetId}`;
    try {
      this.memory = JSON.parse(localStorage.getItem(this.key) ?? "{}") as Saved;
    } catch {
      this.memory = {};
    }
  }

  get(): Saved {
    return this.memory;
  }

  set(change: Saved): void {
    this.memory = { ...this.memory, ...change };
    try {
      localStorage.setItem(this.key, JSON.stringify(this.memory));
    } catch {
      // Storage blocked: the conversation lasts as long as the page.
    }
  }
}

async function errorOf(response: Response): Promise<WidgetError> {
  const retryAfter = Number(response.headers.get("retry-after") ?? 0);
  try {
    const body = (await response.json()) as ErrorBody;
    return new WidgetError(body.error.code, body.error.message, retryAfter);
  } catch {
    return new WidgetError("INTERNAL", `The chat service answered ${response.status}`, retryAfter);
  }
}

/**
 * Talks to the control plane's `/embed/*` routes for one widget: gets an embed token (and
 * refreshes it before it expires, or when a request answers 401), reads the visitor's
 * conversation, and asks questions with the answer streamed back.
 */
export class EmbedClient {
  private token: string | null = null;
  private tokenRequest: Promise<EmbedTokenResponse> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly visitor: VisitorStore;

  constructor(
    private readonly base: string,
    private readonly widgetId: string,
  ) {
    this.visitor = new VisitorStore(widgetId);
  }

  get sessionId(): string | undefined {
    return this.visitor.get().sessionId;
  }

  /** The first token: the widget's theme, or a WidgetError when this site may not use it. */
  async start(): Promise<WidgetTheme> {
    return (await this.refresh()).config.theme;
  }

  stop(): void {
    clearTimeout(this.refreshTimer);
  }

  private refresh(): Promise<EmbedTokenResponse> {
    this.tokenRequest ??= this.requestToken().finally(() => {
      this.tokenRequest = null;
    });
    return this.tokenRequest;
  }

  private async requestToken(): Promise<EmbedTokenResponse> {
    const { visitorId } = this.visitor.get();
    let response: Response;
    try {
      // text/plain keeps this a CORS "simple" request: a site the widget does not allow is
      // refused by the server's own Origin check, with no token in the answer.
      response = await fetch(`${this.base}embed/token?widgetId=${encodeURIComponent(this.widgetId)}`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ widgetId: this.widgetId, ...(visitorId ? { visitorId } : {}) }),
      });
    } catch {
      // A refusal without CORS headers is unreadable here: it looks like a network failure.
      throw new WidgetError("NETWORK", "The chat service could not be reached from this site");
    }
    if (!response.ok) throw await errorOf(response);
    const issued = (await response.json()) as EmbedTokenResponse;
    this.token = issued.token;
    this.visitor.set({ visitorId: issued.visitorId });
    clearTimeout(this.refreshTimer);
    // Refresh at 80% of the lifetime; a failure here is retried by the next request's 401.
    this.refreshTimer = setTimeout(() => void this.refresh().catch(() => {}), issued.expiresInSeconds * 800);
    return issued;
  }

  private async send(path: string, init: RequestInit = {}, isRetry = false): Promise<Response> {
    if (!this.token) await this.refresh();
    let response: Response;
    try {
      response = await fetch(`${this.base}embed/widgets/${this.widgetId}/${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.token}` },
      });
    } catch {
      throw new WidgetError("NETWORK", "The chat service could not be reached");
    }
    if (response.status === 401 && !isRetry) {
      this.token = null;
      return this.send(path, init, true);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  /** The visitor's conversation so far (after a reload), or an empty one. */
  async conversation(): Promise<VisitorConversation> {
    const conversation = (await (await this.send("conversation")).json()) as VisitorConversation;
    if (conversation.sessionId) this.visitor.set({ sessionId: conversation.sessionId });
    return conversation;
  }

  /** Asks a question; `onText` gets the answer's pieces as they stream in. */
  async ask(message: string, onText: (text: string) => void): Promise<ChatAnswer> {
    const { sessionId } = this.visitor.get();
    const response = await this.send("chat", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ message, ...(sessionId ? { sessionId } : {}) }),
    });
    const reader = response.body?.getReader();
    if (!reader) throw new WidgetError("INTERNAL", "The answer could not be read");
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { done, value } = await reader.read();
      buffered += decoder.decode(value, { stream: !done });
      let end = buffered.indexOf("\n\n");
      while (end >= 0) {
        const event = parseEvent(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf("\n\n");
        if (!event) continue;
        if (event.type === "token") onText(event.text);
        else if (event.type === "done") {
          this.visitor.set({ sessionId: event.sessionId });
          reader.cancel().catch(() => {});
          return event;
        } else throw new WidgetError(event.error.code, event.error.message);
      }
      if (done) throw new WidgetError("INTERNAL", "The answer stopped before it was complete");
    }
  }
}

type StreamEvent = ChatStreamEvent | (ErrorBody & { type: "error" });

function parseEvent(block: string): StreamEvent | null {
  const data = block
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trimStart())
    .join("\n");
  if (!data) return null;
  const parsed = JSON.parse(data) as ChatStreamEvent | ErrorBody;
  return "error" in parsed ? { ...parsed, type: "error" as const } : parsed;
}
