import { loadConfig } from "./config";
import { isPostgresUrl } from "./lib/db/client";
import { exitOnSignals } from "./lib/shutdown";
import { createServices } from "./services";

/**
 * The ingestion worker as a process of its own (`pnpm --filter @vdb/control-plane worker`), for
 * deployments that scale it apart from the API: run the control plane with RUN_WORKER=false and
 * any number of these against the same PostgreSQL (DATABASE_URL). Jobs are leased, so workers
 * never run one job twice at once, and a crashed worker's jobs resume elsewhere.
 */
async function main() {
  // Files this process (and the instances it starts) creates are owner-only: DATA_DIR holds the
  // store, uploads and secrets. See lib/data-dir.ts for the files PGlite makes regardless.
  process.umask(0o077);
  const config = loadConfig({ ...process.env, RUN_WORKER: "true" });
  if (!isPostgresUrl(config.DATABASE_URL)) {
    throw new Error(
      "A separate worker needs a shared PostgreSQL: set DATABASE_URL (PGlite belongs to one process)",
    );
  }
  const services = await createServices(config);
  services.logger.info({ concurrency: config.WORKER_CONCURRENCY }, "ingestion worker running");
  exitOnSignals({
    logger: services.logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    close: () => services.close(),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `VDB worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
