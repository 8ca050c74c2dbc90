import type { Scope } from "@vdb/schemas/auth";
import { eq, sql } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import type { Database } from "../lib/db/client";
import { apiKeys, authInvalidations } from "../lib/db/schema";
import type { Logger } from "../lib/logger";
import { hashSecret } from "../lib/secrets";

export interface VerifiedKey {
  keyId: string;
  tenantId: string;
  scopes: Scope[];
}

type Entry = { found: true; key: VerifiedKey; expiresAt: number | null; revoked: boolean } | { found: false };

const MAX_ENTRIES = 50_000;
const NEGATIVE_TTL_MS = 2_000;
const LAST_USED_FLUSH_MS = 5_000;

export type KeyCheck =
  | { ok: true; key: VerifiedKey }
  | { ok: false; reason: "unknown" | "revoked" | "expired" };

/**
 * Verifies API keys from memory. A key is read from the store once, then trusted for `ttlMs`;
 * revocations reach every process through `auth_invalidations`, polled every `pollMs`, so a
 * revoked key stops working within about one poll interval without a store read per request.
 */
export class ApiKeyCache {
  /** By secret hash; concurrent first uses of one key share a single store read (`fetch`). */
  private readonly entries: LRUCache<string, Entry>;
  private readonly lastUsed = new Map<string, Date>();
  private readonly seenInvalidations = new Set<number>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly opts: { ttlMs: number; pollMs: number; now?: () => number },
  ) {
    this.entries = new LRUCache<string, Entry>({
      max: MAX_ENTRIES,
      ttl: opts.ttlMs,
      fetchMethod: async (hash, _stale, { options }) => {
        const entry = await this.read(hash);
        // A secret nobody holds is asked again soon: it may be a key created a moment ago elsewhere.
        if (!entry.found) options.ttl = NEGATIVE_TTL_MS;
        return entry;
      },
    });
  }

  start(): void {
    this.timers.push(setInterval(() => void this.pollInvalidations(), this.opts.pollMs).unref());
    this.timers.push(setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS).unref());
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.flushLastUsed();
  }

  async check(secret: string): Promise<KeyCheck> {
    const entry = await this.entries.fetch(hashSecret(secret));
    const now = (this.opts.now ?? Date.now)();
    if (!entry?.found) return { ok: false, reason: "unknown" };
    if (entry.revoked) return { ok: false, reason: "revoked" };
    if (entry.expiresAt !== null && entry.expiresAt <= now) return { ok: false, reason: "expired" };
    this.lastUsed.set(entry.key.keyId, new Date(now));
    return { ok: true, key: entry.key };
  }

  /** Drops what this process knows of a key (the poller does the same for other processes). */
  forgetKey(keyId: string): void {
    this.forgetWhere((key) => key.keyId === keyId);
  }

  forgetTenant(tenantId: string): void {
    this.forgetWhere((key) => key.tenantId === tenantId);
  }

  private forgetWhere(matches: (key: VerifiedKey) => boolean): void {
    const hashes = [...this.entries.entries()].filter(([, entry]) => entry.found && matches(entry.key));
    for (const [hash] of hashes) this.entries.delete(hash);
  }

  private async read(hash: string): Promise<Entry> {
    const [row] = await this.db
      .select({
        id: apiKeys.id,
        tenantId: apiKeys.tenantId,
        scopes: apiKeys.scopes,
        expiresAt: apiKeys.expiresAt,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, hash))
      .limit(1);
    return row
      ? {
          found: true,
          key: { keyId: row.id, tenantId: row.tenantId, scopes: row.scopes },
          expiresAt: row.expiresAt?.getTime() ?? null,
          revoked: row.revokedAt !== null,
        }
      : { found: false };
  }

  /** Reads invalidations younger than the cache TTL: older ones cannot match a live entry. */
  async pollInvalidations(): Promise<void> {
    try {
      const windowSeconds = Math.ceil(this.opts.ttlMs / 1000) + 10;
      const rows = await this.db
        .select({
          id: authInvalidations.id,
          keyId: authInvalidations.keyId,
          tenantId: authInvalidations.tenantId,
        })
        .from(authInvalidations)
        .where(sql`${authInvalidations.createdAt} > now() - make_interval(secs => ${windowSeconds})`);
      const live = new Set<number>();
      for (const row of rows) {
        live.add(row.id);
        if (this.seenInvalidations.has(row.id)) continue;
        this.seenInvalidations.add(row.id);
        if (row.keyId) this.forgetKey(row.keyId);
        if (row.tenantId) this.forgetTenant(row.tenantId);
      }
      for (const id of this.seenInvalidations) if (!live.has(id)) this.seenInvalidations.delete(id);
    } catch (error) {
      this.logger.warn({ err: error }, "polling auth invalidations failed; will retry");
    }
  }

  /** Writes last-used times in one statement per flush, not one per request. */
  async flushLastUsed(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const batch = [...this.lastUsed].map(([id, at]) => ({ id, at: at.toISOString() }));
    this.lastUsed.clear();
    try {
      await this.db.execute(sql`
        update api_keys as k set last_used_at = greatest(k.last_used_at, v.at)
        from json_to_recordset(${JSON.stringify(batch)}::json) as v(id text, at timestamptz)
        where k.id = v.id`);
    } catch (error) {
      this.logger.warn({ err: error }, "writing API key last-used times failed");
    }
  }
}
