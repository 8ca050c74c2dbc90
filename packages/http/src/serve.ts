import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";

/**
 * How long our servers keep an idle kept-alive connection open.
 *
 * Node's default is short: it announces 5 s and closes at 6 s. A client that sends a request on a
 * connection just as the server closes it gets ECONNRESET, and clients do not retry a POST.
 * This happens when the client's own idle timer runs late (a busy event loop), or when it keeps
 * connections longer than the server (a load balancer: AWS ALB keeps them 60 s and advises
 * targets to keep theirs longer).
 *
 * At 65 s the client closes first:
 * - a load balancer, at its own idle timeout;
 * - fetch (undici), which reads the `Keep-Alive: timeout=65` hint and closes a second or more
 *   before it; Node's agent does so only when it has an idle timeout of its own (ours do, see
 *   createUpstreamClient).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Serves a Hono app on Node, as `@hono/node-server`'s `serve` does, with idle connections kept
 * {@link KEEP_ALIVE_TIMEOUT_MS}.
 *
 * @example
 * const server = serveApp({ fetch: app.fetch, port: 8080, hostname: "0.0.0.0" }, (info) => log(info.port));
 */
export function serveApp(
  options: Parameters<typeof serve>[0],
  onListening?: (info: AddressInfo) => void,
): Server {
  const server = serve(options, onListening) as Server;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}
