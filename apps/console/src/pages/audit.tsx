import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { ListAuditInput } from "@vdb/schemas/audit";
import { type FormEvent, useId, useState } from "react";
import { useParams } from "react-router";
import { EmptyState, QueryView } from "../components/feedback";
import { Field } from "../components/field";
import { Pager, useCursorPages } from "../components/pager";
import { TableHead } from "../components/table-head";
import { TableScroll } from "../components/table-scroll";
import { formatDateTime } from "../lib/format";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";

/** Actions the control plane records, offered as suggestions (any text may be typed). */
const KNOWN_ACTIONS = [
  "tenant.create",
  "tenant.delete",
  "member.invite",
  "member.set",
  "member.remove",
  "api_key.create",
  "api_key.revoke",
  "instance.create",
  "instance.launch",
  "document.upload",
  "document.ingest",
  "document.delete",
  "chat.session.delete",
  "widget.create",
  "widget.update",
  "widget.delete",
  "user.create",
  "user.login",
  "signing_key.rotate",
  "signing_key.retire",
];

/** The audit log: one tenant's (under /tenants/:id) or, for operators, the whole platform's. */
export function AuditPage() {
  const { tenantId: routeTenant } = useParams();
  const [action, setAction] = useState("");
  const [tenantFilter, setTenantFilter] = useState("");
  const [applied, setApplied] = useState<{ action: string; tenantId: string }>({ action: "", tenantId: "" });
  const [errors, setErrors] = useState<FieldErrors>({});
  const listId = useId();
  const tenantId = routeTenant ?? applied.tenantId;
  const pages = useCursorPages(`${tenantId}|${applied.action}`);
  const audit = useQuery({
    queryKey: ["audit.list", tenantId, applied.action, pages.cursor],
    queryFn: () =>
      trpc.audit.list.query({
        limit: 25,
        ...(tenantId ? { tenantId } : {}),
        ...(applied.action ? { action: applied.action } : {}),
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    const candidate = {
      action: action.trim() || undefined,
      tenantId: routeTenant ?? (tenantFilter.trim() || undefined),
    };
    const result = validate(ListAuditInput, candidate);
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    setApplied({
      action: result.data.action ?? "",
      tenantId: routeTenant ? "" : (result.data.tenantId ?? ""),
    });
  };

  return (
    <>
      {routeTenant ? null : (
        <div className="page-header">
          <div>
            <h1>Audit log</h1>
            <p className="muted">Every change on the platform, newest first.</p>
          </div>
        </div>
      )}
      <section className="panel" aria-labelledby="audit-title">
        <div className="panel-header">
          <h2 id="audit-title">{routeTenant ? "Audit log" : "Entries"}</h2>
          <form className="inline-form" onSubmit={apply} noValidate>
            <Field label="Action" error={errors.action}>
              {(props) => (
                <>
                  <input
                    {...props}
                    list={listId}
                    value={action}
                    placeholder="any"
                    onChange={(e) => setAction(e.target.value)}
                  />
                  <datalist id={listId}>
                    {KNOWN_ACTIONS.map((known) => (
                      <option key={known} value={known} />
                    ))}
                  </datalist>
                </>
              )}
            </Field>
            {routeTenant ? null : (
              <Field label="Tenant id" error={errors.tenantId}>
                {(props) => (
                  <input
                    {...props}
                    value={tenantFilter}
                    placeholder="all tenants"
                    onChange={(e) => setTenantFilter(e.target.value)}
                  />
                )}
              </Field>
            )}
            <button type="submit" className="secondary">
              Filter
            </button>
          </form>
        </div>
        <QueryView query={audit} label="Loading the audit log…">
          {(page) =>
            page.items.length === 0 ? (
              <EmptyState>No entries match.</EmptyState>
            ) : (
              <>
                <TableScroll label="Audit entries table">
                  <table>
                    <TableHead
                      columns={[
                        "Time",
                        "Action",
                        "Actor",
                        "Target",
                        !routeTenant && "Tenant",
                        "IP",
                        "Details",
                      ]}
                    />
                    <tbody>
                      {page.items.map((entry) => (
                        <tr key={entry.id}>
                          <td className="nowrap">{formatDateTime(entry.createdAt)}</td>
                          <td>
                            <code>{entry.action}</code>
                          </td>
                          <td title={entry.actorType} data-testid="audit-actor">
                            <Named
                              name={entry.actorName ?? (entry.actorType === "system" ? "system" : null)}
                              id={entry.actorId}
                              kind={entry.actorType === "apiKey" ? "key" : null}
                            />
                          </td>
                          <td data-testid="audit-target">
                            <Named
                              name={entry.targetName}
                              id={entry.targetId}
                              kind={entry.targetId?.startsWith("key_") ? "key" : null}
                            />
                          </td>
                          {routeTenant ? null : (
                            <td>
                              <IdOrDash value={entry.tenantId} />
                            </td>
                          )}
                          <td className="nowrap">{entry.ip ?? "—"}</td>
                          <td>
                            {Object.keys(entry.metadata).length > 0 || entry.requestId ? (
                              <details>
                                <summary>Show</summary>
                                <pre className="small">
                                  {JSON.stringify({ ...entry.metadata, requestId: entry.requestId }, null, 2)}
                                </pre>
                              </details>
                            ) : (
                              "—"
                            )}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableScroll>
                <Pager label="Audit log" pages={pages} nextCursor={page.nextCursor} />
              </>
            )
          }
        </QueryView>
      </section>
    </>
  );
}

/** Who or what an entry names: the email or key name first, its id beside it (ids stay searchable). */
function Named({ name, id, kind }: { name: string | null; id: string | null; kind: "key" | null }) {
  if (!name) return <IdOrDash value={id} />;
  return (
    <span className="named">
      <span>{kind === "key" ? `key “${name}”` : name}</span>
      {id ? (
        <>
          {" "}
          <code className="id muted small">{id}</code>
        </>
      ) : null}
    </span>
  );
}

function IdOrDash({ value }: { value: string | null }) {
  return value ? <code className="id">{value}</code> : <span className="muted">—</span>;
}
