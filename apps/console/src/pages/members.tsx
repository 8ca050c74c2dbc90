import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type InvitedMember, InviteMemberInput, type Member, TenantRole } from "@vdb/schemas/auth";
import type { Tenant } from "@vdb/schemas/tenants";
import { type FormEvent, useState } from "react";
import { useOutletContext } from "react-router";
import { ConfirmDialog } from "../components/confirm-dialog";
import { EmptyState, ErrorMessage, QueryView } from "../components/feedback";
import { Field, FormError, NewEmailField } from "../components/field";
import { TableHead } from "../components/table-head";
import { TableScroll } from "../components/table-scroll";
import { TemporaryPasswordPanel } from "../components/temporary-password";
import { errorMessage, serverFieldErrors } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";

const ROLE_HINTS: Record<TenantRole, string> = {
  owner: "everything, including members with the owner role",
  admin: "keys, documents, widgets and members",
  viewer: "search, chat and read",
};

/** The tenant's people: invite by email, change a role, remove (owners and admins). */
export function MembersPage() {
  const tenant = useOutletContext<Tenant>();
  const [invited, setInvited] = useState<InvitedMember | null>(null);
  return (
    <>
      <InviteForm tenantId={tenant.id} onInvited={setInvited} />
      {invited ? <InvitedOnce invited={invited} onDismiss={() => setInvited(null)} /> : null}
      <MemberList tenantId={tenant.id} />
    </>
  );
}

function InviteForm({ tenantId, onInvited }: { tenantId: string; onInvited: (m: InvitedMember) => void }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<TenantRole>("viewer");
  const [errors, setErrors] = useState<FieldErrors>({});
  const invite = useMutation({
    mutationFn: (input: InviteMemberInput) => trpc.tenants.inviteMember.mutate(input),
    onSuccess: async (result) => {
      onInvited(result);
      setEmail("");
      await queryClient.invalidateQueries({ queryKey: ["tenants.listMembers", tenantId] });
    },
    onError: (error) => setErrors(serverFieldErrors(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const result = validate(InviteMemberInput, { tenantId, email, role });
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    invite.mutate(result.data);
  };
  return (
    <section className="panel" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite a person</h2>
      <form className="form-grid" onSubmit={submit} noValidate>
        <NewEmailField
          value={email}
          onChange={setEmail}
          error={errors.email}
          hint="A new email gets an account with a temporary password, shown once below."
        />
        <Field label="Role" error={errors.role} hint={ROLE_HINTS[role]}>
          {(props) => (
            <select
              {...props}
              name="role"
              value={role}
              onChange={(e) => setRole(e.target.value as TenantRole)}
            >
              {TenantRole.options.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="form-actions">
          <button type="submit" disabled={invite.isPending}>
            {invite.isPending ? "Inviting…" : "Invite"}
          </button>
        </div>
      </form>
      <FormError
        message={invite.error && Object.keys(errors).length === 0 ? errorMessage(invite.error) : undefined}
      />
    </section>
  );
}

function InvitedOnce({ invited, onDismiss }: { invited: InvitedMember; onDismiss: () => void }) {
  const { email, role } = invited.member;
  if (invited.temporaryPassword === null) {
    return (
      <section className="panel" aria-labelledby="invited-title" role="status">
        <h2 id="invited-title">{email} added</h2>
        <p>
          They already had an account: they log in as before and now see this tenant as{" "}
          <strong>{role}</strong>.
        </p>
        <button type="button" className="secondary small-button" onClick={onDismiss}>
          Hide
        </button>
      </section>
    );
  }
  return (
    <TemporaryPasswordPanel
      title={`Account created for ${email}`}
      email={email}
      password={invited.temporaryPassword}
      onDismiss={onDismiss}
    />
  );
}

function MemberList({ tenantId }: { tenantId: string }) {
  const members = useQuery({
    queryKey: ["tenants.listMembers", tenantId],
    queryFn: () => trpc.tenants.listMembers.query({ tenantId }),
  });
  return (
    <section className="panel" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <QueryView query={members} label="Loading members…">
        {(page) =>
          page.items.length === 0 ? (
            <EmptyState>No members yet: operators manage this tenant. Invite someone above.</EmptyState>
          ) : (
            <TableScroll label="Members table">
              <table>
                <TableHead columns={["Email", "Name", "Role", "Added", { hidden: "Actions" }]} />
                <tbody>
                  {page.items.map((member) => (
                    <MemberRow key={member.userId} tenantId={tenantId} member={member} />
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )
        }
      </QueryView>
    </section>
  );
}

function MemberRow({ tenantId, member }: { tenantId: string; member: Member }) {
  const queryClient = useQueryClient();
  const { me } = useSession();
  const [isConfirming, setIsConfirming] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["tenants.listMembers", tenantId] });
  const changeRole = useMutation({
    mutationFn: (role: TenantRole) =>
      trpc.tenants.addMember.mutate({ tenantId, userId: member.userId, role }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => trpc.tenants.removeMember.mutate({ tenantId, userId: member.userId }),
    onSuccess: async () => {
      setIsConfirming(false);
      await refresh();
    },
  });
  const isMe = me?.kind === "user" && me.userId === member.userId;
  return (
    <tr data-user-id={member.userId}>
      <td>
        {member.email}
        {isMe ? <span className="muted small"> (you)</span> : null}
      </td>
      <td>{member.name}</td>
      <td>
        <select
          aria-label={`Role of ${member.email}`}
          value={member.role}
          disabled={changeRole.isPending}
          onChange={(e) => changeRole.mutate(e.target.value as TenantRole)}
        >
          {TenantRole.options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
        {changeRole.error ? (
          <p className="field-error" role="alert">
            {errorMessage(changeRole.error)}
          </p>
        ) : null}
      </td>
      <td className="nowrap">{formatDateTime(member.addedAt)}</td>
      <td className="row-actions">
        <button
          type="button"
          className="danger-ghost small-button"
          onClick={() => setIsConfirming(true)}
          aria-label={`Remove ${member.email}`}
        >
          Remove
        </button>
        <ConfirmDialog
          open={isConfirming}
          title={`Remove ${member.email} from this tenant?`}
          confirmLabel="Remove member"
          isBusy={remove.isPending}
          onConfirm={() => remove.mutate()}
          onCancel={() => setIsConfirming(false)}
        >
          <p>
            They lose access to this tenant on their next request. Their account stays, with any other tenants
            it belongs to.
          </p>
          {remove.error ? <ErrorMessage error={remove.error} /> : null}
        </ConfirmDialog>
      </td>
    </tr>
  );
}
