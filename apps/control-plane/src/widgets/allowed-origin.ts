/**
 * `value` when it is an http(s) origin exactly as browsers serialize it in the `Origin` header
 * (scheme and lower-case host, port only when not the default, no path), else null — including
 * the literal `null` that sandboxed frames and `file:` pages send.
 */
export function normalizeOrigin(value: string | null | undefined): string | null {
  if (!value || value === "null") return null;
  try {
    const url = new URL(value);
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    return url.origin === value ? value : null;
  } catch {
    return null;
  }
}

/**
 * Whether `origin` (an `Origin` header) is one of a widget's allowed origins. Matching is exact
 * on scheme, host and port: `https://example.com` does not allow `https://www.example.com`,
 * `http://example.com` or `https://example.com.evil.test`. No wildcards, on purpose: a widget
 * spends its tenant's quota, so every site that may do so is named.
 */
export function isOriginAllowed(
  allowedOrigins: readonly string[],
  origin: string | null | undefined,
): boolean {
  const normalized = normalizeOrigin(origin);
  if (!normalized) return false;
  return allowedOrigins.some((allowed) => normalizeOrigin(allowed) === normalized);
}
