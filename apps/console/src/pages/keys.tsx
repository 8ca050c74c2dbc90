import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Scope } from "@vdb/schemas/auth";
import { type ApiKey, CreateApiKeyInput, type CreatedApiKey } from "@vdb/schemas/keys";
import type { Tenant } from "@vdb/schemas/tenants";
import { type FormEvent, useState } from "react";
import { useOutletContext } from "react-router";
import { CodeSnippets } from "../components/code-snippets";
import { ConfirmDialog } from "../components/confirm-dialog";
import { CopyButton } from "../components/copy-button";
import { EmptyState, ErrorMessage, QueryView } from "../components/feedback";
import { Field, FormError } from "../components/field";
import { Pager, useCursorPages } from "../components/pager";
import { StatusBadge } from "../components/status-badge";
import { TableHead } from "../components/table-head";
import { TableScroll } from "../components/table-scroll";
import { errorMessage, serverFieldErrors } from "../lib/errors";
import { endOfDayIso, formatDateTime, formatRelative } from "../lib/format";
import { canWrite, useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";

const SCOPE_HINTS: Record<Scope, string> = {
  read: "search and chat",
  write: "also upload and delete documents",
  admin: "also manage the tenant",
};

export function KeysPage() {
  const tenant = useOutletContext<Tenant>();
  const { me } = useSession();
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  return (
    <>
      {canWrite(me, tenant.id) ? <CreateKeyForm tenantId={tenant.id} onCreated={setCreated} /> : null}
      {created ? <SecretOnce apiKey={created} onDismiss={() => setCreated(null)} /> : null}
      <KeyList tenantId={tenant.id} canRevoke={canWrite(me, tenant.id)} />
    </>
  );
}

function CreateKeyForm({
  tenantId,
  onCreated,
}: {
  tenantId: string;
  onCreated: (key: CreatedApiKey) => void;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["read"]);
  const [expiry, setExpiry] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: (input: CreateApiKeyInput) => trpc.keys.create.mutate(input),
    onSuccess: async (key) => {
      onCreated(key);
      setName("");
      setExpiry("");
      await queryClient.invalidateQueries({ queryKey: ["keys.list", tenantId] });
    },
    onError: (error) => setErrors(serverFieldErrors(error)),
  });
  const toggle = (scope: Scope, on: boolean) =>
    setScopes((current) =>
      on
        ? Scope.options.filter((s) => s === scope || current.includes(s))
        : current.filter((s) => s !== scope),
    );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const expiresAt = expiry ? endOfDayIso(expiry) : undefined;
    if (expiry && !expiresAt) return setErrors({ expiresAt: "must be a date" });
    const result = validate(CreateApiKeyInput, {
      tenantId,
      name,
      scopes,
      ...(expiresAt ? { expiresAt } : {}),
    });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    create.mutate(result.data);
  };
  return (
    <section className="panel" aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create an API key</h2>
      <form className="form-grid" onSubmit={submit} noValidate>
        <Field label="Key name" error={errors.name} hint="Where it is used, e.g. “production search”.">
          {(props) => <input {...props} name="name" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <fieldset className={`field scopes${errors.scopes ? " has-error" : ""}`}>
          <legend>Scopes</legend>
          {Scope.options.map((scope) => (
            <label key={scope} className="checkbox">
              <input
                type="checkbox"
                name="scopes"
                value={scope}
                checked={scopes.includes(scope)}
                onChange={(e) => toggle(scope, e.target.checked)}
              />
              <span>
                <strong>{scope}</strong> <span className="muted small">{SCOPE_HINTS[scope]}</span>
              </span>
            </label>
          ))}
          {errors.scopes ? <p className="field-error">{errors.scopes}</p> : null}
        </fieldset>
        <Field
          label="Expires on (optional)"
          error={errors.expiresAt}
          hint="End of that day, UTC. Empty: never."
        >
          {(props) => (
            <input
              {...props}
              type="date"
              name="expiresAt"
              value={expiry}
              onChange={(e) => setExpiry(e.target.value)}
            />
          )}
        </Field>
        <div className="form-actions">
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create key"}
          </button>
        </div>
      </form>
      <FormError
        message={create.error && Object.keys(errors).length === 0 ? errorMessage(create.error) : undefined}
      />
    </section>
  );
}

