import { serve } from "@hono/node-server";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { exitOnSignals } from "./lib/shutdown";
import { createServices, stopsInstancesOn } from "./services";
import { ensureFirstAdmin } from "./users/ensure-first-admin";

/** Starts the control plane and prints where it is and how to log in. */
async function main() {
  // Files this process (and the instances it starts) creates are owner-only: DATA_DIR holds the
  // store, uploads and secrets. See lib/data-dir.ts for the files PGlite makes regardless.
  process.umask(0o077);
  const config = loadConfig();
  const services = await createServices(config);
  const admin = await ensureFirstAdmin(services);
  const app = createApp(services);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const url =
      config.PUBLIC_URL ?? `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${info.port}`;
    const store =
      services.store.kind === "postgres"
        ? "PostgreSQL (DATABASE_URL)"
        : config.DATABASE_URL === "memory://"
          ? "PGlite in memory (nothing is kept)"
          : `PGlite in ${config.DATA_DIR}/pglite`;
    const login = admin.password
      ? `  Log in as:   ${admin.email} / ${admin.password}   (shown once; the console asks you to choose your own at first login)`
      : admin.created
        ? `  Log in as:   ${admin.email} (password from VDB_ADMIN_PASSWORD)`
        : `  Log in as:   ${admin.email} (password from the first start; VDB_ADMIN_PASSWORD applies only then; lost it? npm run reset-password -- ${admin.email})`;
    process.stdout.write(
      [
        "",
        `VDB control plane is running at ${url}`,
        `  Console:     ${url}/`,
        `  API docs:    ${url}/api/v1/docs`,
        `  tRPC:        ${url}/trpc`,
        login,
        `  Store:       ${store}`,
        "",
      ].join("\n"),
    );
    services.logger.info({ url, port: info.port, store: services.store.kind }, "control plane listening");
  });

  // A port that cannot be taken is the user's to fix: say which and how, not a stack trace.
  server.once("error", (error: NodeJS.ErrnoException) => {
    const reason =
      error.code === "EADDRINUSE"
        ? `port ${config.PORT} on ${config.HOST} is already in use (another VDB, or another program); choose another with PORT, e.g. PORT=${config.PORT + 1} npm start`
        : error.code === "EACCES"
          ? `port ${config.PORT} needs privileges this process lacks; choose one above 1023 with PORT`
          : error.message;
    process.stderr.write(`VDB control plane failed to start: ${reason}\n`);
    void services.close({ stopInstances: false }).finally(() => process.exit(1));
  });

  exitOnSignals({
    logger: services.logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    close: async (signal) => {
      // No new requests; idle keep-alive connections go now, busy ones with the process.
      server.close();
      (server as import("node:http").Server).closeIdleConnections();
      await services.close({ stopInstances: stopsInstancesOn(config, signal) });
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `VDB control plane failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
