import { newId } from "@vdb/schemas/ids";
import type { Ctx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { auditLog } from "../lib/db/schema";

export interface AuditInput {
  tenantId: string | null;
  action: string;
  targetId?: string | null;
  metadata?: Record<string, unknown>;
}

/** Writes one audit entry, in the caller's transaction so it lands if and only if the change does. */
export async function recordAudit({
  ctx,
  db,
  input,
}: {
  ctx: Pick<Ctx, "principal" | "request">;
  db: Database;
  input: AuditInput;
}) {
  const principal = ctx.principal;
  await db.insert(auditLog).values({
    id: newId("audit"),
    tenantId: input.tenantId,
    actorType: principal ? principal.kind : "system",
    actorId: principal ? (principal.kind === "user" ? principal.userId : principal.keyId) : null,
    action: input.action,
    targetId: input.targetId ?? null,
    metadata: input.metadata ?? {},
    ip: ctx.request.ip,
    userAgent: ctx.request.userAgent,
    requestId: ctx.request.requestId,
  });
}
