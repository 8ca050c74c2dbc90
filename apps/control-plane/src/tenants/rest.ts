import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "@vdb/http/errors";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { Deleted, Removed } from "@vdb/schemas/answers";
import { InvitedMember, InviteMemberInput, MemberList, Membership, TenantRole } from "@vdb/schemas/auth";
import { JobId, TenantId, UserId } from "@vdb/schemas/ids";
import { pageOf } from "@vdb/schemas/pagination";
import { Plan } from "@vdb/schemas/plans";
import {
  CreateTenantInput,
  ListTenantsInput,
  PlanChange,
  Tenant,
  TenantName,
  TierMove,
} from "@vdb/schemas/tenants";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { addMember } from "./add-member";
import { createTenant } from "./create-tenant";
import { deleteTenant } from "./delete-tenant";
import { getTenant } from "./get-tenant";
import { getTierMove } from "./get-tier-move";
import { inviteMember } from "./invite-member";
import { listMembers } from "./list-members";
import { listTenants } from "./list-tenants";
import { removeMember } from "./remove-member";
import { changeTenantPlan, renameTenant } from "./update-tenant";

const tags = ["Tenants"];
const TenantParams = z.object({ tenantId: TenantId });
const MemberParams = TenantParams.extend({ userId: UserId });
const UpdateTenantBody = z
  .strictObject({ plan: Plan.optional(), name: TenantName.optional() })
  .refine((body) => body.plan !== undefined || body.name !== undefined, {
    message: "give plan, name or both",
  });

const create = createRoute({
  method: "post",
  path: "/tenants",
  tags,
  summary: "Create a tenant (operators)",
  security: SECURITY,
  request: jsonBody(CreateTenantInput),
  responses: { 201: jsonContent(Tenant, "The new tenant"), ...ERROR_RESPONSES },
});

const provision = createRoute({
  ...create,
  path: "/provision",
  summary: "Create a tenant (seed `/provision`; same as POST /tenants)",
});

const list = createRoute({
  method: "get",
  path: "/tenants",
  tags,
  summary: "List tenants, newest first (operators: all; others: their own)",
  security: SECURITY,
  request: { query: ListTenantsInput },
  responses: { 200: jsonContent(pageOf(Tenant), "A page of tenants"), ...ERROR_RESPONSES },
});

const get = createRoute({
  method: "get",
  path: "/tenants/{tenantId}",
  tags,
  summary: "Get a tenant",
  security: SECURITY,
  request: { params: TenantParams },
  responses: { 200: jsonContent(Tenant, "The tenant"), ...ERROR_RESPONSES },
});

const update = createRoute({
  method: "patch",
  path: "/tenants/{tenantId}",
  tags,
  summary: "Rename a tenant (its admins) or change its plan (operators)",
  security: SECURITY,
  request: { params: TenantParams, ...jsonBody(UpdateTenantBody) },
  responses: {
    200: jsonContent(PlanChange, "The updated tenant, and the tier move a plan change started (else null)"),
    ...ERROR_RESPONSES,
  },
});

const getMove = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/moves/{moveId}",
  tags,
  summary:
    "A move between the shared and dedicated tiers that a plan change started: status and records copied",
  security: SECURITY,
  request: { params: TenantParams.extend({ moveId: JobId }) },
  responses: { 200: jsonContent(TierMove, "The move"), ...ERROR_RESPONSES },
});

const remove = createRoute({
  method: "delete",
  path: "/tenants/{tenantId}",
  tags,
  summary: "Delete a tenant and everything it owns (owner or operator)",
  security: SECURITY,
  request: { params: TenantParams },
  responses: { 200: jsonContent(Deleted, "Deleted"), ...ERROR_RESPONSES },
});

const setMember = createRoute({
  method: "put",
  path: "/tenants/{tenantId}/members/{userId}",
  tags,
  summary:
    "Give a user a role on the tenant, or change it (admins; granting or changing the owner role: owner or operator)",
  security: SECURITY,
  request: {
    params: MemberParams,
    ...jsonBody(z.strictObject({ role: TenantRole })),
  },
  responses: { 200: jsonContent(Membership, "The membership"), ...ERROR_RESPONSES },
});

const listMembersRoute = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/members",
  tags,
  summary: "List the tenant's members with their roles (admins, owners, operators)",
  security: SECURITY,
  request: { params: TenantParams },
  responses: { 200: jsonContent(MemberList, "The members"), ...ERROR_RESPONSES },
});

const inviteMemberRoute = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/members",
  tags,
  summary:
    "Invite a person by email: a new email gets an account with a temporary password returned once (admins; the owner role: owner or operator)",
  security: SECURITY,
  request: { params: TenantParams, ...jsonBody(InviteMemberInput.omit({ tenantId: true }).strict()) },
  responses: { 201: jsonContent(InvitedMember, "The new member"), ...ERROR_RESPONSES },
});

const removeMemberRoute = createRoute({
  method: "delete",
  path: "/tenants/{tenantId}/members/{userId}",
  tags,
  summary:
    "Take a person's role on the tenant away; their account stays (admins; an owner: owner or operator)",
  security: SECURITY,
  request: { params: MemberParams },
  responses: { 200: jsonContent(Removed, "Removed"), ...ERROR_RESPONSES },
});

export const tenantsRest = restApp()
  .openapi(create, async (c) =>
    c.json(await createTenant({ ctx: ctxOf(c), input: c.req.valid("json") }), 201),
  )
  .openapi(provision, async (c) =>
    c.json(await createTenant({ ctx: ctxOf(c), input: c.req.valid("json") }), 201),
  )
  .openapi(list, async (c) => c.json(await listTenants({ ctx: ctxOf(c), input: c.req.valid("query") }), 200))
  .openapi(get, async (c) => c.json(await getTenant({ ctx: ctxOf(c), input: c.req.valid("param") }), 200))
  .openapi(update, async (c) => {
    const ctx = ctxOf(c);
    const { tenantId } = c.req.valid("param");
    const { plan, name } = c.req.valid("json");
    // One request, two verbs with different permissions: check both before changing either.
    if (
      plan !== undefined &&
      name !== undefined &&
      !(ctx.principal?.kind === "user" && ctx.principal.isOperator)
    ) {
      throw new AppError({ code: "FORBIDDEN", message: "Only a platform operator may change the plan" });
    }
    let tenant: PlanChange | null =
      name !== undefined ? { ...(await renameTenant({ ctx, input: { tenantId, name } })), move: null } : null;
    if (plan !== undefined) tenant = await changeTenantPlan({ ctx, input: { tenantId, plan } });
    return c.json(tenant!, 200);
  })
  .openapi(getMove, async (c) =>
    c.json(await getTierMove({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(remove, async (c) =>
    c.json(await deleteTenant({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(setMember, async (c) => {
    const { tenantId, userId } = c.req.valid("param");
    return c.json(
      await addMember({ ctx: ctxOf(c), input: { tenantId, userId, role: c.req.valid("json").role } }),
      200,
    );
  })
  .openapi(listMembersRoute, async (c) =>
    c.json(await listMembers({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(inviteMemberRoute, async (c) =>
    c.json(
      await inviteMember({ ctx: ctxOf(c), input: { ...c.req.valid("json"), ...c.req.valid("param") } }),
      201,
    ),
  )
  .openapi(removeMemberRoute, async (c) =>
    c.json(await removeMember({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  );
