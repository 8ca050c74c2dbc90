import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { AddUserInput, type UserListItem, type UserWithTemporaryPassword } from "@vdb/schemas/auth";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { ConfirmDialog } from "../components/confirm-dialog";
import { EmptyState, ErrorMessage, QueryView } from "../components/feedback";
import { Field, FormError, NewEmailField } from "../components/field";
import { Pager, useCursorPages } from "../components/pager";
import { TableHead } from "../components/table-head";
import { TableScroll } from "../components/table-scroll";
import { TemporaryPasswordPanel } from "../components/temporary-password";
import { errorMessage, serverFieldErrors } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { useDebounced } from "../lib/use-debounced";
import { type FieldErrors, validate } from "../lib/validate";

const PAGE_SIZE = 20;

/** A temporary password just returned by the server, and why (shown once above the list). */
interface Handover {
  title: string;
  result: UserWithTemporaryPassword;
}

/**
 * Every console user on the platform (operators): add one with a temporary password, reset a
 * forgotten password, grant or revoke the operator role, remove. Tenant roles are given on each
 * tenant's Members screen; this list shows them with links there.
 */
export function UsersPage() {
  const { isOperator } = useSession();
  const [handover, setHandover] = useState<Handover | null>(null);
  if (!isOperator) {
    return (
      <>
        <div className="page-header">
          <h1>Users</h1>
        </div>
        <EmptyState>Only platform operators manage users. Ask one if you need access to a tenant.</EmptyState>
      </>
    );
  }
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Users</h1>
          <p className="muted">Everyone who can log in to this console, and their tenant roles.</p>
        </div>
      </div>
      <AddUserForm
        onAdded={(result) => setHandover({ title: `Account created for ${result.user.email}`, result })}
      />
      {handover ? (
        <TemporaryPasswordPanel
          title={handover.title}
          email={handover.result.user.email}
          password={handover.result.temporaryPassword}
          onDismiss={() => setHandover(null)}
        />
      ) : null}
      <UserList
        onReset={(result) =>
          setHandover({ title: `New temporary password for ${result.user.email}`, result })
        }
      />
    </>
  );
}

