import { z } from "zod";
import { TenantId, UserId } from "./ids";
import { PageInput } from "./pagination";

/** Per-tenant roles. `operator` is a platform-wide flag on the user, not a tenant role. */
export const TenantRole = z.enum(["owner", "admin", "viewer"]);
export type TenantRole = z.infer<typeof TenantRole>;

/** API key scopes, ordered: `admin` includes `write`, which includes `read`. */
export const Scope = z.enum(["read", "write", "admin"]);
export type Scope = z.infer<typeof Scope>;

const SCOPE_RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

/** Whether a holder of `granted` scopes may do something that needs `needed`. */
export function isScopeGranted(granted: readonly Scope[], needed: Scope): boolean {
  return granted.some((scope) => SCOPE_RANK[scope] >= SCOPE_RANK[needed]);
}

/** The widest scope a tenant role carries. */
export const ROLE_SCOPE: Record<TenantRole, Scope> = { owner: "admin", admin: "admin", viewer: "read" };

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: "must be an email address" }));

export const Password = z
  .string()
  .min(10, { message: "must be at least 10 characters" })
  .max(200, { message: "must be at most 200 characters" });

export const LoginInput = z.object({ email: Email, password: z.string().min(1).max(200) });
export type LoginInput = z.infer<typeof LoginInput>;

export const ChangePasswordInput = z
  .object({ currentPassword: z.string().min(1).max(200), newPassword: Password })
  .refine((input) => input.newPassword !== input.currentPassword, {
    message: "must differ from the current password",
    path: ["newPassword"],
  });
export type ChangePasswordInput = z.infer<typeof ChangePasswordInput>;

export const PasswordChanged = z.object({
  ok: z.literal(true),
  /** The user's other sessions, ended by the change (this one stays). */
  endedSessions: z.number().int(),
});
export type PasswordChanged = z.infer<typeof PasswordChanged>;

export const Membership = z.object({ tenantId: TenantId, role: TenantRole });
export type Membership = z.infer<typeof Membership>;

export const User = z.object({
  id: UserId,
  email: z.string(),
  name: z.string(),
  isOperator: z.boolean(),
  mustChangePassword: z
    .boolean()
    .describe(
      "True while the password is one an administrator set (an invite, a reset): until the user chooses their own (`POST /auth/password`), their sessions may only do that, read `/auth/me` and log out.",
    ),
  memberships: z.array(Membership),
  createdAt: z.iso.datetime(),
});
export type User = z.infer<typeof User>;

export const Session = z.object({
  token: z.string().describe("Send as `Authorization: Bearer <token>`; shown once."),
  expiresAt: z.iso.datetime(),
  user: User,
});
export type Session = z.infer<typeof Session>;

export const CreateUserInput = z.object({
  email: Email,
  name: z.string().trim().min(1).max(100),
  password: Password,
  isOperator: z.boolean().default(false),
});
export type CreateUserInput = z.infer<typeof CreateUserInput>;

/** A temporary password, handed over by the administrator who set it and replaced at the next login. */
const TemporaryPassword = z
  .string()
  .describe(
    "Shown once, never stored in clear. Hand it to the person; their next login must replace it with their own.",
  );

export const ListUsersInput = PageInput.extend({
  /** Case-insensitive match on email or name. */
  search: z.string().trim().max(100).optional(),
});
export type ListUsersInput = z.infer<typeof ListUsersInput>;

/** A user as the operators' Users screen lists them: their tenant roles name the tenant. */
export const UserListItem = User.extend({
  memberships: z.array(Membership.extend({ tenantName: z.string() })),
});
export type UserListItem = z.infer<typeof UserListItem>;

export const UserRef = z.strictObject({ userId: UserId });
export type UserRef = z.infer<typeof UserRef>;

export const AddUserInput = z.strictObject({
  email: Email,
  /** Default: the part before the @. */
  name: z.string().trim().min(1).max(100).optional(),
  isOperator: z.boolean().default(false),
});
export type AddUserInput = z.infer<typeof AddUserInput>;

/** A user an operator added or whose password they reset, with the password to hand over. */
export const UserWithTemporaryPassword = z.object({ user: User, temporaryPassword: TemporaryPassword });
export type UserWithTemporaryPassword = z.infer<typeof UserWithTemporaryPassword>;

export const SetOperatorInput = z.strictObject({ userId: UserId, isOperator: z.boolean() });
export type SetOperatorInput = z.infer<typeof SetOperatorInput>;

export const AddMemberInput = z.object({ tenantId: TenantId, userId: UserId, role: TenantRole });
export type AddMemberInput = z.infer<typeof AddMemberInput>;

/** A person with a role on a tenant, as the tenant's Members screen lists them. */
export const Member = z.object({
  userId: UserId,
  email: z.string(),
  name: z.string(),
  role: TenantRole,
  addedAt: z.iso.datetime(),
});
export type Member = z.infer<typeof Member>;

/** A tenant's members, all of them (a tenant has few: no pages). */
export const MemberList = z.object({ items: z.array(Member) });
export type MemberList = z.infer<typeof MemberList>;

export const ListMembersInput = z.object({ tenantId: TenantId });
export type ListMembersInput = z.infer<typeof ListMembersInput>;

export const InviteMemberInput = z.object({
  tenantId: TenantId,
  email: Email,
  /** Only used when the email has no account yet; default: the part before the @. */
  name: z.string().trim().min(1).max(100).optional(),
  role: TenantRole,
});
export type InviteMemberInput = z.infer<typeof InviteMemberInput>;

export const InvitedMember = z.object({
  member: Member,
  temporaryPassword: z
    .string()
    .nullable()
    .describe(
      "Set only when the invite created a new account: shown once, never stored in clear. Hand it to the person; their first login must replace it with their own. Null when the email already had an account.",
    ),
});
export type InvitedMember = z.infer<typeof InvitedMember>;

export const RemoveMemberInput = z.object({ tenantId: TenantId, userId: UserId });
export type RemoveMemberInput = z.infer<typeof RemoveMemberInput>;

/** Who is calling: a console user or a tenant's API key. */
export const Principal = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("user"),
    userId: z.string(),
    email: z.string(),
    isOperator: z.boolean(),
    /** See `User.mustChangePassword`. */
    mustChangePassword: z.boolean(),
    memberships: z.array(Membership),
  }),
  z.object({ kind: z.literal("apiKey"), keyId: z.string(), tenantId: z.string(), scopes: z.array(Scope) }),
]);
export type Principal = z.infer<typeof Principal>;
