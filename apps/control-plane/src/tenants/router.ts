import type { TRPCRouterRecord } from "@trpc/server";
import { Deleted, Removed } from "@vdb/schemas/answers";
import {
  AddMemberInput,
  InvitedMember,
  InviteMemberInput,
  ListMembersInput,
  MemberList,
  Membership,
  RemoveMemberInput,
} from "@vdb/schemas/auth";
import { pageOf } from "@vdb/schemas/pagination";
import {
  ChangeTenantPlanInput,
  CreateTenantInput,
  ListTenantsInput,
  PlanChange,
  RenameTenantInput,
  Tenant,
  TenantRef,
  TierMove,
  TierMoveRef,
} from "@vdb/schemas/tenants";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { addMember } from "./add-member";
import { createTenant } from "./create-tenant";
import { deleteTenant } from "./delete-tenant";
import { getTenant } from "./get-tenant";
import { getTierMove, watchLatestTierMove, watchTierMove } from "./get-tier-move";
import { inviteMember } from "./invite-member";
import { listMembers } from "./list-members";
import { listTenants } from "./list-tenants";
import { removeMember } from "./remove-member";
import { changeTenantPlan, renameTenant } from "./update-tenant";

export const tenantsRouter = {
  create: procedure
    .input(CreateTenantInput)
    .output(Tenant)
    .mutation(({ ctx, input }) => createTenant({ ctx: verbCtx(ctx), input })),
  list: procedure
    .input(ListTenantsInput)
    .output(pageOf(Tenant))
    .query(({ ctx, input }) => listTenants({ ctx: verbCtx(ctx), input })),
  get: procedure
    .input(TenantRef)
    .output(Tenant)
    .query(({ ctx, input }) => getTenant({ ctx: verbCtx(ctx), input })),
  changePlan: procedure
    .input(ChangeTenantPlanInput)
    .output(PlanChange)
    .mutation(({ ctx, input }) => changeTenantPlan({ ctx: verbCtx(ctx), input })),
  /** A tier move a plan change started (its id is in the plan change's answer). */
  getMove: procedure
    .input(TierMoveRef)
    .output(TierMove)
    .query(({ ctx, input }) => getTierMove({ ctx: verbCtx(ctx), input })),
  /** Live move progress over SSE, until it has finished. */
  onMoveProgress: procedure
    .input(TierMoveRef)
    .subscription(({ ctx, input, signal }) =>
      watchTierMove({ ctx: verbCtx(ctx), input, ...(signal ? { signal } : {}) }),
    ),
  /** The tenant's latest tier move (null: none), live over SSE: the console's "moving…". */
  onLatestMove: procedure
    .input(TenantRef)
    .subscription(({ ctx, input, signal }) =>
      watchLatestTierMove({ ctx: verbCtx(ctx), input, ...(signal ? { signal } : {}) }),
    ),
  rename: procedure
    .input(RenameTenantInput)
    .output(Tenant)
    .mutation(({ ctx, input }) => renameTenant({ ctx: verbCtx(ctx), input })),
  delete: procedure
    .input(TenantRef)
    .output(Deleted)
    .mutation(({ ctx, input }) => deleteTenant({ ctx: verbCtx(ctx), input })),
  addMember: procedure
    .input(AddMemberInput)
    .output(Membership)
    .mutation(({ ctx, input }) => addMember({ ctx: verbCtx(ctx), input })),
  listMembers: procedure
    .input(ListMembersInput)
    .output(MemberList)
    .query(({ ctx, input }) => listMembers({ ctx: verbCtx(ctx), input })),
  inviteMember: procedure
    .input(InviteMemberInput)
    .output(InvitedMember)
    .mutation(({ ctx, input }) => inviteMember({ ctx: verbCtx(ctx), input })),
  removeMember: procedure
    .input(RemoveMemberInput)
    .output(Removed)
    .mutation(({ ctx, input }) => removeMember({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
