import {
  keepPreviousData,
  type QueryClient,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import {
  CreateUploadInput,
  type Document,
  type DocumentStatus,
  DocumentStatus as DocumentStatusSchema,
} from "@vdb/schemas/documents";
import { CollectionName, DEFAULT_COLLECTION } from "@vdb/schemas/instances";
import { PLANS } from "@vdb/schemas/plans";
import type { Tenant } from "@vdb/schemas/tenants";
import { type DragEvent, useCallback, useId, useRef, useState } from "react";
import { useOutletContext } from "react-router";
import { ChunkViewer } from "../components/chunk-viewer";
import { ConfirmDialog } from "../components/confirm-dialog";
import { EmptyState, ErrorMessage, QueryView } from "../components/feedback";
import { Field } from "../components/field";
import { Pager, useCursorPages } from "../components/pager";
import { ProgressBar } from "../components/progress-bar";
import { StatusBadge } from "../components/status-badge";
import { TableHead } from "../components/table-head";
import { TableScroll } from "../components/table-scroll";
import { errorMessage } from "../lib/errors";
import { formatBytes, formatDateTime, formatDuration, formatIngestion, formatNumber } from "../lib/format";
import { canWrite, useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { putFile, uploadUrlFor } from "../lib/upload";
import { useSubscription } from "../lib/use-subscription";
import { validate } from "../lib/validate";

const isLive = (status: DocumentStatus) =>
  status === "queued" || status === "processing" || status === "uploading";

export function DocumentsPage() {
  const tenant = useOutletContext<Tenant>();
  const { me } = useSession();
  const [viewing, setViewing] = useState<string | null>(null);
  return (
    <>
      {canWrite(me, tenant.id) ? <UploadPanel tenant={tenant} /> : null}
      <DocumentList tenantId={tenant.id} canWrite={canWrite(me, tenant.id)} onView={setViewing} />
      <ChunkViewer tenantId={tenant.id} documentId={viewing} onClose={() => setViewing(null)} />
    </>
  );
}

type UploadStage = "preparing" | "uploading" | "ingesting" | "ready" | "failed";

interface UploadItem {
  key: string;
  file: File;
  stage: UploadStage;
  uploaded: number;
  documentId: string | null;
  progress: { done: number; total: number } | null;
  error: string | null;
}

function UploadPanel({ tenant }: { tenant: Tenant }) {
  const queryClient = useQueryClient();
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const [collection, setCollection] = useState(DEFAULT_COLLECTION);
  const [collectionError, setCollectionError] = useState<string | undefined>(undefined);
  const [items, setItems] = useState<UploadItem[]>([]);
  const [isDragging, setIsDragging] = useState(false);

  const update = useCallback((key: string, patch: Partial<UploadItem>) => {
    setItems((current) => current.map((item) => (item.key === key ? { ...item, ...patch } : item)));
  }, []);
  const refreshList = useCallback(() => refreshDocuments(queryClient, tenant.id), [queryClient, tenant.id]);

  const uploadOne = async (item: UploadItem, target: string) => {
    const input = {
      tenantId: tenant.id,
      filename: item.file.name,
      sizeBytes: item.file.size,
      collection: target,
      ...(item.file.type ? { contentType: item.file.type } : {}),
    };
    const checked = validate(CreateUploadInput, input);
    if (!checked.ok) {
      const message = Object.entries(checked.errors)
        .map(([field, text]) => (field === "sizeBytes" ? "the file is empty" : `${field} ${text}`))
        .join("; ");
      return update(item.key, { stage: "failed", error: message });
    }
    try {
      const { document, upload } = await trpc.documents.createUpload.mutate(checked.data);
      update(item.key, { stage: "uploading", documentId: document.id });
      void refreshList();
      await putFile({
        url: uploadUrlFor(upload.url, window.location.origin),
        file: item.file,
        headers: upload.headers,
        onProgress: (fraction) => update(item.key, { uploaded: fraction }),
      });
      await trpc.documents.ingest.mutate({ tenantId: tenant.id, documentId: document.id });
      update(item.key, { stage: "ingesting", uploaded: 1 });
      void refreshList();
    } catch (error) {
      update(item.key, { stage: "failed", error: errorMessage(error) });
      void refreshList();
    }
  };

  const addFiles = (files: FileList | File[]) => {
    const list = Array.from(files);
    if (list.length === 0) return;
    const target = collection.trim();
    const checked = validate(CollectionName, target);
    if (!checked.ok) return setCollectionError(checked.errors.form);
    setCollectionError(undefined);
    const added = list.map<UploadItem>((file) => ({
      key: `${file.name}-${file.size}-${Math.random().toString(36).slice(2)}`,
      file,
      stage: "preparing",
      uploaded: 0,
      documentId: null,
      progress: null,
      error: null,
    }));
    setItems((current) => [...added, ...current]);
    for (const item of added) void uploadOne(item, target);
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setIsDragging(false);
    addFiles(event.dataTransfer.files);
  };

  const maxUpload = PLANS[tenant.plan].maxUploadBytes;
  return (
    <section className="panel" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload documents</h2>
      <div className="upload-grid">
        <Field label="Collection" error={collectionError} hint="Where the chunks are stored and searched.">
          {(props) => (
            <input
              {...props}
              name="collection"
              value={collection}
              onChange={(e) => setCollection(e.target.value)}
            />
          )}
        </Field>
        {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is a mouse shortcut; keyboards use the file button inside */}
        <div
          className={`dropzone${isDragging ? " dragging" : ""}`}
          onDragOver={(event) => {
            event.preventDefault();
            setIsDragging(true);
          }}
          onDragLeave={() => setIsDragging(false)}
          onDrop={onDrop}
          data-testid="dropzone"
        >
          <svg viewBox="0 0 24 24" width="32" height="32" aria-hidden="true">
            <path
              d="M12 16V4m0 0l-4 4m4-4l4 4M4 16v3a1 1 0 001 1h14a1 1 0 001-1v-3"
              stroke="currentColor"
              strokeWidth="1.8"
              fill="none"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          <p>
            <strong>Drop files here</strong> or{" "}
            <button type="button" className="link-button" onClick={() => inputRef.current?.click()}>
              choose files
            </button>
          </p>
          <p className="muted small">
            PDF, DOCX, HTML, Markdown, text or JSON · up to {formatBytes(maxUpload)} each
          </p>
          <label htmlFor={inputId} className="visually-hidden">
            Files to upload
          </label>
          <input
            id={inputId}
            ref={inputRef}
            type="file"
            multiple
            className="visually-hidden"
            data-testid="file-input"
            onChange={(event) => {
              if (event.target.files) addFiles(event.target.files);
              event.target.value = "";
            }}
          />
        </div>
      </div>
      {items.length > 0 ? (
        <ul className="upload-list" aria-label="Uploads">
          {items.map((item) => (
            <UploadRow
              key={item.key}
              item={item}
              tenantId={tenant.id}
              onUpdate={(patch) => update(item.key, patch)}
              onSettled={() => void refreshList()}
            />
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function UploadRow({
  item,
  tenantId,
  onUpdate,
  onSettled,
}: {
  item: UploadItem;
  tenantId: string;
  onUpdate: (patch: Partial<UploadItem>) => void;
  onSettled: () => void;
}) {
  useSubscription<Document>(
    item.stage === "ingesting" && item.documentId ? item.documentId : null,
    (handlers) =>
      trpc.documents.onProgress.subscribe({ tenantId, documentId: item.documentId ?? "" }, handlers),
    (document) => {
      if (document.status === "ready") {
        onUpdate({ stage: "ready", progress: document.progress });
        onSettled();
      } else if (document.status === "failed") {
        onUpdate({ stage: "failed", error: document.failureReason ?? "Ingestion failed" });
        onSettled();
      } else onUpdate({ progress: document.progress });
    },
  );
  const ingestFraction =
    item.progress && item.progress.total > 0 ? item.progress.done / item.progress.total : null;
  const label =
    item.stage === "preparing"
      ? "Preparing…"
      : item.stage === "uploading"
        ? `Uploading ${Math.round(item.uploaded * 100)}%`
        : item.stage === "ingesting"
          ? formatIngestion(item.progress)
          : item.stage === "ready"
            ? "Ready"
            : "Failed";
  return (
    <li className="upload-item" data-filename={item.file.name} data-stage={item.stage}>
      <div className="upload-item-head">
        <span className="filename">{item.file.name}</span>
        <span className="muted small">{formatBytes(item.file.size)}</span>
        <StatusBadge status={item.stage === "ingesting" ? "processing" : item.stage} label={label} />
      </div>
      <div className="upload-bars">
        <span>Upload</span>
        <ProgressBar
          label={`Upload of ${item.file.name}`}
          value={item.stage === "preparing" ? 0 : item.uploaded}
          tone={
            item.stage === "failed" && item.uploaded < 1
              ? "danger"
              : item.uploaded >= 1
                ? "success"
                : "primary"
          }
        />
        <span>{Math.round((item.stage === "preparing" ? 0 : item.uploaded) * 100)}%</span>
        {item.stage === "ingesting" ||
        item.stage === "ready" ||
        (item.stage === "failed" && item.uploaded >= 1) ? (
          <>
            <span>Ingestion</span>
            <ProgressBar
              label={`Ingestion of ${item.file.name}`}
              value={item.stage === "ready" ? 1 : item.stage === "failed" ? 1 : ingestFraction}
              tone={item.stage === "ready" ? "success" : item.stage === "failed" ? "danger" : "primary"}
            />
            <span>
              {item.stage === "ready"
                ? "done"
                : item.progress
                  ? `${item.progress.done}/${item.progress.total}`
                  : item.stage === "failed"
                    ? "failed"
                    : "queued"}
            </span>
          </>
        ) : null}
      </div>
      {item.error ? (
        <p className="field-error" role="alert">
          {item.error}
        </p>
      ) : null}
    </li>
  );
}

/**
 * After a document is added, settles or goes: the list, and the queue line at once rather than at
 * its next 5 s refresh.
 */
function refreshDocuments(queryClient: QueryClient, tenantId: string): Promise<void> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: ["documents.list", tenantId] }),
    queryClient.invalidateQueries({ queryKey: ["documents.ingestionStatus", tenantId] }),
  ]).then(() => {});
}

/**
 * The tenant's ingestion queue: how deep, the expected wait, and why it waits (refreshed every
 * 5 s, and whenever a document of the page is added or settles).
 */
function IngestionQueue({ tenantId }: { tenantId: string }) {
  const queue = useQuery({
    queryKey: ["documents.ingestionStatus", tenantId],
    queryFn: () => trpc.documents.ingestionStatus.query({ tenantId }),
    refetchInterval: 5_000,
  });
  if (!queue.data) return null;
  const { depth, maxDepth, expectedWaitSeconds, pausedReason } = queue.data;
  return (
    <p className="muted small" role="status" aria-label="Ingestion queue">
      {depth === 0
        ? "Ingestion queue empty."
        : `Ingestion queue: ${formatNumber(depth)} of at most ${formatNumber(maxDepth)} documents · expected wait ${formatDuration(expectedWaitSeconds)}`}
      {pausedReason ? ` · paused: ${pausedReason}` : ""}
      {depth >= maxDepth ? " · full: new documents are refused until it drains" : ""}
    </p>
  );
}

function DocumentList({
  tenantId,
  canWrite: isWriter,
  onView,
}: {
  tenantId: string;
  canWrite: boolean;
  onView: (documentId: string) => void;
}) {
  const [status, setStatus] = useState<DocumentStatus | "">("");
  const pages = useCursorPages(status);
  const documents = useQuery({
    queryKey: ["documents.list", tenantId, status, pages.cursor],
    queryFn: () =>
      trpc.documents.list.query({
        tenantId,
        limit: 20,
        ...(status ? { status } : {}),
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="panel" aria-labelledby="documents-title">
      <div className="panel-header">
        <h2 id="documents-title">Documents</h2>
        <div className="field inline-field">
          <label htmlFor="document-status">Status</label>
          <select
            id="document-status"
            value={status}
            onChange={(e) =>
              setStatus(e.target.value === "" ? "" : DocumentStatusSchema.parse(e.target.value))
            }
          >
            <option value="">Any</option>
            {DocumentStatusSchema.options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </div>
      </div>
      <IngestionQueue tenantId={tenantId} />
      <QueryView query={documents} label="Loading documents…">
        {(page) =>
          page.items.length === 0 ? (
            <EmptyState>
              {status ? `No ${status} documents.` : "No documents yet. Upload some above."}
            </EmptyState>
          ) : (
            <>
              <TableScroll label="Documents table">
                <table>
                  <TableHead
                    columns={[
                      "Title",
                      "Collection",
                      "Status",
                      "Chunks",
                      "Size",
                      "Updated",
                      { hidden: "Actions" },
                    ]}
                  />
                  <tbody>
                    {page.items.map((document) => (
                      <DocumentRow
                        key={document.id}
                        document={document}
                        canWrite={isWriter}
                        onView={onView}
                      />
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <Pager label="Documents" pages={pages} nextCursor={page.nextCursor} />
            </>
          )
        }
      </QueryView>
    </section>
  );
}

function DocumentRow({
  document: initial,
  canWrite: isWriter,
  onView,
}: {
  document: Document;
  canWrite: boolean;
  onView: (documentId: string) => void;
}) {
  const queryClient = useQueryClient();
  const [isConfirming, setIsConfirming] = useState(false);
  const refresh = () => refreshDocuments(queryClient, initial.tenantId);
  // Documents being ingested follow their progress live; the list refreshes when they settle.
  const live = useSubscription<Document>(
    initial.status === "queued" || initial.status === "processing"
      ? `${initial.id}:${initial.updatedAt}`
      : null,
    (handlers) =>
      trpc.documents.onProgress.subscribe({ tenantId: initial.tenantId, documentId: initial.id }, handlers),
    (document) => {
      if (document.status === "ready" || document.status === "failed") void refresh();
    },
  );
  const document = live.data && live.data.id === initial.id ? live.data : initial;
  const ingest = useMutation({
    mutationFn: () => trpc.documents.ingest.mutate({ tenantId: document.tenantId, documentId: document.id }),
    onSuccess: () => void refresh(),
  });
  const remove = useMutation({
    mutationFn: () => trpc.documents.delete.mutate({ tenantId: document.tenantId, documentId: document.id }),
    onSuccess: () => {
      setIsConfirming(false);
      void refresh();
    },
  });
  const progress = document.progress;
  return (
    <tr data-document-id={document.id} data-status={document.status}>
      <td>
        <div className="doc-title">{document.title}</div>
        {document.filename && document.filename !== document.title ? (
          <div className="muted small">{document.filename}</div>
        ) : null}
        {document.failureReason ? <div className="field-error small">{document.failureReason}</div> : null}
      </td>
      <td>
        <code>{document.collection}</code>
      </td>
      <td>
        <StatusBadge status={document.status} />
        {isLive(document.status) && progress && progress.total > 0 ? (
          <div className="mini-progress">
            <ProgressBar value={progress.done / progress.total} label={`Ingestion of ${document.title}`} />
            <span className="muted small">
              {progress.done}/{progress.total}
            </span>
          </div>
        ) : null}
      </td>
      <td>{document.chunkCount}</td>
      <td className="nowrap">{formatBytes(document.sizeBytes)}</td>
      <td className="nowrap">{formatDateTime(document.updatedAt)}</td>
      <td className="row-actions">
        <button
          type="button"
          className="secondary small-button"
          onClick={() => onView(document.id)}
          aria-label={`View chunks of ${document.title}`}
        >
          Chunks
        </button>
        {isWriter && (document.status === "ready" || document.status === "failed") ? (
          <button
            type="button"
            className="secondary small-button"
            onClick={() => ingest.mutate()}
            disabled={ingest.isPending}
            aria-label={`Re-ingest ${document.title}`}
          >
            Re-ingest
          </button>
        ) : null}
        {isWriter ? (
          <button
            type="button"
            className="danger-ghost small-button"
            onClick={() => setIsConfirming(true)}
            aria-label={`Delete ${document.title}`}
          >
            Delete
          </button>
        ) : null}
        {ingest.error ? <ErrorMessage error={ingest.error} /> : null}
        <ConfirmDialog
          open={isConfirming}
          title={`Delete “${document.title}”?`}
          confirmLabel="Delete document"
          isBusy={remove.isPending}
          onConfirm={() => remove.mutate()}
          onCancel={() => setIsConfirming(false)}
        >
          <p>The document, its file and its chunks in the instance are deleted.</p>
          {remove.error ? <ErrorMessage error={remove.error} /> : null}
        </ConfirmDialog>
      </td>
    </tr>
  );
}
