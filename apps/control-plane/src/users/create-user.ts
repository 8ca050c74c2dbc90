import { AppError } from "@vdb/http/errors";
import { CreateUserInput, type User } from "@vdb/schemas/auth";
import { newId } from "@vdb/schemas/ids";
import { recordAudit } from "../audit/record-audit";
import { requireOperator } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { users } from "../lib/db/schema";
import { isUniqueViolation } from "../lib/errors";
import { hashPassword } from "../lib/secrets";
import { toUser } from "./to-user";

/** Creates a console user (operators only). Tenant access comes from memberships. */
export async function createUser({ ctx, input }: { ctx: Ctx; input: CreateUserInput }): Promise<User> {
  requireOperator(ctx.principal);
  const data = CreateUserInput.parse(input);
  return insertUser(ctx, data);
}

/**
 * Shared by `createUser`, `addUser` and the first-admin bootstrap (which has no caller to
 * authorize). `mustChangePassword`: the password is one the caller chose for someone else.
 */
export async function insertUser(
  ctx: Ctx,
  data: Omit<CreateUserInput, "password"> & ({ password: string } | { passwordHash: string }),
  { mustChangePassword = false }: { mustChangePassword?: boolean } = {},
): Promise<User> {
  const passwordHash =
    "passwordHash" in data
      ? data.passwordHash
      : await hashPassword(data.password, ctx.services.config.PASSWORD_HASH_COST);
  try {
    return await ctx.services.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(users)
        .values({
          id: newId("user"),
          email: data.email,
          name: data.name,
          passwordHash,
          isOperator: data.isOperator,
          mustChangePassword,
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      await recordAudit({
        ctx,
        db: tx,
        input: { tenantId: null, action: "user.create", targetId: row.id, metadata: { email: row.email } },
      });
      return toUser(row, []);
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError({ code: "CONFLICT", message: `A user with email "${data.email}" already exists` });
    }
    throw error;
  }
}
