import type { SigningKey } from "@vdb/schemas/tokens";
import { RetireSigningKeyInput } from "@vdb/schemas/tokens";
import type { z } from "zod";
import { recordAudit } from "../audit/record-audit";
import { requireOperator } from "../auth/authorize";
import type { Ctx } from "../lib/context";

export async function listSigningKeys({ ctx }: { ctx: Ctx }): Promise<SigningKey[]> {
  requireOperator(ctx.principal);
  return ctx.services.signingKeys.list();
}

/** Operators rotate: new tokens get the new key; tokens signed before keep verifying. */
export async function rotateSigningKey({ ctx }: { ctx: Ctx }): Promise<SigningKey> {
  requireOperator(ctx.principal);
  const key = await ctx.services.signingKeys.rotate();
  await recordAudit({
    ctx,
    db: ctx.services.db,
    input: { tenantId: null, action: "signing_key.rotate", targetId: key.kid },
  });
  return key;
}

export async function retireSigningKey({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.infer<typeof RetireSigningKeyInput>;
}): Promise<SigningKey> {
  requireOperator(ctx.principal);
  const { kid } = RetireSigningKeyInput.parse(input);
  const key = await ctx.services.signingKeys.retire(kid);
  await recordAudit({
    ctx,
    db: ctx.services.db,
    input: { tenantId: null, action: "signing_key.retire", targetId: kid },
  });
  return key;
}
