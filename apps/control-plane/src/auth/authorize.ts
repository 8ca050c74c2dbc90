import { AppError } from "@vdb/http/errors";
import { isScopeGranted, type Principal, ROLE_SCOPE, type Scope, type TenantRole } from "@vdb/schemas/auth";

export function requirePrincipal(principal: Principal | null): Principal {
  if (!principal) {
    throw new AppError({
      code: "UNAUTHORIZED",
      message: "Authentication required: send `Authorization: Bearer <API key or session token>`",
    });
  }
  return principal;
}

/**
 * What a session may still do while its password is one an administrator set (an invite, a
 * reset): see who it is, choose its own password, log out. tRPC paths and REST routes.
 */
const ALLOWED_BEFORE_OWN_PASSWORD = new Set([
  "auth.me",
  "auth.changePassword",
  "auth.logout",
  "GET /api/v1/auth/me",
  "POST /api/v1/auth/password",
  "POST /api/v1/auth/logout",
]);

/**
 * Refuses everything but `ALLOWED_BEFORE_OWN_PASSWORD` to a user who has not yet replaced a
 * password an administrator handed them, so the administrator never keeps working access to it.
 * `operation` is a tRPC path (`tenants.list`) or a REST route (`GET /api/v1/tenants`).
 */
export function requireOwnPassword(principal: Principal | null, operation: string): void {
  if (principal?.kind !== "user" || !principal.mustChangePassword) return;
  if (ALLOWED_BEFORE_OWN_PASSWORD.has(operation)) return;
  throw new AppError({
    code: "FORBIDDEN",
    message:
      "Your password was set by an administrator: choose your own first (the console asks after login; the API: POST /api/v1/auth/password)",
  });
}

export function isOperator(principal: Principal | null): boolean {
  return principal?.kind === "user" && principal.isOperator;
}

export function requireOperator(principal: Principal | null): Principal {
  const who = requirePrincipal(principal);
  if (!isOperator(who))
    throw new AppError({ code: "FORBIDDEN", message: "Only a platform operator may do this" });
  return who;
}

/** The tenant role a user holds, or null. */
export function roleIn(principal: Principal, tenantId: string): TenantRole | null {
  if (principal.kind !== "user") return null;
  return principal.memberships.find((membership) => membership.tenantId === tenantId)?.role ?? null;
}

/** The scopes `principal` holds on `tenantId` (operators: all of them). */
export function scopesOn(principal: Principal, tenantId: string): Scope[] {
  if (principal.kind === "apiKey") return principal.tenantId === tenantId ? principal.scopes : [];
  if (principal.isOperator) return ["read", "write", "admin"];
  const role = roleIn(principal, tenantId);
  if (!role) return [];
  return (["read", "write", "admin"] as const).filter((scope) => isScopeGranted([ROLE_SCOPE[role]], scope));
}

/**
 * Passes when `principal` may act on `tenantId` with `scope`. A credential of another tenant
 * gets the same answer whether or not that tenant exists, so ids cannot be probed.
 */
export function requireTenantScope(principal: Principal | null, tenantId: string, scope: Scope): Principal {
  const who = requirePrincipal(principal);
  const granted = scopesOn(who, tenantId);
  if (granted.length === 0) {
    throw new AppError({ code: "FORBIDDEN", message: "This credential has no access to that tenant" });
  }
  if (!isScopeGranted(granted, scope)) {
    throw new AppError({ code: "FORBIDDEN", message: `This needs the "${scope}" scope on the tenant` });
  }
  return who;
}

/** Tenant ownership (delete the tenant, manage members): owners and operators. */
export function requireTenantOwner(principal: Principal | null, tenantId: string): Principal {
  const who = requireTenantScope(principal, tenantId, "admin");
  if (isOperator(who) || roleIn(who, tenantId) === "owner") return who;
  throw new AppError({ code: "FORBIDDEN", message: "Only the tenant's owner or an operator may do this" });
}
