import { z } from "zod";

export const PageInput = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor: z.string().min(1).max(200).optional(),
});
export type PageInput = z.infer<typeof PageInput>;

/** A page of `item`s; `nextCursor` is null on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
