import { PLANS } from "@vdb/schemas/plans";
import { auditRouter } from "../audit/router";
import { authRouter } from "../auth/router";
import { backupsRouter } from "../backups/router";
import { chatRouter } from "../chat/router";
import { dataPlaneRouter } from "../data-plane/router";
import { databasesRouter } from "../databases/router";
import { documentsRouter } from "../documents/router";
import { instancesRouter } from "../instances/router";
import { keysRouter } from "../keys/router";
import { tenantsRouter } from "../tenants/router";
import { tokensRouter } from "../tokens/router";
import { usageRouter } from "../usage/router";
import { usersRouter } from "../users/router";
import { widgetsRouter } from "../widgets/router";
import { procedure, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  tenants: tenantsRouter,
  keys: keysRouter,
  tokens: tokensRouter,
  instances: instancesRouter,
  documents: documentsRouter,
  backups: backupsRouter,
  databases: databasesRouter,
  dataPlane: dataPlaneRouter,
  chat: chatRouter,
  usage: usageRouter,
  audit: auditRouter,
  widgets: widgetsRouter,
  plans: procedure.query(() => PLANS),
});

/** The type the typed client is built on. */
export type AppRouter = typeof appRouter;
