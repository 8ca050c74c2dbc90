import { AddUserInput, type UserWithTemporaryPassword } from "@vdb/schemas/auth";
import type { z } from "zod";
import { requireOperator } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { insertUser } from "./create-user";
import { newTemporaryPassword } from "./temporary-password";

/**
 * An operator adds a console user by email, with a temporary password returned once: the person's
 * first login must replace it. Tenant roles come after, from a tenant's Members screen (or invite
 * the person there in one step).
 */
export async function addUser({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof AddUserInput>;
}): Promise<UserWithTemporaryPassword> {
  requireOperator(ctx.principal);
  const { email, name, isOperator } = AddUserInput.parse(input);
  const { password, passwordHash } = await newTemporaryPassword(ctx.services.config.PASSWORD_HASH_COST);
  const user = await insertUser(
    ctx,
    { email, name: name ?? email.split("@")[0] ?? email, passwordHash, isOperator },
    { mustChangePassword: true },
  );
  return { user, temporaryPassword: password };
}
