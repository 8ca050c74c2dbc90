import { useMutation, useQuery } from "@tanstack/react-query";
import type { Instance } from "@vdb/schemas/instances";
import { PLANS } from "@vdb/schemas/plans";
import type { Tenant, TierMove } from "@vdb/schemas/tenants";
import { useState } from "react";
import { useOutletContext } from "react-router";
import { ConfirmDialog } from "../components/confirm-dialog";
import { CopyButton } from "../components/copy-button";
import { ErrorMessage, Loading, Notice } from "../components/feedback";
import { ProgressBar } from "../components/progress-bar";
import { StatusBadge } from "../components/status-badge";
import { formatDateTime, formatNumber, formatPercent, formatRelative } from "../lib/format";
import { canWrite, useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { useSubscription } from "../lib/use-subscription";

const TRANSITIONAL = new Set(["pending", "starting", "stopping", "waking"]);

/**
 * Launch is offered unless the instance is already meant to run (a failed one may be relaunched,
 * a sleeping one woken).
 */
function isLaunchable(instance: Instance | null): boolean {
  if (instance === null) return true;
  return (
    instance.desiredState !== "running" ||
    instance.state === "failed" ||
    instance.state === "sleeping" ||
    instance.state === "deleted"
  );
}

export function OverviewPage() {
  const tenant = useOutletContext<Tenant>();
  const { me } = useSession();
  const isWriter = canWrite(me, tenant.id);
  const [hasSeen, setHasSeen] = useState(false);
  const live = useSubscription<Instance | null>(
    tenant.id,
    (handlers) => trpc.instances.onStatus.subscribe({ tenantId: tenant.id }, handlers),
    () => setHasSeen(true),
  );
  const instance = live.data ?? null;
  const move =
    useSubscription<TierMove | null>(`${tenant.id}:move`, (handlers) =>
      trpc.tenants.onLatestMove.subscribe({ tenantId: tenant.id }, handlers),
    ).data ?? null;
  const [isConfirmingDelete, setIsConfirmingDelete] = useState(false);

  const launch = useMutation({ mutationFn: () => trpc.instances.launch.mutate({ tenantId: tenant.id }) });
  const stop = useMutation({ mutationFn: () => trpc.instances.stop.mutate({ tenantId: tenant.id }) });
  const remove = useMutation({
    mutationFn: () => trpc.instances.delete.mutate({ tenantId: tenant.id }),
    onSuccess: () => setIsConfirmingDelete(false),
  });
  const actionError = launch.error ?? stop.error ?? remove.error;

  const isRunning = instance?.state === "running";
  const canLaunch = isLaunchable(instance);
  // A pool serves other tenants too: it is not stopped or deleted for one of them.
  const isOwnInstance = instance?.tier !== "shared";
  const canStop =
    isOwnInstance && instance !== null && instance.desiredState === "running" && instance.state !== "deleted";
  const canDelete = isOwnInstance && instance !== null && instance.desiredState !== "deleted";

  return (
    <div className="grid-2">
      <section className="panel" aria-labelledby="instance-title">
        <div className="panel-header">
          <h2 id="instance-title">Instance</h2>
          <span className="live-indicator" title="Updates arrive live from the control plane">
            <span className={`dot${live.error ? " dot-off" : ""}`} aria-hidden="true" />
            {live.error ? "Reconnecting…" : "Live"}
          </span>
        </div>
        {live.error ? <ErrorMessage title="Live status interrupted" error={live.error} /> : null}
        {!hasSeen && !live.error ? (
          <Loading label="Connecting to live status…" />
        ) : (
          <>
            <div className="instance-state" aria-live="polite">
              <span className="muted">State</span>
              <StatusBadge status={instance?.state ?? "none"} label={instance?.state ?? "not launched"} />
              {instance && TRANSITIONAL.has(instance.state) ? (
                <span className="spinner" aria-hidden="true" />
              ) : null}
              {instance?.state === "sleeping" ? (
                <span className="muted small">idle, data kept: the next request wakes it</span>
              ) : instance && instance.desiredState !== instance.state ? (
                <span className="muted small">→ {instance.desiredState}</span>
              ) : null}
            </div>
            {instance ? (
              <dl className="details">
                <dt>Tier</dt>
                <dd>
                  {instance.tier === "shared" ? (
                    <>
                      shared: pool <code>{instance.poolId}</code>
                    </>
                  ) : (
                    "dedicated"
                  )}
                </dd>
                <dt>URL</dt>
                <dd>
                  {instance.url ? (
                    <span className="with-copy">
                      <code>{instance.url}</code>
                      <CopyButton text={instance.url} label="Copy URL" />
                    </span>
                  ) : (
                    <span className="muted">none until running</span>
                  )}
                </dd>
                <dt>Model</dt>
                <dd>
                  <code>{instance.model}</code>
                </dd>
                <dt>Dimension</dt>
                <dd>{instance.dimension}</dd>
                <dt>Runtime</dt>
                <dd>{instance.runtime}</dd>
                <dt>Restarts</dt>
                <dd>{instance.restartCount}</dd>
                <dt>Since</dt>
                <dd title={formatDateTime(instance.stateChangedAt)}>
                  {formatRelative(instance.stateChangedAt)}
                </dd>
              </dl>
            ) : (
              <p className="muted">
                This tenant has no instance yet. Launch one to store and search documents.
              </p>
            )}
            {move ? <TierMoveNotice move={move} /> : null}
            {instance?.lastError ? (
              <div className="alert alert-error" role="alert">
                <strong>Last error:</strong> {instance.lastError}
              </div>
            ) : null}
            {isWriter ? (
              <div className="actions">
                <button
                  type="button"
                  onClick={() => launch.mutate()}
                  disabled={!canLaunch || launch.isPending}
                >
                  {launch.isPending ? "Launching…" : instance?.state === "sleeping" ? "Wake" : "Launch"}
                </button>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => stop.mutate()}
                  disabled={!canStop || stop.isPending}
                >
                  Stop
                </button>
                <button
                  type="button"
                  className="danger-ghost"
                  onClick={() => setIsConfirmingDelete(true)}
                  disabled={!canDelete}
                >
                  Delete instance
                </button>
              </div>
            ) : (
              <Notice>You have read-only access to this tenant.</Notice>
            )}
            {actionError ? <ErrorMessage error={actionError} /> : null}
          </>
        )}
        <ConfirmDialog
          open={isConfirmingDelete}
          title="Delete this instance?"
          confirmLabel="Delete instance"
          isBusy={remove.isPending}
          onConfirm={() => remove.mutate()}
          onCancel={() => setIsConfirmingDelete(false)}
        >
          <p>
            The instance and every vector stored in it are deleted. Documents stay and can be re-ingested.
          </p>
        </ConfirmDialog>
      </section>
      <StoragePanel tenant={tenant} isRunning={isRunning} />
    </div>
  );
}