function SecretOnce({ apiKey, onDismiss }: { apiKey: CreatedApiKey; onDismiss: () => void }) {
  return (
    <section className="panel secret-panel" aria-labelledby="secret-title">
      <h2 id="secret-title">Key “{apiKey.name}” created</h2>
      <p>
        Copy the secret now: <strong>it is shown only this once</strong> and cannot be recovered. Send it as{" "}
        <code>Authorization: Bearer …</code>.
      </p>
      <div className="secret">
        <label htmlFor="new-secret" className="visually-hidden">
          The new API key's secret
        </label>
        <input
          id="new-secret"
          readOnly
          value={apiKey.secret}
          className="mono"
          onFocus={(e) => e.target.select()}
          data-testid="key-secret"
        />
        <CopyButton text={apiKey.secret} label="Copy secret" />
      </div>
      <h3>Try it</h3>
      <p className="muted small">
        Put the secret in <code>VDB_API_KEY</code> (the code reads it from there, never inline), then run:
      </p>
      <CodeSnippets
        target={{ origin: window.location.origin, tenantId: apiKey.tenantId, scopes: apiKey.scopes }}
      />
      <button type="button" className="secondary small-button" onClick={onDismiss}>
        I have stored it — hide
      </button>
    </section>
  );
}

function keyStatus(key: ApiKey): "active" | "revoked" | "expired" {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) return "expired";
  return "active";
}

function KeyList({ tenantId, canRevoke }: { tenantId: string; canRevoke: boolean }) {
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const pages = useCursorPages(`${includeRevoked}`);
  const keys = useQuery({
    queryKey: ["keys.list", tenantId, includeRevoked, pages.cursor],
    queryFn: () =>
      trpc.keys.list.query({
        tenantId,
        includeRevoked,
        limit: 20,
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="panel" aria-labelledby="keys-title">
      <div className="panel-header">
        <h2 id="keys-title">API keys</h2>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={includeRevoked}
            onChange={(e) => setIncludeRevoked(e.target.checked)}
          />
          Show revoked keys
        </label>
      </div>
      <QueryView query={keys} label="Loading keys…">
        {(page) =>
          page.items.length === 0 ? (
            <EmptyState>No API keys yet.</EmptyState>
          ) : (
            <>
              <TableScroll label="API keys table">
                <table>
                  <TableHead
                    columns={[
                      "Name",
                      "Key",
                      "Scopes",
                      "Status",
                      "Last used",
                      "Expires",
                      "Created",
                      canRevoke && { hidden: "Actions" },
                    ]}
                  />
                  <tbody>
                    {page.items.map((key) => (
                      <KeyRow key={key.id} apiKey={key} canRevoke={canRevoke} />
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <Pager label="API keys" pages={pages} nextCursor={page.nextCursor} />
            </>
          )
        }
      </QueryView>
    </section>
  );
}

function KeyRow({ apiKey, canRevoke }: { apiKey: ApiKey; canRevoke: boolean }) {
  const queryClient = useQueryClient();
  const [isConfirming, setIsConfirming] = useState(false);
  const revoke = useMutation({
    mutationFn: () => trpc.keys.revoke.mutate({ tenantId: apiKey.tenantId, keyId: apiKey.id }),
    onSuccess: async () => {
      setIsConfirming(false);
      await queryClient.invalidateQueries({ queryKey: ["keys.list", apiKey.tenantId] });
    },
  });
  const status = keyStatus(apiKey);
  return (
    <tr data-key-id={apiKey.id}>
      <td>{apiKey.name}</td>
      <td>
        <code>{apiKey.start}…</code>
      </td>
      <td>{apiKey.scopes.join(", ")}</td>
      <td>
        <StatusBadge status={status} />
      </td>
      <td title={formatDateTime(apiKey.lastUsedAt)}>{formatRelative(apiKey.lastUsedAt)}</td>
      <td className="nowrap">{apiKey.expiresAt ? formatDateTime(apiKey.expiresAt) : "never"}</td>
      <td className="nowrap">{formatDateTime(apiKey.createdAt)}</td>
      {canRevoke ? (
        <td className="row-actions">
          {status !== "revoked" ? (
            <button
              type="button"
              className="danger-ghost small-button"
              onClick={() => setIsConfirming(true)}
              aria-label={`Revoke key ${apiKey.name}`}
            >
              Revoke
            </button>
          ) : null}
          <ConfirmDialog
            open={isConfirming}
            title={`Revoke “${apiKey.name}”?`}
            confirmLabel="Revoke key"
            isBusy={revoke.isPending}
            onConfirm={() => revoke.mutate()}
            onCancel={() => setIsConfirming(false)}
          >
            <p>Requests with this key stop working within seconds, everywhere. This cannot be undone.</p>
            {revoke.error ? <ErrorMessage error={revoke.error} /> : null}
          </ConfirmDialog>
        </td>
      ) : null}
    </tr>
  );
}