function AddUserForm({ onAdded }: { onAdded: (result: UserWithTemporaryPassword) => void }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [isOperator, setIsOperator] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const add = useMutation({
    mutationFn: (input: AddUserInput) => trpc.users.add.mutate(input),
    onSuccess: async (result) => {
      onAdded(result);
      setEmail("");
      setName("");
      setIsOperator(false);
      await queryClient.invalidateQueries({ queryKey: ["users.list"] });
    },
    onError: (error) => setErrors(serverFieldErrors(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const result = validate(AddUserInput, { email, isOperator, ...(name.trim() ? { name } : {}) });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    add.mutate(result.data);
  };
  return (
    <section className="panel" aria-labelledby="add-user-title">
      <h2 id="add-user-title">Add a user</h2>
      <form className="form-grid" onSubmit={submit} noValidate>
        <NewEmailField
          value={email}
          onChange={setEmail}
          error={errors.email}
          hint="They get a temporary password, shown once below."
        />
        <Field label="Name" error={errors.name} hint="Optional: the part before the @ otherwise.">
          {(props) => <input {...props} name="name" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <label className="checkbox">
          <input type="checkbox" checked={isOperator} onChange={(e) => setIsOperator(e.target.checked)} />
          Platform operator (every tenant, users, audit log)
        </label>
        <div className="form-actions">
          <button type="submit" disabled={add.isPending}>
            {add.isPending ? "Adding…" : "Add user"}
          </button>
        </div>
      </form>
      <FormError
        message={add.error && Object.keys(errors).length === 0 ? errorMessage(add.error) : undefined}
      />
    </section>
  );
}

function UserList({ onReset }: { onReset: (result: UserWithTemporaryPassword) => void }) {
  const [search, setSearch] = useState("");
  const settled = useDebounced(search.trim());
  const pages = useCursorPages(settled);
  const list = useQuery({
    queryKey: ["users.list", settled, pages.cursor],
    queryFn: () =>
      trpc.users.list.query({
        limit: PAGE_SIZE,
        ...(settled ? { search: settled } : {}),
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="panel" aria-labelledby="user-list-title">
      <div className="panel-header">
        <h2 id="user-list-title">All users</h2>
        <div className="field inline-field search-field">
          <label htmlFor="user-search">Search users</label>
          <input
            id="user-search"
            type="search"
            placeholder="Email or name"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
        </div>
      </div>
      <QueryView query={list} label="Loading users…">
        {(page) =>
          page.items.length === 0 ? (
            <EmptyState>{settled ? `No user matches “${settled}”.` : "No users yet."}</EmptyState>
          ) : (
            <>
              <TableScroll label="Users table">
                <table>
                  <TableHead columns={["Email", "Name", "Tenant roles", "Added", { hidden: "Actions" }]} />
                  <tbody>
                    {page.items.map((user) => (
                      <UserRow key={user.id} user={user} onReset={onReset} />
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <Pager label="Users" pages={pages} nextCursor={page.nextCursor} />
            </>
          )
        }
      </QueryView>
    </section>
  );
}

function UserRow({
  user,
  onReset,
}: {
  user: UserListItem;
  onReset: (result: UserWithTemporaryPassword) => void;
}) {
  const queryClient = useQueryClient();
  const { me } = useSession();
  const [confirming, setConfirming] = useState<"reset" | "remove" | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["users.list"] });
  const reset = useMutation({
    mutationFn: () => trpc.users.resetPassword.mutate({ userId: user.id }),
    onSuccess: async (result) => {
      setConfirming(null);
      onReset(result);
      await refresh();
    },
  });
  const setOperator = useMutation({
    mutationFn: (isOperator: boolean) => trpc.users.setOperator.mutate({ userId: user.id, isOperator }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => trpc.users.remove.mutate({ userId: user.id }),
    onSuccess: async () => {
      setConfirming(null);
      await refresh();
    },
  });
  const isMe = me?.kind === "user" && me.userId === user.id;
  return (
    <tr data-user-id={user.id}>
      <td>
        {user.email}
        {isMe ? <span className="muted small"> (you)</span> : null}
        {user.isOperator ? <span className="badge badge-info role-badge">operator</span> : null}
        {user.mustChangePassword ? (
          <span className="badge badge-warning role-badge" title="Has not yet replaced a temporary password">
            temporary password
          </span>
        ) : null}
      </td>
      <td>{user.name}</td>
      <td>
        {user.memberships.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul className="inline-list">
            {user.memberships.map((membership) => (
              <li key={membership.tenantId}>
                <Link to={`/tenants/${membership.tenantId}/members`}>{membership.tenantName}</Link>{" "}
                <span className="muted">{membership.role}</span>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className="nowrap">{formatDateTime(user.createdAt)}</td>
      <td className="row-actions">
        {isMe ? (
          <Link to="/account" className="small">
            Your account
          </Link>
        ) : (
          <>
            <button
              type="button"
              className="secondary small-button"
              onClick={() => setConfirming("reset")}
              aria-label={`Reset the password of ${user.email}`}
            >
              Reset password
            </button>
            <button
              type="button"
              className="secondary small-button"
              disabled={setOperator.isPending}
              onClick={() => setOperator.mutate(!user.isOperator)}
              aria-label={`${user.isOperator ? "Revoke operator from" : "Make operator:"} ${user.email}`}
            >
              {user.isOperator ? "Revoke operator" : "Make operator"}
            </button>
            <button
              type="button"
              className="danger-ghost small-button"
              onClick={() => setConfirming("remove")}
              aria-label={`Remove ${user.email}`}
            >
              Remove
            </button>
          </>
        )}
        {setOperator.error ? (
          <p className="field-error" role="alert">
            {errorMessage(setOperator.error)}
          </p>
        ) : null}
        <ConfirmDialog
          open={confirming === "reset"}
          title={`Reset the password of ${user.email}?`}
          confirmLabel="Reset password"
          isBusy={reset.isPending}
          onConfirm={() => reset.mutate()}
          onCancel={() => setConfirming(null)}
        >
          <p>
            Their password stops working and every session of theirs ends now. You get a temporary password to
            hand over; their next login asks them to choose their own.
          </p>
          {reset.error ? <ErrorMessage error={reset.error} /> : null}
        </ConfirmDialog>
        <ConfirmDialog
          open={confirming === "remove"}
          title={`Remove ${user.email}?`}
          confirmLabel="Remove user"
          isBusy={remove.isPending}
          onConfirm={() => remove.mutate()}
          onCancel={() => setConfirming(null)}
        >
          <p>
            Their account, sessions and tenant roles are deleted; the audit log keeps what they did. A
            tenant's last owner cannot be removed: make someone else owner first.
          </p>
          {remove.error ? <ErrorMessage error={remove.error} /> : null}
        </ConfirmDialog>
      </td>
    </tr>
  );
}
