import { request } from "node:http";

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface JsonRequestOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (malformed JSON, oversized bodies). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * One HTTP call for tests: JSON in, parsed JSON out (the text when it is not JSON, like a docs
 * page), whatever the status.
 *
 * @example
 * const created = await jsonRequest(url, "POST", "/tenants", { token, body: { name: "acme" } });
 * expect(created.status).toBe(201);
 */
// biome-ignore lint/suspicious/noExplicitAny: bodies are checked by the tests' assertions, not by types
export async function jsonRequest<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  opts: JsonRequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

export interface LargeBody {
  method?: string;
  headers?: Record<string, string>;
  /** Bytes sent first (a multipart part's header, say). */
  head?: string;
  /** Bytes sent last. */
  tail?: string;
  /** The whole body's length, head and tail included: filled with "a"s between them. */
  totalBytes: number;
  /**
   * Stop writing once the whole answer has arrived, as fetch() and browsers do, instead of
   * writing on until the server closes the connection (which a lingering close delays by up to
   * two seconds). Default false: the careless client.
   */
  stopWhenAnswered?: boolean;
}

export interface SentLargeBody {
  /** The answer's status and text; absent when the connection failed before one arrived. */
  status?: number;
  text?: string;
  /** The connection's error code (EPIPE, ECONNRESET) when no answer arrived. */
  error?: string;
  /** Bytes of the body the server took off the socket before the connection closed. */
  bytesSent: number;
}

/**
 * Sends a large body 64 KB at a time as fast as the server reads it, and keeps writing after an
 * early answer, as a careless client does: writing stops when the whole body is sent or the
 * connection closes (or, with `stopWhenAnswered`, once the answer is in). Settles with the
 * answer, or with the connection's error when none came.
 *
 * @example
 * const sent = await sendLargeBody(`${url}/files`, { totalBytes: 64 * MB });
 * expect(sent.status).toBe(413);
 */
export function sendLargeBody(url: string, opts: LargeBody): Promise<SentLargeBody> {
  const head = Buffer.from(opts.head ?? "");
  const tail = Buffer.from(opts.tail ?? "");
  let bytesSent = 0;
  const req = request(url, {
    method: opts.method ?? "POST",
    headers: { ...opts.headers, "content-length": String(opts.totalBytes) },
  });
  const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  answered.catch(() => {}); // awaited below, after the writing
  // A write still pending when the connection closes never calls back: the close settles it
  // (and, with `stopWhenAnswered`, so does the answer: a server that answered reads no more).
  const closed = new Promise<boolean>((resolve) => {
    req.once("close", () => resolve(false));
    if (opts.stopWhenAnswered) answered.finally(() => resolve(false)).catch(() => {});
  });
  const write = (chunk: Buffer) =>
    req.destroyed
      ? Promise.resolve(false)
      : Promise.race([
          closed,
          new Promise<boolean>((done) =>
            req.write(chunk, (error) => {
              if (!error) bytesSent += chunk.length;
              done(!error);
            }),
          ),
        ]);
  return (async () => {
    if (await write(head)) {
      const chunk = Buffer.alloc(64 * 1024, 97);
      let left = opts.totalBytes - head.length - tail.length;
      for (; left > 0; left -= chunk.length) {
        if (!(await write(left >= chunk.length ? chunk : chunk.subarray(0, left)))) break;
      }
      if (left <= 0 && !req.destroyed) req.end(tail);
      else if (opts.stopWhenAnswered && !req.destroyed) req.destroy(); // stopped by the answer
    }
    try {
      return { ...(await answered), bytesSent };
    } catch (error) {
      return { error: (error as NodeJS.ErrnoException).code ?? String(error), bytesSent };
    }
  })();
}
