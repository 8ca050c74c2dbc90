import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { trpc } from "../lib/trpc";
import { EmptyState, QueryView } from "./feedback";
import { Modal } from "./modal";

/** Chunks read per request: a large document has thousands, read a page at a time as asked. */
const CHUNKS_PER_PAGE = 200;

/**
 * A document's chunks as they were stored, in a modal, a page at a time ("Show more chunks");
 * `focusChunkId` (a citation's chunk) is highlighted and scrolled into view, the pages before it
 * read first.
 */
export function ChunkViewer({
  tenantId,
  documentId,
  focusChunkId,
  title,
  onClose,
}: {
  tenantId: string;
  documentId: string | null;
  focusChunkId?: string | null;
  title?: string;
  onClose: () => void;
}) {
  const pages = useInfiniteQuery({
    queryKey: ["documents.get", tenantId, documentId],
    queryFn: ({ pageParam }) =>
      trpc.documents.get.query({
        tenantId,
        documentId: documentId ?? "",
        limit: CHUNKS_PER_PAGE,
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    enabled: documentId !== null,
  });
  const chunks = pages.data?.pages.flatMap((page) => page.chunks) ?? [];
  const document = pages.data?.pages[0];
  const isFocusShown = chunks.some((chunk) => chunk.id === focusChunkId);
  // A cited chunk past the pages read so far: read on until it is shown.
  useEffect(() => {
    if (!focusChunkId || isFocusShown || !pages.hasNextPage || pages.isFetchingNextPage) return;
    void pages.fetchNextPage();
  }, [focusChunkId, isFocusShown, pages.hasNextPage, pages.isFetchingNextPage, pages.fetchNextPage]);
  const focusRef = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (isFocusShown && focusRef.current) focusRef.current.scrollIntoView({ block: "center" });
  }, [isFocusShown]);
  return (
    <Modal
      open={documentId !== null}
      title={document ? `Chunks of “${document.title}”` : (title ?? "Chunks")}
      onClose={onClose}
      wide
    >
      <QueryView
        query={{ isPending: pages.isPending, error: pages.error, data: document, refetch: pages.refetch }}
        label="Loading chunks…"
      >
        {(doc) =>
          chunks.length === 0 ? (
            <EmptyState>
              This document has no chunks yet{doc.status !== "ready" ? ` (it is ${doc.status})` : ""}.
            </EmptyState>
          ) : (
            <>
              <ol className="chunks" aria-label="Chunks">
                {chunks.map((chunk) => {
                  const isFocus = chunk.id === focusChunkId;
                  return (
                    <li
                      key={chunk.id}
                      className={`chunk${isFocus ? " chunk-focus" : ""}`}
                      ref={isFocus ? focusRef : undefined}
                      data-chunk-id={chunk.id}
                      {...(isFocus ? { "aria-current": "true" as const } : {})}
                    >
                      <div className="chunk-meta">
                        <strong>#{chunk.index + 1}</strong>
                        {chunk.heading ? <span>{chunk.heading}</span> : null}
                        {chunk.page !== null ? <span>page {chunk.page}</span> : null}
                        <span className="muted">{chunk.tokenCount} tokens</span>
                        {isFocus ? <span className="badge badge-info">cited</span> : null}
                      </div>
                      <p className="chunk-text">{chunk.text}</p>
                    </li>
                  );
                })}
              </ol>
              <div className="chunks-more">
                <span className="muted">
                  {chunks.length} of {Math.max(doc.chunkCount, chunks.length)} chunks shown
                </span>
                {pages.hasNextPage ? (
                  <button
                    type="button"
                    className="secondary small-button"
                    disabled={pages.isFetchingNextPage}
                    onClick={() => void pages.fetchNextPage()}
                  >
                    {pages.isFetchingNextPage ? "Loading…" : "Show more chunks"}
                  </button>
                ) : null}
              </div>
            </>
          )
        }
      </QueryView>
    </Modal>
  );
}
