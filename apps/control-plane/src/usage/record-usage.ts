import { newId } from "@vdb/schemas/ids";
import type { UsageKind } from "@vdb/schemas/usage";
import type { Database } from "../lib/db/client";
import { usageEvents } from "../lib/db/schema";
import type { Logger } from "../lib/logger";

export interface UsageEventInput {
  tenantId: string;
  kind: UsageKind;
  /** A whole number ≥ 0 (0 is not stored): 1 search, 12 chunks, 3,400 tokens. */
  quantity: number;
  metadata?: Record<string, unknown>;
  /** When it happened; default now. */
  at?: Date;
}

// usage_events.quantity is a PostgreSQL integer.
const MAX_QUANTITY = 2_147_483_647;

/** A bad quantity is a bug in the caller: fail loudly where it is made, not in a later batch. */
function checkQuantity(quantity: number): void {
  if (!Number.isInteger(quantity) || quantity < 0 || quantity > MAX_QUANTITY) {
    throw new RangeError(`usage quantity must be a whole number from 0 to ${MAX_QUANTITY}, not ${quantity}`);
  }
}

function toRow(event: UsageEventInput): typeof usageEvents.$inferInsert {
  checkQuantity(event.quantity);
  return {
    id: newId("usage"),
    tenantId: event.tenantId,
    kind: event.kind,
    quantity: event.quantity,
    metadata: event.metadata ?? {},
    createdAt: event.at ?? new Date(),
  };
}

/**
 * Stores usage events now, in one INSERT. Pass a transaction as `db` to count work if and only
 * if it commits (ingestion). For per-request events on hot paths use a `UsageRecorder`.
 *
 * @example
 * await recordUsage(tx, { tenantId, kind: "ingest.chunks", quantity: pieces.length });
 */
export async function recordUsage(db: Database, events: UsageEventInput | UsageEventInput[]): Promise<void> {
  const rows = (Array.isArray(events) ? events : [events]).filter((e) => e.quantity !== 0).map(toRow);
  if (rows.length > 0) await db.insert(usageEvents).values(rows);
}

export interface UsageRecorderOptions {
  db: Database;
  logger: Logger;
  /** How often buffered events are written (default 1 s). */
  flushIntervalMs?: number;
  /** Events buffered before a write is started early (default 5,000; each is 6 bind parameters of 65,535). */
  maxBatch?: number;
  now?: () => Date;
}

/**
 * Buffers usage events in memory and writes each batch in one INSERT (every second, when
 * `maxBatch` is reached, and on `stop`), so metering a search costs no database round trip.
 * Events without metadata are merged per tenant, kind and UTC day: a burst of 1,000 searches
 * becomes one row with quantity 1,000.
 *
 * Best effort: a failed write is logged and its events are dropped, not retried (an event of
 * a tenant deleted meanwhile would fail every retry of its batch). Events still buffered when
 * the process dies are lost: at most one interval's worth.
 *
 * @example
 * const usage = new UsageRecorder({ db, logger });
 * usage.start();
 * usage.record({ tenantId, kind: "search", quantity: 1 });
 * await usage.stop(); // writes what is left
 */
export class UsageRecorder {
  private readonly db: Database;
  private readonly logger: Logger;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly now: () => Date;
  /** Merged events (no metadata), by tenant|kind|day. */
  private merged = new Map<string, UsageEventInput>();
  private detailed: UsageEventInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly writes = new Set<Promise<number>>();

  constructor(opts: UsageRecorderOptions) {
    this.db = opts.db;
    this.logger = opts.logger;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1_000;
    this.maxBatch = opts.maxBatch ?? 5_000;
    this.now = opts.now ?? (() => new Date());
  }

  /** Events waiting to be written (merged ones count once). */
  get pending(): number {
    return this.merged.size + this.detailed.length;
  }

  /** Buffers one event; never touches the database on the caller's path. */
  record(event: UsageEventInput): void {
    checkQuantity(event.quantity);
    if (event.quantity === 0) return;
    const stamped = { ...event, at: event.at ?? this.now() };
    if (event.metadata && Object.keys(event.metadata).length > 0) {
      this.detailed.push(stamped);
    } else {
      const key = `${event.tenantId}|${event.kind}|${stamped.at.toISOString().slice(0, 10)}`;
      const existing = this.merged.get(key);
      if (existing && existing.quantity + event.quantity <= MAX_QUANTITY) existing.quantity += event.quantity;
      else {
        // A full merged row is sent as it is; the key starts again.
        if (existing) this.detailed.push(existing);
        this.merged.set(key, { ...stamped, metadata: {} });
      }
    }
    if (this.pending >= this.maxBatch) void this.flush();
  }

  /** Writes everything buffered in one INSERT; resolves with the rows written (0 on failure, which is logged). */
  flush(): Promise<number> {
    const events = [...this.detailed, ...this.merged.values()];
    this.detailed = [];
    this.merged = new Map();
    if (events.length === 0) return Promise.resolve(0);
    const write = this.db
      .insert(usageEvents)
      .values(events.map(toRow))
      .then(
        () => events.length,
        (error: unknown) => {
          this.logger.error(
            {
              err: error,
              events: events.length,
              tenants: [...new Set(events.map((e) => e.tenantId))].slice(0, 20),
            },
            "usage: writing a batch of events failed; they are dropped",
          );
          return 0;
        },
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
    return write;
  }

  /** Starts the periodic flush (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is buffered, waiting for writes already under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    await Promise.all([...this.writes]);
  }
}
