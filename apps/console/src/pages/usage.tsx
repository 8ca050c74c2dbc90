import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { PLANS } from "@vdb/schemas/plans";
import type { Tenant } from "@vdb/schemas/tenants";
import { UsageKind, UsageQuery } from "@vdb/schemas/usage";
import { type FormEvent, useState } from "react";
import { useOutletContext } from "react-router";
import { BarChart } from "../components/bar-chart";
import { ErrorMessage, Loading } from "../components/feedback";
import { Field } from "../components/field";
import { ProgressBar } from "../components/progress-bar";
import { dailySeries, daysBetween } from "../lib/chart";
import { formatNumber, formatPercent } from "../lib/format";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";

const KIND_TITLES: Record<UsageKind, string> = {
  search: "Searches",
  chat: "Chat questions",
  "ingest.documents": "Documents ingested",
  "ingest.chunks": "Chunks ingested",
  "ingest.tokens": "Tokens ingested",
};

const CHARTED: UsageKind[] = ["search", "chat", "ingest.documents", "ingest.chunks"];

function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

export function UsagePage() {
  const tenant = useOutletContext<Tenant>();
  const plan = PLANS[tenant.plan];
  const [from, setFrom] = useState(isoDay(-29));
  const [to, setTo] = useState(isoDay(0));
  const [range, setRange] = useState({ from: isoDay(-29), to: isoDay(0) });
  const [errors, setErrors] = useState<FieldErrors>({});
  const usage = useQuery({
    queryKey: ["usage.get", tenant.id, range.from, range.to],
    queryFn: () => trpc.usage.get.query({ tenantId: tenant.id, ...range }),
    placeholderData: keepPreviousData,
  });
  const collections = useQuery({
    queryKey: ["dataPlane.collections", tenant.id],
    queryFn: () => trpc.dataPlane.collections.query({ tenantId: tenant.id }),
    retry: false,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    const result = validate(UsageQuery, { tenantId: tenant.id, from, to });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    setRange({ from, to });
  };
  const stored = collections.data?.reduce((sum, collection) => sum + collection.count, 0);
  // Per key and second; a day at the limit is the most one key could send.
  const dailyRequestCeiling = plan.requestsPerSecond * 86_400;

  return (
    <div className="stack">
      <section className="panel" aria-labelledby="usage-window-title">
        <div className="panel-header">
          <h2 id="usage-window-title">Usage</h2>
          <form className="inline-form" onSubmit={apply} noValidate>
            <Field label="From" error={errors.from}>
              {(props) => (
                <input {...props} type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
              )}
            </Field>
            <Field label="To" error={errors.to}>
              {(props) => <input {...props} type="date" value={to} onChange={(e) => setTo(e.target.value)} />}
            </Field>
            <button type="submit" className="secondary">
              Show
            </button>
          </form>
        </div>
        <div className="quota-grid">
          <div className="meter">
            <div className="meter-label">
              <span>Records stored</span>
              <span>
                {stored === undefined ? "—" : formatNumber(stored)} of {formatNumber(plan.maxRecords)}
                {stored === undefined ? "" : ` (${formatPercent(stored, plan.maxRecords)})`}
              </span>
            </div>
            <ProgressBar
              value={stored === undefined ? 0 : stored / plan.maxRecords}
              label="Records stored against the plan's quota"
            />
            {collections.error ? <p className="muted small">Counts need a running instance.</p> : null}
          </div>
          <div className="meter">
            <div className="meter-label">
              <span>Documents kept</span>
              <span>
                <strong data-testid="document-count">
                  {usage.data ? formatNumber(usage.data.documents) : "—"}
                </strong>{" "}
                of {formatNumber(plan.maxDocuments)}
                {usage.data ? ` (${formatPercent(usage.data.documents, plan.maxDocuments)})` : ""}
              </span>
            </div>
            <ProgressBar
              value={usage.data ? usage.data.documents / plan.maxDocuments : 0}
              label="Documents kept against the plan's quota"
            />
          </div>
          <div className="meter">
            <div className="meter-label">
              <span>Rate limit</span>
              <span>{formatNumber(plan.requestsPerSecond)} requests/s per key</span>
            </div>
            <p className="muted small">
              At most {formatNumber(dailyRequestCeiling)} requests a day per key on the {plan.title} plan.
            </p>
          </div>
        </div>
      </section>
      {usage.error ? <ErrorMessage error={usage.error} onRetry={() => void usage.refetch()} /> : null}
      {usage.isPending ? <Loading label="Loading usage…" /> : null}
      {usage.data ? (
        <>
          <section className="panel" aria-labelledby="totals-title">
            <h2 id="totals-title">
              Totals, {usage.data.from} to {usage.data.to}
            </h2>
            <dl className="totals">
              {UsageKind.options.map((kind) => (
                <div key={kind} className="total">
                  <dt>{KIND_TITLES[kind]}</dt>
                  <dd>{formatNumber(usage.data.totals[kind] ?? 0)}</dd>
                </div>
              ))}
            </dl>
          </section>
          <div className="chart-grid">
            {CHARTED.map((kind) => {
              const days = daysBetween(usage.data.from, usage.data.to);
              const series = dailySeries(usage.data.days, kind, days);
              const limit =
                kind === "search" || kind === "chat"
                  ? { value: dailyRequestCeiling, label: "plan limit per key" }
                  : kind === "ingest.chunks"
                    ? { value: plan.maxRecords, label: "plan record quota" }
                    : undefined;
              return (
                <section key={kind} className="panel" aria-labelledby={`chart-${kind}`}>
                  <h3 id={`chart-${kind}`}>
                    {KIND_TITLES[kind]} per day{" "}
                    <span className="muted small">({formatNumber(usage.data.totals[kind] ?? 0)} total)</span>
                  </h3>
                  <BarChart title={`${KIND_TITLES[kind]} per day`} series={series} limit={limit} />
                </section>
              );
            })}
          </div>
        </>
      ) : null}
    </div>
  );
}
