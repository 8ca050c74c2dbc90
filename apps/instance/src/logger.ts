import pino from "pino";

export type Logger = pino.Logger;

/** JSON logs on stdout; every request-scoped line carries `requestId` through a child logger. */
export function createLogger(level: string, tenantId?: string): Logger {
  return pino({
    level,
    base: { service: "instance", ...(tenantId ? { tenantId } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
