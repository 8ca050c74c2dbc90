import { createJsonLogger } from "@vdb/http/log-destination";
import type pino from "pino";

export type Logger = pino.Logger;

/** JSON logs on stdout (a full disk or closed pipe drops lines, never stops the service); every request-scoped line carries `requestId` through a child logger. */
export function createLogger(level: string, tenantId?: string): Logger {
  return createJsonLogger({ service: "instance", level, base: tenantId ? { tenantId } : {} });
}
