import type { AddressInfo } from "node:net";
import path from "node:path";
import { serve } from "@hono/node-server";
import { createEmbeddingProvider } from "@vdb/embeddings/create-provider";
import { createInstanceApp } from "./app";
import { type ChromaProcess, startChromaProcess } from "./chroma-process";
import { loadInstanceConfig } from "./config";
import { createLogger } from "./logger";

/**
 * Starts one tenant's instance: its own Chroma (unless CHROMA_URL names one), the embedding
 * model, then the HTTP API. Exits 0 on SIGTERM/SIGINT after stopping Chroma.
 *
 * If its Chroma dies, the instance exits 1 rather than limp on: its supervisor (the local
 * runtime, ECS) restarts the pair, which is the only repair there is. Until then /healthz
 * reports `degraded`.
 */
async function main() {
  // Chroma's files (its child process inherits this) are the tenant's data: owner-only.
  process.umask(0o077);
  const config = loadInstanceConfig();
  const logger = createLogger(config.LOG_LEVEL, config.TENANT_ID);
  const provider = createEmbeddingProvider({
    model: config.MODEL_NAME,
    dimension: config.DIMENSION,
    openai: { apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL },
    workers: config.EMBED_WORKERS,
  });
  // Load the offline model now (in the first worker thread), so the first request does not pay for it.
  if (config.MODEL_NAME === "use-lite") await provider.embed(["warm-up"]);

  let stopping = false;
  let chromaProcess: ChromaProcess | null = null;
  let server: ReturnType<typeof serve> | null = null;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, "stopping");
    server?.close();
    await Promise.all([chromaProcess?.stop(), provider.close?.()]);
    process.exit(exitCode);
  };

  // Registered before Chroma starts: a stop during start-up still ends in a clean exit (and the
  // exit takes the half-started Chroma with it).
  process.on("SIGTERM", () => void stop("SIGTERM", 0));
  process.on("SIGINT", () => void stop("SIGINT", 0));

  if (!config.CHROMA_URL) {
    chromaProcess = await startChromaProcess({
      path: path.join(config.DATA_DIR, "chroma"),
      logger,
      onUnexpectedExit: () => void stop("Chroma exited", 1),
    });
  }
  const chromaUrl = config.CHROMA_URL ?? chromaProcess!.url;
  const app = createInstanceApp({ config, chromaUrl, provider, logger });
  server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info: AddressInfo) => {
    const host = config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST;
    // Printed whatever LOG_LEVEL says: supervisors read the URL (and chosen port) from it.
    logger.child({}, { level: "info" }).info(
      {
        url: `http://${host}:${info.port}`,
        port: info.port,
        pid: process.pid,
        chroma: chromaProcess
          ? { url: chromaProcess.url, pid: chromaProcess.pid }
          : { url: config.CHROMA_URL },
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
