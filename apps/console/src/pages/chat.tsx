import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  AskQuestionInput,
  type ChatSessionWithMessages,
  type ChatStreamEvent,
  type Citation,
} from "@vdb/schemas/chat";
import { splitCitations } from "@vdb/schemas/citations";
import { DEFAULT_COLLECTION } from "@vdb/schemas/instances";
import type { Tenant } from "@vdb/schemas/tenants";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { useOutletContext } from "react-router";
import { ChunkViewer } from "../components/chunk-viewer";
import { CollectionField } from "../components/collection-field";
import { CopyButton } from "../components/copy-button";
import { EmptyState, ErrorMessage, QueryView } from "../components/feedback";
import { Field, FormError } from "../components/field";
import { Pager, useCursorPages } from "../components/pager";
import { errorMessage } from "../lib/errors";
import { formatRelative } from "../lib/format";
import { curlCommand } from "../lib/snippets";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";

interface Turn {
  id: string;
  question: string;
  answer: string;
  citations: Citation[];
  mode: "llm" | "extractive" | null;
  isStreaming: boolean;
  error: string | null;
}

/** A stored conversation as the playground's turns: each question with the answer that followed it. */
function turnsOf(session: ChatSessionWithMessages): Turn[] {
  const turns: Turn[] = [];
  for (const message of session.messages) {
    if (message.role === "user") {
      turns.push({
        id: message.id,
        question: message.content,
        answer: "",
        citations: [],
        mode: null,
        isStreaming: false,
        error: null,
      });
    } else {
      const last = turns.at(-1);
      if (last)
        Object.assign(last, { answer: message.content, citations: message.citations, mode: message.mode });
    }
  }
  return turns;
}

/** The question being typed, else the last one asked, as `POST /api/v1/chat` with an API key. */
function chatCurl(message: string, lastQuestion: string | undefined, collection: string): string | null {
  const question = message.trim() || lastQuestion;
  if (!question) return null;
  return curlCommand(window.location.origin, "/chat", { message: question, collection: collection.trim() });
}

export function ChatPage() {
  const tenant = useOutletContext<Tenant>();
  const [message, setMessage] = useState("");
  const [collection, setCollection] = useState(DEFAULT_COLLECTION);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [turns, setTurns] = useState<Turn[]>([]);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [opened, setOpened] = useState<Citation | null>(null);
  const subscription = useRef<{ unsubscribe(): void } | null>(null);
  useEffect(() => () => subscription.current?.unsubscribe(), []);

  const isStreaming = turns.some((turn) => turn.isStreaming);
  const queryClient = useQueryClient();
  const reopen = useMutation({
    mutationFn: (id: string) => trpc.chat.sessions.get.query({ tenantId: tenant.id, sessionId: id }),
    onSuccess: (session) => {
      subscription.current?.unsubscribe();
      setTurns(turnsOf(session));
      setSessionId(session.id);
      setOpened(null);
    },
  });
  const curl = chatCurl(message, turns.at(-1)?.question, collection);
  const patchTurn = (id: string, patch: (turn: Turn) => Partial<Turn>) =>
    setTurns((current) => current.map((turn) => (turn.id === id ? { ...turn, ...patch(turn) } : turn)));

  const ask = (event: FormEvent) => {
    event.preventDefault();
    const result = validate(AskQuestionInput, {
      tenantId: tenant.id,
      message,
      collection: collection.trim(),
      ...(sessionId ? { sessionId } : {}),
    });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    const id = `turn-${Date.now()}`;
    setTurns((current) => [
      ...current,
      {
        id,
        question: result.data.message,
        answer: "",
        citations: [],
        mode: null,
        isStreaming: true,
        error: null,
      },
    ]);
    setMessage("");
    subscription.current?.unsubscribe();
    subscription.current = trpc.chat.stream.subscribe(result.data, {
      onData: (data: ChatStreamEvent) => {
        if (data.type === "token") patchTurn(id, (turn) => ({ answer: turn.answer + data.text }));
        else {
          setSessionId(data.sessionId);
          void queryClient.invalidateQueries({ queryKey: ["chat.sessions.list", tenant.id] });
          patchTurn(id, () => ({
            answer: data.answer,
            citations: data.citations,
            mode: data.mode,
            isStreaming: false,
          }));
          subscription.current?.unsubscribe();
        }
      },
      onError: (error) => {
        patchTurn(id, () => ({ isStreaming: false, error: errorMessage(error) }));
        subscription.current?.unsubscribe();
      },
      // On a "try again" refusal (SERVICE_UNAVAILABLE, INTERNAL_SERVER_ERROR…) tRPC's link does not
      // call onError: it reconnects every few seconds, re-asking the question each time. An answer
      // cannot resume, so the turn ends with the server's reason and the user asks again.
      onConnectionStateChange: (state) => {
        if (state.state !== "connecting" || !state.error) return;
        patchTurn(id, () => ({ isStreaming: false, error: errorMessage(state.error) }));
        subscription.current?.unsubscribe();
      },
    });
  };

  return (
    <div className="stack">
      <section className="panel chat-panel" aria-labelledby="chat-title">
        <div className="panel-header">
          <h2 id="chat-title">Chat playground</h2>
          {turns.length > 0 ? (
            <button
              type="button"
              className="secondary small-button"
              disabled={isStreaming}
              onClick={() => {
                setTurns([]);
                setSessionId(null);
              }}
            >
              New conversation
            </button>
          ) : null}
        </div>
        <div className="conversation" aria-live="polite" aria-busy={isStreaming}>
          {turns.length === 0 ? (
            <p className="muted">
              Ask a question: the answer is written from this tenant's documents, with numbered citations you
              can open.
            </p>
          ) : null}
          {turns.map((turn) => (
            <article key={turn.id} className="turn" data-streaming={turn.isStreaming}>
              <p className="question">
                <span className="visually-hidden">You asked: </span>
                {turn.question}
              </p>
              <div className="answer">
                <AnswerText
                  text={turn.answer}
                  citations={turn.citations}
                  onOpen={(citation) => setOpened(citation)}
                />
                {turn.isStreaming ? <span className="cursor" aria-hidden="true" /> : null}
                {turn.error ? <p className="field-error">{turn.error}</p> : null}
              </div>
              {turn.citations.length > 0 ? (
                <ol className="sources" aria-label="Sources">
                  {turn.citations.map((citation) => (
                    <li key={citation.n}>
                      <button type="button" className="source" onClick={() => setOpened(citation)}>
                        <span className="source-n">[{citation.n}]</span>
                        <span className="source-title">{citation.title}</span>
                        {citation.page !== null ? (
                          <span className="muted small">p. {citation.page}</span>
                        ) : null}
                        <span className="muted small">score {citation.score.toFixed(2)}</span>
                      </button>
                    </li>
                  ))}
                </ol>
              ) : null}
              {turn.mode ? (
                <p className="muted small">
                  {turn.mode === "llm"
                    ? "Generated by the configured LLM"
                    : "Extractive answer quoted from your documents"}
                </p>
              ) : null}
            </article>
          ))}
        </div>
        <form onSubmit={ask} noValidate className="chat-form">
          <Field label="Your question" error={errors.message}>
            {(props) => (
              <textarea
                {...props}
                name="message"
                rows={2}
                value={message}
                onChange={(e) => setMessage(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === "Enter" && !e.shiftKey) {
                    e.preventDefault();
                    e.currentTarget.form?.requestSubmit();
                  }
                }}
              />
            )}
          </Field>
          <CollectionField
            tenantId={tenant.id}
            value={collection}
            onChange={setCollection}
            error={errors.collection}
          />
          <div className="form-actions">
            <button type="submit" disabled={isStreaming}>
              {isStreaming ? "Answering…" : "Ask"}
            </button>
            {curl ? <CopyButton text={curl} label="Copy as curl" /> : null}
          </div>
          <FormError message={errors.form} />
        </form>
      </section>
      <ChatHistory
        tenantId={tenant.id}
        currentId={sessionId}
        isBusy={isStreaming || reopen.isPending}
        onOpen={(id) => reopen.mutate(id)}
      />
      {reopen.error ? <ErrorMessage title="Could not open the conversation" error={reopen.error} /> : null}
      <ChunkViewer
        tenantId={tenant.id}
        documentId={opened?.documentId ?? null}
        focusChunkId={opened?.chunkId ?? null}
        title={opened?.title ?? ""}
        onClose={() => setOpened(null)}
      />
      {opened && opened.documentId === null ? (
        <p className="muted">This source was stored through the API, not as a document: {opened.snippet}</p>
      ) : null}
    </div>
  );
}

