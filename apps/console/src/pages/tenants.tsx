import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { PLANS, Plan } from "@vdb/schemas/plans";
import { CreateTenantInput, type Tenant } from "@vdb/schemas/tenants";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router";
import { ConfirmDialog } from "../components/confirm-dialog";
import { EmptyState, ErrorMessage, QueryView } from "../components/feedback";
import { Field, FormError } from "../components/field";
import { Pager, useCursorPages } from "../components/pager";
import { TableHead } from "../components/table-head";
import { TableScroll } from "../components/table-scroll";
import { errorMessage, serverFieldErrors } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { useDebounced } from "../lib/use-debounced";
import { type FieldErrors, validate } from "../lib/validate";

const PAGE_SIZE = 10;

export function TenantsPage() {
  const { isOperator } = useSession();
  const [search, setSearch] = useState("");
  const settled = useDebounced(search.trim());
  const pages = useCursorPages(settled);
  const tenants = useQuery({
    queryKey: ["tenants.list", settled, pages.cursor],
    queryFn: () =>
      trpc.tenants.list.query({
        limit: PAGE_SIZE,
        ...(settled ? { search: settled } : {}),
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Tenants</h1>
          <p className="muted">
            {isOperator ? "Every tenant on this platform." : "The tenants you are a member of."}
          </p>
        </div>
      </div>
      {isOperator ? <CreateTenantForm /> : null}
      <section className="panel" aria-labelledby="tenant-list-title">
        <div className="panel-header">
          <h2 id="tenant-list-title">All tenants</h2>
          <div className="field inline-field search-field">
            <label htmlFor="tenant-search">Search tenants</label>
            <input
              id="tenant-search"
              type="search"
              placeholder="Slug or name"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
            />
          </div>
        </div>
        <QueryView query={tenants} label="Loading tenants…">
          {(page) =>
            page.items.length === 0 ? (
              <EmptyState>
                {settled ? `No tenant matches “${settled}”.` : "No tenants yet."}
                {isOperator && !settled ? " Create the first one above." : null}
              </EmptyState>
            ) : (
              <>
                <TableScroll label="Tenants table">
                  <table>
                    <TableHead
                      columns={["Name", "Slug", "Plan", "Created", isOperator && { hidden: "Actions" }]}
                    />
                    <tbody>
                      {page.items.map((tenant) => (
                        <TenantRow key={tenant.id} tenant={tenant} canManage={isOperator} />
                      ))}
                    </tbody>
                  </table>
                </TableScroll>
                <Pager label="Tenants" pages={pages} nextCursor={page.nextCursor} />
              </>
            )
          }
        </QueryView>
      </section>
    </>
  );
}

function CreateTenantForm() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const [plan, setPlan] = useState<Plan>("starter");
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: (input: CreateTenantInput) => trpc.tenants.create.mutate(input),
    onSuccess: async (tenant) => {
      await queryClient.invalidateQueries({ queryKey: ["tenants.list"] });
      navigate(`/tenants/${tenant.id}`);
    },
    onError: (error) => setErrors(serverFieldErrors(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const result = validate(CreateTenantInput, { slug, name, plan });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    create.mutate(result.data);
  };
  return (
    <section className="panel" aria-labelledby="create-tenant-title">
      <h2 id="create-tenant-title">Create a tenant</h2>
      <form className="form-grid" onSubmit={submit} noValidate>
        <Field label="Slug" error={errors.slug} hint="Lowercase letters, digits and hyphens; used in URLs.">
          {(props) => (
            <input
              {...props}
              name="slug"
              value={slug}
              autoComplete="off"
              onChange={(event) => setSlug(event.target.value)}
            />
          )}
        </Field>
        <Field label="Name" error={errors.name}>
          {(props) => (
            <input {...props} name="name" value={name} onChange={(event) => setName(event.target.value)} />
          )}
        </Field>
        <Field label="Plan" error={errors.plan}>
          {(props) => (
            <select
              {...props}
              name="plan"
              value={plan}
              onChange={(event) => setPlan(event.target.value as Plan)}
            >
              {Plan.options.map((option) => (
                <option key={option} value={option}>
                  {PLANS[option].title}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="form-actions">
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create tenant"}
          </button>
        </div>
      </form>
      <FormError
        message={create.error && !errors.slug && !errors.name ? errorMessage(create.error) : undefined}
      />
    </section>
  );
}

function TenantRow({ tenant, canManage }: { tenant: Tenant; canManage: boolean }) {
  const queryClient = useQueryClient();
  const [isConfirming, setIsConfirming] = useState(false);
  const [saved, setSaved] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["tenants.list"] });
  const changePlan = useMutation({
    mutationFn: (plan: Plan) => trpc.tenants.changePlan.mutate({ tenantId: tenant.id, plan }),
    onSuccess: async () => {
      setSaved(true);
      setTimeout(() => setSaved(false), 2000);
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () => trpc.tenants.delete.mutate({ tenantId: tenant.id }),
    onSuccess: async () => {
      setIsConfirming(false);
      await refresh();
    },
  });
  const planId = `plan-${tenant.id}`;
  return (
    <tr>
      <td>
        <Link to={`/tenants/${tenant.id}`} className="strong-link">
          {tenant.name}
        </Link>
      </td>
      <td>
        <code>{tenant.slug}</code>
      </td>
      <td>
        {canManage ? (
          <div className="inline-control">
            <label htmlFor={planId} className="visually-hidden">
              Plan of {tenant.slug}
            </label>
            <select
              id={planId}
              value={tenant.plan}
              disabled={changePlan.isPending}
              onChange={(event) => changePlan.mutate(Plan.parse(event.target.value))}
            >
              {Plan.options.map((option) => (
                <option key={option} value={option}>
                  {PLANS[option].title}
                </option>
              ))}
            </select>
            {saved ? <span className="saved">Saved</span> : null}
            {changePlan.error ? <span className="field-error">{errorMessage(changePlan.error)}</span> : null}
          </div>
        ) : (
          PLANS[tenant.plan].title
        )}
      </td>
      <td className="nowrap">{formatDateTime(tenant.createdAt)}</td>
      {canManage ? (
        <td className="row-actions">
          <button
            type="button"
            className="danger-ghost small-button"
            onClick={() => setIsConfirming(true)}
            aria-label={`Delete tenant ${tenant.slug}`}
          >
            Delete
          </button>
          <ConfirmDialog
            open={isConfirming}
            title={`Delete ${tenant.name}?`}
            confirmLabel="Delete tenant"
            confirmText={tenant.slug}
            isBusy={remove.isPending}
            onConfirm={() => remove.mutate()}
            onCancel={() => setIsConfirming(false)}
          >
            <p>This deletes the tenant, its instance, documents and API keys. It cannot be undone.</p>
            {remove.error ? <ErrorMessage error={remove.error} /> : null}
          </ConfirmDialog>
        </td>
      ) : null}
    </tr>
  );
}
