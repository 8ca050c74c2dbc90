import { describe, expect, it } from "vitest";
import { jsonInPieces } from "./json-in-pieces";

async function readAll(stream: ReadableStream<Uint8Array>, onPiece: () => void = () => {}): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const piece of stream) {
    onPiece();
    text += decoder.decode(piece, { stream: true });
  }
  return text + decoder.decode();
}

const head = {
  id: "doc_1",
  title: 'Ünïcode "quoted" \n title',
  metadata: { a: 1, nested: { b: [true, null] } },
  progress: null,
};
const chunk = (index: number) => ({
  id: `doc_1:${index}`,
  index,
  text: `chunk ${index} — ✓ "text"`,
  page: null,
  heading: undefined,
});

describe("jsonInPieces", () => {
  it.each([0, 1, 99, 100, 101, 250])("writes exactly JSON.stringify's bytes for %i items", async (count) => {
    const items = Array.from({ length: count }, (_, index) => chunk(index));
    const text = await readAll(jsonInPieces(head, "chunks", items));
    expect(text).toBe(JSON.stringify({ ...head, chunks: items }));
  });

  it("lets other work run between pieces of a long array", async () => {
    const items = Array.from({ length: 1_000 }, (_, index) => chunk(index));
    let otherWorkRan = false;
    setImmediate(() => {
      otherWorkRan = true;
    });
    const seenBeforePiece: boolean[] = [];
    await readAll(jsonInPieces(head, "chunks", items), () => seenBeforePiece.push(otherWorkRan));
    // The opening piece comes first; the other work runs before the array is done.
    expect(seenBeforePiece[0]).toBe(false);
    expect(seenBeforePiece.at(-1)).toBe(true);
    expect(seenBeforePiece.length).toBeGreaterThan(10);
  });
});