/** The tenant's past conversations (console, API and widget visitors'), most recent first. */
function ChatHistory({
  tenantId,
  currentId,
  isBusy,
  onOpen,
}: {
  tenantId: string;
  currentId: string | null;
  isBusy: boolean;
  onOpen: (sessionId: string) => void;
}) {
  const pages = useCursorPages(tenantId);
  const sessions = useQuery({
    queryKey: ["chat.sessions.list", tenantId, pages.cursor],
    queryFn: () =>
      trpc.chat.sessions.list.query({
        tenantId,
        limit: 10,
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="panel" aria-labelledby="history-title">
      <h2 id="history-title">Past conversations</h2>
      <QueryView query={sessions} label="Loading conversations…">
        {(page) =>
          page.items.length === 0 ? (
            <EmptyState>No conversations yet.</EmptyState>
          ) : (
            <>
              <ul className="history">
                {page.items.map((session) => (
                  <li key={session.id} data-session-id={session.id}>
                    <button
                      type="button"
                      className="link-button"
                      disabled={isBusy}
                      aria-current={session.id === currentId ? "true" : undefined}
                      onClick={() => onOpen(session.id)}
                    >
                      {session.title}
                    </button>{" "}
                    <span className="muted small">
                      {formatRelative(session.updatedAt)}
                      {session.widgetId ? " · widget visitor" : ""}
                    </span>
                  </li>
                ))}
              </ul>
              <Pager label="Conversations" pages={pages} nextCursor={page.nextCursor} />
            </>
          )
        }
      </QueryView>
    </section>
  );
}

function AnswerText({
  text,
  citations,
  onOpen,
}: {
  text: string;
  citations: Citation[];
  onOpen: (citation: Citation) => void;
}) {
  return (
    <p className="answer-text">
      {splitCitations(text).map((part, index) => {
        if (part.kind === "text") return <span key={index}>{part.text}</span>;
        const citation = citations.find((c) => c.n === part.n);
        if (!citation)
          return (
            <sup key={index} className="citation pending">
              [{part.n}]
            </sup>
          );
        return (
          <button
            key={index}
            type="button"
            className="citation"
            onClick={() => onOpen(citation)}
            aria-label={`Open source ${part.n}: ${citation.title}`}
            title={citation.snippet}
          >
            {part.n}
          </button>
        );
      })}
    </p>
  );
}
