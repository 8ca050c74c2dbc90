import type { Citation } from "@vdb/schemas/chat";
import { splitCitations } from "@vdb/schemas/citations";
import type { WidgetTheme } from "@vdb/schemas/widgets";
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { WidgetError } from "./embed-client";

/** Where answers come from: the control plane, or canned replies in a preview. */
export interface ChatBackend {
  /** The visitor's earlier messages (after a reload). */
  history(): Promise<Message[]>;
  ask(message: string, onText: (text: string) => void): Promise<{ answer: string; citations: Citation[] }>;
}

export interface Message {
  id: string;
  role: "user" | "assistant" | "error";
  content: string;
  citations: Citation[];
  isStreaming?: boolean;
}

export interface ChatWidgetProps {
  theme: WidgetTheme;
  isOpen: boolean;
  onOpenChange(isOpen: boolean): void;
  /** Null while the widget cannot be used (still starting, or refused): see `unavailable`. */
  backend: ChatBackend | null;
  /** Why the chat cannot be used here, shown in the panel. */
  unavailable: string | null;
  /** Inside a container (console preview) rather than fixed to the page. */
  isContained: boolean;
}

let counter = 0;
const nextId = () => `m${++counter}`;

function explain(error: unknown): string {
  if (!(error instanceof WidgetError)) return "Something went wrong. Please try again.";
  if (error.code === "RATE_LIMITED") {
    return `You're sending messages too quickly. Try again in ${Math.max(1, error.retryAfterSeconds)} s.`;
  }
  if (error.code === "PAYLOAD_TOO_LARGE" || error.code === "VALIDATION_FAILED") return error.message;
  if (error.code === "NETWORK") return "The chat could not be reached. Check your connection and try again.";
  return "The chat could not answer right now. Please try again in a moment.";
}

/** An answer's text with its `[n]` (and `[1, 2]`) markers drawn as small numbered badges. */
function AnswerText({ text }: { text: string }) {
  return (
    <>
      {splitCitations(text).map((part, index) =>
        part.kind === "citation" ? (
          <span class="cite" key={index} title={`Source ${part.n}`}>
            {part.n}
          </span>
        ) : (
          part.text
        ),
      )}
    </>
  );
}

function Bubble({ message }: { message: Message }) {
  if (message.role === "user") return <div class="msg me">{message.content}</div>;
  if (message.role === "error")
    return (
      <div class="msg error" role="alert">
        {message.content}
      </div>
    );
  return (
    <div class="msg bot">
      <AnswerText text={message.content} />
      {message.isStreaming ? <span class="typing" aria-hidden="true" /> : null}
      {message.citations.length > 0 ? (
        <ol class="sources" aria-label="Sources">
          {message.citations.map((citation) => (
            <li key={citation.n}>
              <span class="cite">{citation.n}</span>
              <span>{citation.title}</span>
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

const CHAT_ICON = (
  <svg viewBox="0 0 24 24" aria-hidden="true">
    <path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9.5L4 22v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z" />
  </svg>
);

/** The launcher bubble and the chat panel. */
export function ChatWidget(props: ChatWidgetProps) {
  const { theme, isOpen, backend } = props;
  const [messages, setMessages] = useState<Message[]>([]);
  const [draft, setDraft] = useState("");
  const [isBusy, setBusy] = useState(false);
  const loadedFor = useRef<ChatBackend | null>(null);
  const launcher = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const log = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!backend || loadedFor.current === backend) return;
    loadedFor.current = backend;
    setMessages([]);
    backend.history().then(
      (history) => setMessages((current) => [...history, ...current]),
      () => {},
    );
  }, [backend]);

  // Focus follows the visitor opening the panel, never the first render: a panel that starts open
  // (the console's preview, a restored state) must not take focus from the host page's form.
  const wasOpen = useRef(isOpen);
  useEffect(() => {
    if (isOpen && !wasOpen.current) input.current?.focus();
    wasOpen.current = isOpen;
  }, [isOpen]);

  useEffect(() => {
    const element = log.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [messages, isOpen]);

  const close = () => {
    props.onOpenChange(false);
    launcher.current?.focus();
  };

  const update = (id: string, change: Partial<Message>) =>
    setMessages((current) =>
      current.map((message) => (message.id === id ? { ...message, ...change } : message)),
    );

  async function send() {
    const text = draft.trim();
    if (!text || !backend || isBusy) return;
    setDraft("");
    setBusy(true);
    const answerId = nextId();
    setMessages((current) => [
      ...current,
      { id: nextId(), role: "user", content: text, citations: [] },
      { id: answerId, role: "assistant", content: "", citations: [], isStreaming: true },
    ]);
    let streamed = "";
    try {
      const answer = await backend.ask(text, (piece) => {
        streamed += piece;
        update(answerId, { content: streamed });
      });
      update(answerId, { content: answer.answer, citations: answer.citations, isStreaming: false });
    } catch (error) {
      update(answerId, { role: "error", content: explain(error), isStreaming: false });
    } finally {
      setBusy(false);
      input.current?.focus();
    }
  }

  const onKeyDown = (event: JSX.TargetedKeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  const style = { "--primary": theme.primaryColor, "--on-primary": theme.textColor } as JSX.CSSProperties;
  const classes = [
    "root",
    theme.position === "bottom-left" ? "left" : "right",
    props.isContained ? "contained" : "page",
    isOpen ? "open" : "",
  ].join(" ");

  return (
    <div class={classes} style={style}>
      {isOpen ? (
        <div
          class="panel"
          role="dialog"
          aria-label={theme.title}
          onKeyDown={(event) => {
            if (event.key === "Escape") {
              event.stopPropagation();
              close();
            }
          }}
        >
          <div class="header">
            <h2 class="title">{theme.title}</h2>
            <button type="button" class="close" aria-label="Close chat" onClick={close}>
              ×
            </button>
          </div>
          <div class="log" ref={log} aria-live="polite">
            {props.unavailable ? (
              <div class="notice" role="status">
                {props.unavailable}
              </div>
            ) : (
              <>
                {theme.greeting ? <div class="msg bot">{theme.greeting}</div> : null}
                {messages.map((message) => (
                  <Bubble key={message.id} message={message} />
                ))}
              </>
            )}
          </div>
          <form
            class="composer"
            hidden={props.unavailable !== null}
            onSubmit={(event) => {
              event.preventDefault();
              void send();
            }}
          >
            <label class="sr" for="vdb-question">
              Your question
            </label>
            <textarea
              id="vdb-question"
              ref={input}
              class="input"
              rows={1}
              maxLength={4000}
              placeholder="Ask a question…"
              value={draft}
              disabled={!backend}
              onInput={(event) => setDraft(event.currentTarget.value)}
              onKeyDown={onKeyDown}
            />
            <button type="submit" class="send" disabled={!backend || isBusy || draft.trim() === ""}>
              Send
            </button>
          </form>
        </div>
      ) : null}
      <button
        type="button"
        class="launcher"
        ref={launcher}
        aria-label={isOpen ? "Close chat" : `Open chat: ${theme.title}`}
        aria-expanded={isOpen}
        onClick={() => (isOpen ? close() : props.onOpenChange(true))}
      >
        {isOpen ? (
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z" />
          </svg>
        ) : (
          CHAT_ICON
        )}
      </button>
    </div>
  );
}
