import type { AddressInfo } from "node:net";
import path from "node:path";
import { ChromaSupervisor } from "./chroma-supervisor";
import { loadInstanceConfig, poolHnswCacheCapacity } from "./config";
import { createLogger } from "./logger";

/**
 * Starts one tenant's instance: its own Chroma (unless CHROMA_URL names one), the embedding
 * model, then the HTTP API. Exits 0 on SIGTERM/SIGINT after stopping Chroma.
 *
 * Chroma starts first, before the rest of the instance's modules are even loaded, and comes up
 * while they load and the model warms: a restart after a crash waits for the slowest of these,
 * not for their sum.
 *
 * If its Chroma dies, the instance starts it again in place (at once, then with backoff if it
 * keeps dying); meanwhile /healthz reports `degraded` and data requests get 503 + Retry-After.
 * Only when every attempt failed does it exit 1, for its supervisor (the local runtime, ECS) to
 * replace the pair.
 */
async function main() {
  // Chroma's files (its child process inherits this) are the tenant's data: owner-only.
  process.umask(0o077);
  const config = loadInstanceConfig();
  const logger = createLogger(config.LOG_LEVEL, config.TENANT_ID);

  let stopping = false;
  let chroma: ChromaSupervisor | null = null;
  let closeRest: (() => Promise<unknown>) | null = null;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, "stopping");
    await Promise.all([chroma?.stop(), closeRest?.()]);
    process.exit(exitCode);
  };

  // Registered before Chroma starts: a stop during start-up still ends in a clean exit (and the
  // exit takes the half-started Chroma with it).
  process.on("SIGTERM", () => void stop("SIGTERM", 0));
  process.on("SIGINT", () => void stop("SIGINT", 0));

  const chromaDataDir = path.join(config.DATA_DIR, "chroma");
  const chromaStarted = config.CHROMA_URL
    ? Promise.resolve(null)
    : ChromaSupervisor.start({
        path: chromaDataDir,
        logger,
        // A pool's Chroma keeps a bounded number of indexes loaded (see POOL_CHROMA_INDEX_MEMORY_MB).
        ...(config.POOL_ID ? { hnswCacheCapacity: poolHnswCacheCapacity(config) } : {}),
        onGiveUp: () => void stop("Chroma keeps exiting", 1),
      });
  // Not awaited yet: a failure surfaces below (and must not count as unhandled meanwhile).
  chromaStarted.catch(() => undefined);

  const [{ serveApp }, { createEmbeddingProvider }, { createInstanceApp }] = await Promise.all([
    import("@vdb/http/serve"),
    import("@vdb/embeddings/create-provider"),
    import("./app"),
  ]);
  const provider = createEmbeddingProvider({
    model: config.MODEL_NAME,
    dimension: config.DIMENSION,
    openai: { apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL },
    workers: config.EMBED_WORKERS,
    bulkNiceness: config.EMBED_BULK_NICENESS,
  });
  let server: ReturnType<typeof serveApp> | null = null;
  let saveState: (() => Promise<void>) | null = null;
  closeRest = async () => {
    server?.close();
    // Needs no Chroma (a write holding the lock fails once Chroma stops, and lets go of it).
    await saveState?.().catch((error: unknown) =>
      logger.error({ err: error }, "could not save the keyword indexes; the next start rebuilds them"),
    );
    await provider.close?.();
  };
  // Load the offline model now (in the first worker thread), so the first request does not pay for it.
  const [started] = await Promise.all([
    chromaStarted,
    config.MODEL_NAME === "use-lite" ? provider.embed(["warm-up"]) : null,
  ]);
  chroma = started;
  const chromaUrl = config.CHROMA_URL ?? chroma!.url;
  const app = createInstanceApp({
    config,
    chromaUrl,
    provider,
    logger,
    isChromaAvailable: () => chroma?.isAvailable() ?? true,
    ...(config.CHROMA_URL ? {} : { chromaDataDir }),
  });
  saveState = app.saveState;
  server = serveApp({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info: AddressInfo) => {
    const host = config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST;
    // Printed whatever LOG_LEVEL says: supervisors read the URL (and chosen port) from it.
    logger.child({}, { level: "info" }).info(
      {
        url: `http://${host}:${info.port}`,
        port: info.port,
        pid: process.pid,
        chroma: chroma ? { url: chroma.url, pid: chroma.pid } : { url: config.CHROMA_URL },
        model: provider.name,
        dimension: provider.dimension,
      },
      "instance listening",
    );
  });
  server.on("error", (error) => {
    logger.fatal({ err: error }, "HTTP server failed");
    void stop("HTTP server failed", 1);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `VDB instance failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
