import type { Logger } from "../logger";

/** The control plane's answer at `/.well-known/vdb-revoked-keys.json?tenant=…`. */
interface RevokedKeysReply {
  keys: string[];
  /** True while the tenant moves between tiers: direct callers' writes wait (see requireScope). */
  writesPaused?: boolean;
}

/**
 * The API keys of this tenant revoked (or expired) recently, as the control plane publishes them
 * beside its JWKS, so a token minted from a revoked key stops working here too. Read without a
 * timer: a request finding the list older than `refreshMs` refreshes it in the background, and
 * one finding it older than three times that (after a quiet spell) waits for the refresh. A
 * revoked key's tokens are therefore refused within about 2 × `refreshMs` under traffic, and
 * from the first request after a quiet spell. If the control plane cannot be reached, the last
 * list stays in force (a warning is logged): tokens are short-lived, so this fails towards what
 * verifying signatures alone would allow.
 */
export class RevokedKeys {
  private revoked = new Set<string>();
  private writesPaused = false;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly opts: { url: string; refreshMs: number; logger: Logger; now?: () => number },
  ) {}

  /** Whether `keyId` is revoked, with a list no older than described above. */
  async isRevoked(keyId: string): Promise<boolean> {
    const age = this.now() - this.fetchedAt;
    if (age > this.opts.refreshMs * 3) await this.refresh();
    else if (age > this.opts.refreshMs) void this.refresh();
    return this.revoked.has(keyId);
  }

  /**
   * Whether the tenant's writes are paused (a tier move copies its data), from the same answer,
   * read for a write no older than `refreshMs` (waiting for it otherwise): a move lets writes
   * settle for longer than that before it copies.
   */
  async areWritesPaused(): Promise<boolean> {
    if (this.now() - this.fetchedAt > this.opts.refreshMs) await this.refresh();
    return this.writesPaused;
  }

  /** One fetch at a time; its failure keeps the last list. */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetchList().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async fetchList(): Promise<void> {
    try {
      const response = await fetch(this.opts.url, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as RevokedKeysReply;
      if (!Array.isArray(body.keys)) throw new Error("no keys array");
      this.revoked = new Set(body.keys.filter((key) => typeof key === "string"));
      this.writesPaused = body.writesPaused === true;
    } catch (error) {
      this.opts.logger.warn(
        { err: error, url: this.opts.url },
        "revoked keys unreadable; keeping the last list",
      );
    }
    // A failure counts as a read too: an unreachable control plane is asked again after
    // refreshMs, not by every request.
    this.fetchedAt = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

/** Where the control plane publishes a tenant's revoked keys: beside its JWKS. */
export function revokedKeysUrl(jwksUrl: string, tenantId: string): string {
  const url = new URL("vdb-revoked-keys.json", jwksUrl);
  url.searchParams.set("tenant", tenantId);
  return url.toString();
}
