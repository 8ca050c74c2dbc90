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
