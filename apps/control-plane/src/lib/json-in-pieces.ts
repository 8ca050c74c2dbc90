import { yieldToEventLoop } from "./concurrency";

/** Array items serialized per piece: a few hundred kB of text at most for chunk-sized items. */
const ITEMS_PER_PIECE = 100;

/**
 * The bytes of `JSON.stringify({ ...head, [key]: items })`, produced a piece at a time with a turn
 * of the event loop between pieces. A document's thousands of chunks (megabytes of text) would
 * otherwise be stringified, encoded and written in one synchronous step, holding every other
 * request on this process for that long. `toItem` maps each item as its piece is written (a
 * schema's parse, say).
 *
 * @example
 * return c.body(jsonInPieces(document, "chunks", chunks), 200, { "content-type": "application/json" });
 */
export function jsonInPieces(
  head: Record<string, unknown>,
  key: string,
  items: readonly unknown[],
  toItem: (item: unknown) => unknown = (item) => item,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const headText = JSON.stringify({ ...head, [key]: undefined });
  // `{...}` without its closing brace, then the array as its last field (JSON.stringify's order).
  const opening = `${headText.slice(0, -1)}${headText === "{}" ? "" : ","}${JSON.stringify(key)}:[`;
  let next = -1;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next === -1) {
        next = 0;
        controller.enqueue(encoder.encode(opening));
        return;
      }
      if (next >= items.length) {
        controller.enqueue(encoder.encode("]}"));
        controller.close();
        return;
      }
      await yieldToEventLoop();
      const piece = items
        .slice(next, next + ITEMS_PER_PIECE)
        .map((item) => JSON.stringify(toItem(item)) ?? "null");
      controller.enqueue(encoder.encode((next === 0 ? "" : ",") + piece.join(",")));
      next += ITEMS_PER_PIECE;
    },
  });
}
