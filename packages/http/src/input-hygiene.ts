import { type Readable, Transform } from "node:stream";
import {
  type InputFlaw,
  inputFlaw,
  jsonByteScanner,
  MAX_JSON_DEPTH,
  stringFlaw,
} from "@vdb/schemas/input-hygiene";
import type { MiddlewareHandler } from "hono";
import { AppError } from "./errors";

function refused(flaw: InputFlaw, what: string): AppError {
  const path = flaw.path === "(input)" ? what : `${flaw.path}`;
  return new AppError({
    code: "VALIDATION_FAILED",
    message: `Invalid input: ${path} ${flaw.message}`,
    issues: [{ path, message: flaw.message }],
  });
}

/**
 * Throws VALIDATION_FAILED, naming the field, when `value` (parsed JSON, a form's fields, a
 * tRPC input) holds a NUL or a lone surrogate in any string or key, or nests past `maxDepth`.
 *
 * @example
 * assertCleanInput(await getRawInput()); // in a tRPC middleware
 */
export function assertCleanInput(value: unknown, what = "(body)", maxDepth = MAX_JSON_DEPTH): void {
  const flaw = inputFlaw(value, maxDepth);
  if (flaw) throw refused(flaw, what);
}

function isJsonBody(contentType: string | undefined): boolean {
  if (contentType === undefined) return true; // parsed as JSON by some routes all the same
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || type.endsWith("+json") || type === "text/plain";
}

/**
 * Throws VALIDATION_FAILED when a segment of the request's path, or a name or value of its
 * query, holds a NUL or a lone surrogate (after percent-decoding).
 *
 * @example
 * assertCleanRequestLine(c.req.path, c.req.url);
 */
export function assertCleanRequestLine(path: string, url: string): void {
  for (const segment of path.split("/")) {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // malformed percent-encoding: the route's own parsing refuses it
    }
    const flaw = stringFlaw(decoded);
    if (flaw) throw refused({ path: "(path)", message: `has a segment that ${flaw}` }, "(path)");
  }
  const query = url.indexOf("?");
  if (query === -1) return;
  for (const [name, value] of new URLSearchParams(url.slice(query + 1))) {
    const flaw = stringFlaw(name) ?? stringFlaw(value);
    if (flaw) throw refused({ path: `(query).${name}`, message: flaw }, "(query)");
  }
}

/**
 * `assertCleanInput` for a JSON body still in bytes (see jsonByteScanner): no parse, one pass.
 *
 * @example
 * assertCleanJsonBytes(Buffer.from(await c.req.arrayBuffer()));
 */
export function assertCleanJsonBytes(bytes: Uint8Array, what = "(body)"): void {
  const flaw = jsonByteScanner()(bytes);
  if (flaw) throw refused(flaw, what);
}

/**
 * A JSON body's stream, checked by jsonByteScanner as it passes (nothing is held): at the first
 * flaw the stream fails, so whatever it was piped into is cut off before the body's end, and
 * `flaw()` gives the VALIDATION_FAILED to answer with.
 *
 * @example
 * const checked = checkedJsonStream(body);
 * try { await send(checked.stream); } catch (error) { throw checked.flaw() ?? error; }
 */
export function checkedJsonStream(body: Readable): { stream: Readable; flaw: () => AppError | null } {
  const scan = jsonByteScanner();
  let found: AppError | null = null;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const flaw = scan(chunk);
      if (flaw) {
        found = refused(flaw, "(body)");
        done(found);
      } else done(null, chunk);
    },
  });
  body.on("error", (error) => stream.destroy(error));
  body.pipe(stream);
  return { stream, flaw: () => found };
}

/**
 * Holds every request to the input rules of `@vdb/schemas/input-hygiene` before any route
 * parses it: the path's segments, the query's names and values, and a JSON body (read once;
 * Hono keeps it for the route). A body that is not valid JSON is left to the route to refuse.
 * `skipBody` names requests whose bodies are files (streamed uploads) or streamed on whole
 * (Chroma's API, checked as it streams by checkedJsonStream): their path and query are still
 * checked.
 *
 * @example
 * app.use(rejectUncleanInput({ skipBody: (path) => path.startsWith("/api/v1/uploads/") }));
 */
export function rejectUncleanInput(opts: { skipBody?: (path: string) => boolean } = {}): MiddlewareHandler {
  return async (c, next) => {
    assertCleanRequestLine(c.req.path, c.req.url);
    const mayHaveBody =
      c.req.method !== "GET" &&
      c.req.method !== "HEAD" &&
      ((c.req.header("content-length") ?? "0") !== "0" || c.req.header("transfer-encoding") !== undefined);
    if (mayHaveBody && !opts.skipBody?.(c.req.path) && isJsonBody(c.req.header("content-type"))) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await c.req.text());
      } catch {
        return next(); // not JSON: the route decides what to make of it
      }
      assertCleanInput(parsed);
      // The route's `c.req.json()` gets this parse rather than a second one.
      c.req.bodyCache.json = Promise.resolve(parsed);
    }
    return next();
  };
}
