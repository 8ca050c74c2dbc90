import { AppError } from "@vdb/http/errors";
import { eq } from "drizzle-orm";
import type { Ctx } from "../lib/context";
import { sessions } from "../lib/db/schema";
import { hashSecret } from "../lib/secrets";

/** Ends the session whose token is given; its token stops working at once. */
export async function logout({ ctx, input }: { ctx: Ctx; input: { token: string } }): Promise<{ ok: true }> {
  if (ctx.principal?.kind !== "user") {
    throw new AppError({ code: "UNAUTHORIZED", message: "Log out needs a session token" });
  }
  await ctx.services.db.delete(sessions).where(eq(sessions.tokenHash, hashSecret(input.token)));
  return { ok: true };
}
