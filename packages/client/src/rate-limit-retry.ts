/**
 * A `fetch` that, when the control plane answers 429 (an API key over its plan's requests per
 * second), waits as its `Retry-After` says and sends the request again; every other answer
 * passes through. Request bodies must be re-sendable (strings, bytes), as the client's are.
 *
 * @example
 * const vdb = createVdbClient({ url, apiKey }, { fetch: withRateLimitRetry(fetch, { maxRetries: 3 }) });
 */
export function withRateLimitRetry(
  fetchImpl: typeof fetch = globalThis.fetch,
  opts: { maxRetries?: number; maxWaitMs?: number } = {},
): typeof fetch {
  const maxRetries = opts.maxRetries ?? 5;
  const maxWaitMs = opts.maxWaitMs ?? 10_000;
  return async (input, init) => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetchImpl(input, init);
      if (response.status !== 429 || attempt >= maxRetries) return response;
      const retryAfter = Number(response.headers.get("retry-after"));
      const waitMs = Math.min(maxWaitMs, retryAfter > 0 ? retryAfter * 1000 : 250 * 2 ** attempt);
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  };
}
