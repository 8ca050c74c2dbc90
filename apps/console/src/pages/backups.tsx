import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Backup, Restore } from "@vdb/schemas/backups";
import type { Tenant } from "@vdb/schemas/tenants";
import { useState } from "react";
import { useOutletContext } from "react-router";
import { ConfirmDialog } from "../components/confirm-dialog";
import { EmptyState, ErrorMessage, QueryView } from "../components/feedback";
import { FormError } from "../components/field";
import { Pager, useCursorPages } from "../components/pager";
import { ProgressBar } from "../components/progress-bar";
import { StatusBadge } from "../components/status-badge";
import { TableHead } from "../components/table-head";
import { TableScroll } from "../components/table-scroll";
import { errorMessage } from "../lib/errors";
import { formatBytes, formatDateTime, formatNumber } from "../lib/format";
import { canWrite, useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { useSubscription } from "../lib/use-subscription";

const listKey = (tenantId: string) => ["backups.list", tenantId];

/** `done of total records`, or a word while nothing is counted yet. */
function progressLabel(progress: { done: number; total: number } | null, verb: string): string {
  if (!progress || progress.total === 0) return `${verb}…`;
  return `${verb}: ${formatNumber(progress.done)} of ${formatNumber(progress.total)} records`;
}

export function BackupsPage() {
  const tenant = useOutletContext<Tenant>();
  const { me } = useSession();
  const canManage = canWrite(me, tenant.id);
  const [restore, setRestore] = useState<Restore | null>(null);
  return (
    <>
      {canManage ? <CreateBackupPanel tenantId={tenant.id} /> : null}
      {restore ? <RestorePanel initial={restore} onDismiss={() => setRestore(null)} /> : null}
      <BackupList tenant={tenant} canManage={canManage} onRestoreStarted={setRestore} />
    </>
  );
}

function CreateBackupPanel({ tenantId }: { tenantId: string }) {
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: () => trpc.backups.create.mutate({ tenantId }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: listKey(tenantId) }),
  });
  return (
    <section className="panel" aria-labelledby="create-backup-title">
      <h2 id="create-backup-title">Back up this tenant</h2>
      <p className="muted">
        Every collection's records (ids, embeddings, documents, metadata) and the documents' chunks, as one
        snapshot. The tenant keeps serving while it runs.
      </p>
      <div className="form-actions">
        <button type="button" disabled={create.isPending} onClick={() => create.mutate()}>
          {create.isPending ? "Starting…" : "Back up now"}
        </button>
      </div>
      <FormError message={create.error ? errorMessage(create.error) : undefined} />
    </section>
  );
}