function StoragePanel({ tenant, isRunning }: { tenant: Tenant; isRunning: boolean }) {
  const plan = PLANS[tenant.plan];
  const collections = useQuery({
    queryKey: ["dataPlane.collections", tenant.id],
    queryFn: () => trpc.dataPlane.collections.query({ tenantId: tenant.id }),
    enabled: isRunning,
    refetchInterval: 10_000,
  });
  const stored = collections.data?.reduce((sum, collection) => sum + collection.count, 0) ?? 0;
  return (
    <section className="panel" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage and plan</h2>
      {!isRunning ? (
        <p className="muted">Counts appear while the instance is running.</p>
      ) : collections.error ? (
        <ErrorMessage error={collections.error} onRetry={() => void collections.refetch()} />
      ) : collections.isPending ? (
        <Loading label="Counting records…" />
      ) : (
        <>
          <div className="meter">
            <div className="meter-label">
              <span>Records stored</span>
              <span>
                <strong data-testid="record-count">{formatNumber(stored)}</strong> of{" "}
                {formatNumber(plan.maxRecords)} ({formatPercent(stored, plan.maxRecords)})
              </span>
            </div>
            <ProgressBar
              value={stored / plan.maxRecords}
              label="Records stored against the plan's quota"
              tone={stored / plan.maxRecords > 0.9 ? "danger" : "primary"}
            />
          </div>
          <div className="meter">
            <div className="meter-label">
              <span>Collections</span>
              <span>
                {collections.data.length} of {plan.maxCollections}
              </span>
            </div>
            <ProgressBar
              value={collections.data.length / plan.maxCollections}
              label="Collections against the plan's quota"
            />
          </div>
          {collections.data.length > 0 ? (
            <ul className="plain-list">
              {collections.data.map((collection) => (
                <li key={collection.name}>
                  <code>{collection.name}</code> — {formatNumber(collection.count)} records ·{" "}
                  <span className="muted">
                    {collection.model}, {collection.dimension}-d
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
        </>
      )}
      <dl className="details">
        <dt>Plan</dt>
        <dd>{plan.title}</dd>
        <dt>Rate limit</dt>
        <dd>{formatNumber(plan.requestsPerSecond)} requests/s per key</dd>
        <dt>Largest upload</dt>
        <dd>{formatNumber(plan.maxUploadBytes / 1024 / 1024)} MB</dd>
      </dl>
    </section>
  );
}

/**
 * A move between tiers under way ("moving…", with the records copied), or the last one that
 * failed (the tenant stayed where it was); a finished move needs no notice.
 */
function TierMoveNotice({ move }: { move: TierMove }) {
  if (move.status === "queued" || move.status === "running") {
    const { done, total } = move.progress;
    return (
      <div className="alert alert-info tier-move" role="status">
        <p>
          <strong>Moving…</strong> to the {move.toTier} tier ({PLANS[move.toPlan].title} plan):{" "}
          {total > 0
            ? `${formatNumber(done)} of ${formatNumber(total)} records copied`
            : "getting its new place ready"}
          . Writes are paused until the move completes; searches keep answering.
        </p>
        <ProgressBar value={total > 0 ? done / total : null} label="Records copied" />
      </div>
    );
  }
  if (move.status === "failed" || move.status === "dead") {
    return (
      <div className="alert alert-warning tier-move" role="status">
        The move to the {move.toTier} tier failed and was undone; the tenant stayed on the{" "}
        {PLANS[move.fromPlan].title} plan with its data. {move.lastError}
      </div>
    );
  }
  return null;
}
