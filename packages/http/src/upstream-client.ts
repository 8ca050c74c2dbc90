import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";

/** How long an unused kept-alive connection stays open, at most (see createUpstreamClient). */
const IDLE_TIMEOUT_MS = 4_000;

/** An upstream's answer, read whole. */
export interface UpstreamReply {
  status: number;
  /** The answer's `Content-Type`, when it sent one. */
  contentType: string | undefined;
  /** The answer's `Retry-After` (a refusal's "come back in"), when it sent one. */
  retryAfter: string | undefined;
  text: string;
}

export interface UpstreamRequest {
  method: string;
  headers?: Record<string, string>;
  /** Sent as UTF-8, with its `Content-Length`. */
  body?: string;
}

/** A request whose body is bytes already in hand or a stream, sent as it comes. */
export interface UpstreamStreamRequest {
  method: string;
  headers?: Record<string, string>;
  /** A Buffer goes with its `Content-Length`; a stream is piped (chunked unless headers give a length). */
  body?: Buffer | Readable;
}

/** An upstream's answer as it arrives: status and headers now, the body as a stream. */
export interface UpstreamStream {
  status: number;
  contentType: string | undefined;
  retryAfter: string | undefined;
  /** Read it to the end or `destroy()` it: an unread answer holds its connection. */
  body: Readable;
}

export interface UpstreamClient {
  /**
   * One call to `url` (`http:` or `https:`: a tenant's instance may use a hosted Chroma).
   * Resolves with any status; rejects when the upstream cannot be reached, closes the connection early, or
   * is silent for longer than the timeout.
   */
  request(url: string, init: UpstreamRequest): Promise<UpstreamReply>;
  /**
   * One call whose body and answer are streamed, so a large one is never held whole: resolves
   * with the answer's status once its headers arrive. Rejects as `request` does, and when a
   * streamed body fails (its error is the rejection).
   */
  open(url: string, init: UpstreamStreamRequest): Promise<UpstreamStream>;
  /** Closes the kept-alive connections. */
  close(): void;
}

/**
 * A client for the hops between our own services (control plane → instance → Chroma) over
 * kept-alive `node:http` (or `node:https`) connections. Not fetch and not undici: on these hot
 * paths bench/search measured both as slower per call (fetch builds a Request, Headers, an
 * AbortSignal and a web stream per call; undici's pool sends each request from a setImmediate).
 *
 * @example
 * const chroma = createUpstreamClient({ maxSockets: 32, timeoutMs: 30_000 });
 * const reply = await chroma.request(`${chromaUrl}/api/v2/heartbeat`, { method: "GET" });
 */
export function createUpstreamClient(opts: {
  maxSockets: number;
  timeoutMs: number;
  /** How long a kept-alive connection may stay idle before we close it; 4 s by default. */
  idleTimeoutMs?: number;
}): UpstreamClient {
  // An idle connection is closed by us before the server would close it: a request sent on a
  // connection the server is closing at that moment fails, and these POSTs are not retried.
  // Node's agent honours a server's `Keep-Alive: timeout=N` hint (closing 1 s before it) only when
  // it has an idle timeout of its own; Node servers announce 5 s.
  const agentOptions = {
    keepAlive: true,
    maxSockets: opts.maxSockets,
    timeout: opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
  };
  const plain = new http.Agent(agentOptions);
  const tls = new https.Agent(agentOptions);
  return {
    request(url, init) {
      return new Promise<UpstreamReply>((resolve, reject) => {
        const body = init.body === undefined ? undefined : Buffer.from(init.body, "utf8");
        const secure = url.startsWith("https:");
        const outgoing = (secure ? https : http).request(
          url,
          {
            agent: secure ? tls : plain,
            method: init.method,
            timeout: opts.timeoutMs,
            headers: { ...init.headers, ...(body ? { "content-length": String(body.length) } : {}) },
          },
          (answer) => {
            const parts: Buffer[] = [];
            answer.on("data", (chunk: Buffer) => parts.push(chunk));
            answer.on("error", reject);
            // After "end" this is a no-op; before it, the connection went away mid-answer.
            answer.on("close", () => {
              if (!answer.complete) reject(new Error(`${url}: the answer was cut off`));
            });
            answer.on("end", () =>
              resolve({
                status: answer.statusCode ?? 502,
                contentType: answer.headers["content-type"],
                retryAfter: answer.headers["retry-after"],
                text: Buffer.concat(parts).toString("utf8"),
              }),
            );
          },
        );
        outgoing.on("timeout", () =>
          outgoing.destroy(new Error(`${url}: no answer within ${opts.timeoutMs} ms`)),
        );
        outgoing.on("error", reject);
        outgoing.end(body);
      });
    },
    open(url, init) {
      return new Promise<UpstreamStream>((resolve, reject) => {
        const secure = url.startsWith("https:");
        const { body } = init;
        const outgoing = (secure ? https : http).request(
          url,
          {
            agent: secure ? tls : plain,
            method: init.method,
            timeout: opts.timeoutMs,
            headers: {
              ...init.headers,
              ...(Buffer.isBuffer(body) ? { "content-length": String(body.length) } : {}),
            },
          },
          (answer) => {
            // The timeout covered the wait for headers; the caller reads the body at its own pace.
            outgoing.setTimeout(0);
            resolve({
              status: answer.statusCode ?? 502,
              contentType: answer.headers["content-type"],
              retryAfter: answer.headers["retry-after"],
              body: answer,
            });
          },
        );
        outgoing.on("timeout", () =>
          outgoing.destroy(new Error(`${url}: no answer within ${opts.timeoutMs} ms`)),
        );
        outgoing.on("error", reject);
        if (body instanceof Readable) {
          // A failing source (a client that went away mid-upload) must not leave a half-sent request open.
          body.on("error", (error) => outgoing.destroy(error));
          body.pipe(outgoing);
        } else {
          outgoing.end(body);
        }
      });
    },
    close() {
      plain.destroy();
      tls.destroy();
    },
  };
}
