import type { TRPCRouterRecord } from "@trpc/server";
import { AddMemberInput } from "@vdb/schemas/auth";
import {
  ChangeTenantPlanInput,
  CreateTenantInput,
  ListTenantsInput,
  RenameTenantInput,
  TenantRef,
} from "@vdb/schemas/tenants";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { addMember } from "./add-member";
import { createTenant } from "./create-tenant";
import { deleteTenant } from "./delete-tenant";
import { getTenant } from "./get-tenant";
import { listTenants } from "./list-tenants";
import { changeTenantPlan, renameTenant } from "./update-tenant";

export const tenantsRouter = {
  create: procedure
    .input(CreateTenantInput)
    .mutation(({ ctx, input }) => createTenant({ ctx: verbCtx(ctx), input })),
  list: procedure
    .input(ListTenantsInput)
    .query(({ ctx, input }) => listTenants({ ctx: verbCtx(ctx), input })),
  get: procedure.input(TenantRef).query(({ ctx, input }) => getTenant({ ctx: verbCtx(ctx), input })),
  changePlan: procedure
    .input(ChangeTenantPlanInput)
    .mutation(({ ctx, input }) => changeTenantPlan({ ctx: verbCtx(ctx), input })),
  rename: procedure
    .input(RenameTenantInput)
    .mutation(({ ctx, input }) => renameTenant({ ctx: verbCtx(ctx), input })),
  delete: procedure.input(TenantRef).mutation(({ ctx, input }) => deleteTenant({ ctx: verbCtx(ctx), input })),
  addMember: procedure
    .input(AddMemberInput)
    .mutation(({ ctx, input }) => addMember({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