/** A restore's live progress until it has finished, then its outcome. */
function RestorePanel({ initial, onDismiss }: { initial: Restore; onDismiss: () => void }) {
  const queryClient = useQueryClient();
  const live = useSubscription<Restore>(
    initial.id,
    (handlers) =>
      trpc.backups.onRestoreProgress.subscribe(
        { tenantId: initial.targetTenantId, restoreId: initial.id },
        handlers,
      ),
    (restore) => {
      // The tenant's documents and counts changed: whatever shows them reads them again.
      if (restore.status === "succeeded") void queryClient.invalidateQueries();
    },
  );
  const restore = live.data ?? initial;
  const isActive = restore.status === "queued" || restore.status === "running";
  const isOtherTenant = restore.targetTenantId !== restore.sourceTenantId;
  return (
    <section className="panel" aria-labelledby="restore-title" data-restore-id={restore.id}>
      <div className="panel-header">
        <h2 id="restore-title">
          Restore{" "}
          {isOtherTenant ? (
            <>
              into <code>{restore.targetTenantId}</code>
            </>
          ) : (
            "into this tenant"
          )}
        </h2>
        <StatusBadge status={restore.status} />
      </div>
      {isActive ? (
        <>
          <ProgressBar
            label="Restore progress"
            value={restore.progress.total > 0 ? restore.progress.done / restore.progress.total : null}
          />
          <p className="muted small" aria-live="polite">
            {restore.status === "queued"
              ? "Queued: it starts once the tenant's instance runs."
              : progressLabel(restore.progress, "Restoring")}
          </p>
        </>
      ) : restore.status === "succeeded" ? (
        <p aria-live="polite">Restored {formatNumber(restore.progress.done)} records.</p>
      ) : (
        <p className="field-error" aria-live="polite">
          The restore failed: {restore.lastError ?? "no reason given"}. The tenant's previous data is intact.
        </p>
      )}
      {live.error ? <p className="muted small">Live progress lost: {live.error}</p> : null}
      {isActive ? null : (
        <button type="button" className="secondary small-button" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </section>
  );
}

function BackupList({
  tenant,
  canManage,
  onRestoreStarted,
}: {
  tenant: Tenant;
  canManage: boolean;
  onRestoreStarted: (restore: Restore) => void;
}) {
  const pages = useCursorPages(tenant.id);
  const backups = useQuery({
    queryKey: [...listKey(tenant.id), pages.cursor],
    queryFn: () =>
      trpc.backups.list.query({
        tenantId: tenant.id,
        limit: 20,
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="panel" aria-labelledby="backups-title">
      <h2 id="backups-title">Backups</h2>
      <QueryView query={backups} label="Loading backups…">
        {(page) =>
          page.items.length === 0 ? (
            <EmptyState>No backups yet.</EmptyState>
          ) : (
            <>
              <TableScroll label="Backups table">
                <table>
                  <TableHead
                    columns={[
                      "Taken",
                      "Status",
                      "Size",
                      "Collections",
                      "Records",
                      "Documents",
                      "Chunks",
                      canManage && { hidden: "Actions" },
                    ]}
                  />
                  <tbody>
                    {page.items.map((backup) => (
                      <BackupRow
                        key={backup.id}
                        initial={backup}
                        tenant={tenant}
                        canManage={canManage}
                        onRestoreStarted={onRestoreStarted}
                      />
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <Pager label="Backups" pages={pages} nextCursor={page.nextCursor} />
            </>
          )
        }
      </QueryView>
    </section>
  );
}

function BackupRow({
  initial,
  tenant,
  canManage,
  onRestoreStarted,
}: {
  initial: Backup;
  tenant: Tenant;
  canManage: boolean;
  onRestoreStarted: (restore: Restore) => void;
}) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: listKey(tenant.id) });
  // A running backup follows its progress live; the list refreshes when it settles.
  const live = useSubscription<Backup>(
    initial.status === "running" ? initial.id : null,
    (handlers) => trpc.backups.onProgress.subscribe({ tenantId: tenant.id, backupId: initial.id }, handlers),
    (backup) => {
      if (backup.status !== "running") void refresh();
    },
  );
  const backup = live.data && live.data.id === initial.id ? live.data : initial;
  const [action, setAction] = useState<"restore" | "delete" | null>(null);
  // Each opening of the restore dialog starts from its defaults (this tenant).
  const [restoreOpenings, setRestoreOpenings] = useState(0);
  const remove = useMutation({
    mutationFn: () => trpc.backups.delete.mutate({ tenantId: tenant.id, backupId: backup.id }),
    onSuccess: async () => {
      setAction(null);
      await refresh();
    },
  });
  const taken = formatDateTime(backup.createdAt);
  return (
    <tr data-backup-id={backup.id}>
      <td className="nowrap">
        {taken}
        {backup.source === "backup" ? null : (
          <span className="muted small"> ({backup.source === "import" ? "imported" : "scheduled"})</span>
        )}
      </td>
      <td>
        <StatusBadge status={backup.status} />
        {backup.status === "running" ? (
          <>
            <ProgressBar
              label={`Backup progress of ${taken}`}
              value={
                backup.progress && backup.progress.total > 0
                  ? backup.progress.done / backup.progress.total
                  : null
              }
            />
            <span className="muted small">{progressLabel(backup.progress, "Reading")}</span>
          </>
        ) : null}
        {backup.status === "failed" && backup.failureReason ? (
          <span className="muted small"> {backup.failureReason}</span>
        ) : null}
      </td>
      <td className="nowrap">{formatBytes(backup.sizeBytes)}</td>
      <td>{formatNumber(backup.counts.collections)}</td>
      <td>{formatNumber(backup.counts.records)}</td>
      <td>{formatNumber(backup.counts.documents)}</td>
      <td>{formatNumber(backup.counts.chunks)}</td>
      {canManage ? (
        <td className="row-actions">
          {backup.status === "completed" ? (
            <button
              type="button"
              className="secondary small-button"
              onClick={() => {
                setRestoreOpenings((count) => count + 1);
                setAction("restore");
              }}
              aria-label={`Restore backup of ${taken}`}
            >
              Restore…
            </button>
          ) : null}
          {backup.status !== "running" ? (
            <button
              type="button"
              className="danger-ghost small-button"
              onClick={() => setAction("delete")}
              aria-label={`Delete backup of ${taken}`}
            >
              Delete
            </button>
          ) : null}
          <RestoreDialog
            key={restoreOpenings}
            open={action === "restore"}
            backup={backup}
            tenant={tenant}
            onCancel={() => setAction(null)}
            onStarted={(restore) => {
              setAction(null);
              onRestoreStarted(restore);
            }}
          />
          <ConfirmDialog
            open={action === "delete"}
            title={`Delete the backup of ${taken}?`}
            confirmLabel="Delete backup"
            isBusy={remove.isPending}
            onConfirm={() => remove.mutate()}
            onCancel={() => setAction(null)}
          >
            <p>Its snapshot is removed from storage. This cannot be undone.</p>
            {remove.error ? <ErrorMessage error={remove.error} /> : null}
          </ConfirmDialog>
        </td>
      ) : null}
    </tr>
  );
}

/** Where a backup goes: back into its own tenant, replacing its data, or into another tenant. */
function RestoreDialog({
  open,
  backup,
  tenant,
  onCancel,
  onStarted,
}: {
  open: boolean;
  backup: Backup;
  tenant: Tenant;
  onCancel: () => void;
  onStarted: (restore: Restore) => void;
}) {
  const [target, setTarget] = useState<"same" | "other">("same");
  const [otherTenantId, setOtherTenantId] = useState("");
  const [choiceError, setChoiceError] = useState<string | undefined>(undefined);
  const others = useQuery({
    queryKey: ["tenants.list", "restore-targets"],
    queryFn: () => trpc.tenants.list.query({ limit: 100 }),
    enabled: open && target === "other",
  });
  const start = useMutation({
    mutationFn: () =>
      trpc.backups.restore.mutate({
        tenantId: tenant.id,
        backupId: backup.id,
        ...(target === "other" ? { targetTenantId: otherTenantId } : {}),
      }),
    onSuccess: onStarted,
  });
  const choices = (others.data?.items ?? []).filter((candidate) => candidate.id !== tenant.id);
  return (
    <ConfirmDialog
      open={open}
      title={`Restore the backup of ${formatDateTime(backup.createdAt)}`}
      confirmLabel={target === "same" ? "Replace this tenant's data" : "Restore into that tenant"}
      isBusy={start.isPending}
      onConfirm={() => {
        if (target === "other" && otherTenantId === "")
          return setChoiceError("Choose the tenant to restore into");
        setChoiceError(undefined);
        start.mutate();
      }}
      onCancel={onCancel}
    >
      <fieldset className="field">
        <legend>Restore into</legend>
        <label className="checkbox">
          <input
            type="radio"
            name={`target-${backup.id}`}
            checked={target === "same"}
            onChange={() => setTarget("same")}
          />
          <span>
            <strong>{tenant.name}</strong> (this tenant):{" "}
            <span className="muted small">its collections and documents are replaced by the backup's</span>
          </span>
        </label>
        <label className="checkbox">
          <input
            type="radio"
            name={`target-${backup.id}`}
            checked={target === "other"}
            onChange={() => setTarget("other")}
          />
          <span>
            Another tenant:{" "}
            <span className="muted small">
              a new tenant made for it on the Tenants page, or any you administer; its data is replaced
            </span>
          </span>
        </label>
      </fieldset>
      {target === "other" ? (
        <div className="field">
          <label htmlFor={`target-tenant-${backup.id}`}>Target tenant</label>
          <select
            id={`target-tenant-${backup.id}`}
            value={otherTenantId}
            onChange={(e) => {
              setOtherTenantId(e.target.value);
              setChoiceError(undefined);
            }}
          >
            <option value="">{others.isLoading ? "Loading tenants…" : "Choose a tenant"}</option>
            {choices.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.name} ({candidate.slug})
              </option>
            ))}
          </select>
          {choiceError ? <p className="field-error">{choiceError}</p> : null}
        </div>
      ) : null}
      <p className="muted small">
        {formatNumber(backup.counts.records)} records, {formatNumber(backup.counts.documents)} documents.
        Until it finishes the tenant keeps its current data; a failed restore leaves it intact.
      </p>
      {start.error ? <ErrorMessage error={start.error} /> : null}
    </ConfirmDialog>
  );
}
