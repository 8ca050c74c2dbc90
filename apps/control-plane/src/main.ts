import { bindError } from "@vdb/http/processes";
import { serveApp } from "@vdb/http/serve";
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
  // Before the store opens: a taken port fails the start at once, not after initdb and the
  // migrations, and leaves no new store behind in DATA_DIR.
  const portError = await bindError(config.PORT, config.HOST);
  if (portError) failToStart(portProblem(portError, config.PORT, config.HOST));
  const services = await createServices(config);
  const admin = await ensureFirstAdmin(services);
  const app = createApp(services);
  const server = serveApp({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
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

  // Checked before the store opened too, but another program may have taken the port since.
  server.once("error", (error: NodeJS.ErrnoException) => {
    process.stderr.write(
      `VDB control plane failed to start: ${portProblem(error, config.PORT, config.HOST)}\n`,
    );
    void services.close({ stopInstances: false }).finally(() => process.exit(1));
  });

  exitOnSignals({
    logger: services.logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    close: async (signal) => {
      // No new requests; idle keep-alive connections go now, busy ones with the process.
      server.close();
      server.closeIdleConnections();
      await services.close({ stopInstances: stopsInstancesOn(config, signal) });
    },
  });
}

/** A port that cannot be taken is the user's to fix: which, and how. */
function portProblem(error: NodeJS.ErrnoException, port: number, host: string): string {
  return error.code === "EADDRINUSE"
    ? `port ${port} on ${host} is already in use (another VDB, or another program); choose another with PORT, e.g. PORT=${port + 1} npm start`
    : error.code === "EACCES"
      ? `port ${port} needs privileges this process lacks; choose one above 1023 with PORT`
      : error.message;
}

function failToStart(reason: string): never {
  process.stderr.write(`VDB control plane failed to start: ${reason}\n`);
  process.exit(1);
}

main().catch((error: unknown) => failToStart(error instanceof Error ? error.message : String(error)));
