import { z } from "zod";

/** What a call that only succeeds or fails answers: `{ ok: true }`. */
export const Ok = z.object({ ok: z.literal(true) });
export type Ok = z.infer<typeof Ok>;

/** What a delete answers: `{ deleted: true }`. */
export const Deleted = z.object({ deleted: z.literal(true) });
export type Deleted = z.infer<typeof Deleted>;

/** What removing a member answers: `{ removed: true }`. */
export const Removed = z.object({ removed: z.literal(true) });
export type Removed = z.infer<typeof Removed>;
