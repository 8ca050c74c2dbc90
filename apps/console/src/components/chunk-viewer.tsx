import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { trpc } from "../lib/trpc";
import { EmptyState, QueryView } from "./feedback";
import { Modal } from "./modal";

/**
 * A document's chunks as they were stored, in a modal; `focusChunkId` (a citation's chunk) is
 * highlighted and scrolled into view.
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
  const document = useQuery({
    queryKey: ["documents.get", tenantId, documentId],
    queryFn: () => trpc.documents.get.query({ tenantId, documentId: documentId ?? "" }),
    enabled: documentId !== null,
  });
  const focusRef = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (document.data && focusRef.current) focusRef.current.scrollIntoView({ block: "center" });
  }, [document.data]);
  return (
    <Modal
      open={documentId !== null}
      title={document.data ? `Chunks of “${document.data.title}”` : (title ?? "Chunks")}
      onClose={onClose}
      wide
    >
      <QueryView query={document} label="Loading chunks…">
        {(doc) =>
          doc.chunks.length === 0 ? (
            <EmptyState>
              This document has no chunks yet{doc.status !== "ready" ? ` (it is ${doc.status})` : ""}.
            </EmptyState>
          ) : (
            <ol className="chunks" aria-label="Chunks">
              {doc.chunks.map((chunk) => {
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
          )
        }
      </QueryView>
    </Modal>
  );
}
