import { AppError } from "@vdb/http/errors";
import { type AnyColumn, and, eq, ilike, lt, or, type SQL, sql } from "drizzle-orm";

/**
 * Keyset pagination over (createdAt, id): stable while rows are inserted, unlike offsets.
 * The cursor is opaque to callers; a tampered one is a clear 400, not a 500.
 */
export interface CursorPosition {
  createdAt: Date;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString("base64url");
}

export function decodeCursor(cursor: string | undefined): CursorPosition | null {
  if (cursor === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && typeof value[0] === "string" && typeof value[1] === "string") {
      const createdAt = new Date(value[0]);
      if (!Number.isNaN(createdAt.getTime())) return { createdAt, id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError({ code: "BAD_REQUEST", message: "cursor is not one this API returned" });
}

/** Given `limit + 1` rows, returns the page and the cursor of the next one. */
export function toPage<Row extends CursorPosition, Item>(
  rows: Row[],
  limit: number,
  map: (row: Row) => Item,
) {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return { items: pageRows.map(map), nextCursor: hasMore && last ? encodeCursor(last) : null };
}

/**
 * The rows after `cursor`'s position in newest-first order over (`createdAt`, `id`): older, or
 * as old with a smaller id. None for the first page (no cursor); a tampered cursor is a 400.
 *
 * @example
 * ```ts
 * const older = olderThanCursor(cursor, { createdAt: apiKeys.createdAt, id: apiKeys.id });
 * if (older) filters.push(older);
 * // … .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)).limit(limit + 1), then toPage
 * ```
 */
export function olderThanCursor(
  cursor: string | undefined,
  columns: { createdAt: AnyColumn; id: AnyColumn },
): SQL | undefined {
  const after = decodeCursor(cursor);
  if (!after) return undefined;
  return or(
    lt(columns.createdAt, after.createdAt),
    and(eq(columns.createdAt, after.createdAt), sql`${columns.id} < ${after.id}`),
  );
}

/** Rows where any of `columns` contains `search`, ignoring case; LIKE's `%`, `_` and `\` in it match themselves. */
export function containsIgnoringCase(columns: AnyColumn[], search: string): SQL {
  const pattern = `%${search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return or(...columns.map((column) => ilike(column, pattern))) as SQL;
}
