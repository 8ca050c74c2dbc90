import { describe, expect, it } from "vitest";
import { DocumentParseError } from "./document-parse-error";
import { makePdf, makeRelinkedDocx, makeZip } from "./fixtures";
import { type ParseDocumentInput, parseDocument } from "./parse-document";

const MB = 1024 * 1024;

async function failure(input: Partial<ParseDocumentInput> & { bytes: Uint8Array; filename: string }) {
  const error = await parseDocument({ maxBytes: 10 * MB, ...input }).catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(DocumentParseError);
  return error as DocumentParseError;
}

/** A DOCX-shaped ZIP whose document part inflates to `size` bytes of XML. */
function docxBomb(size: number, declaredSize?: number): Uint8Array {
  const filler = "<w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t>";
  const xml = filler.repeat(Math.ceil(size / filler.length)).slice(0, size);
  return makeZip([
    { name: "[Content_Types].xml", content: "<Types/>" },
    { name: "word/document.xml", content: xml, deflate: true, declaredSize },
  ]);
}

describe("work caps: hostile files fail fast with a reason", () => {
  it("a zip bomb that declares its size is refused before anything is inflated", async () => {
    const bomb = docxBomb(8 * MB);
    expect(bomb.length).toBeLessThan(100_000);
    // The reason gives the size the archive declares: it was read from the directory, not inflated.
    const error = await failure({ bytes: bomb, filename: "bomb.docx", limits: { maxUnzippedBytes: 4 * MB } });
    expect([error.kind, error.reason]).toEqual([
      "too_complex",
      "the Word document unpacks to 8 MB; VDB reads at most 4 MB",
    ]);
  });

  it("a zip bomb that lies about its size stops inflating at the declared size", async () => {
    const bomb = docxBomb(32 * MB, 1_000);
    const error = await failure({ bytes: bomb, filename: "liar.docx" });
    expect([error.kind, error.reason]).toEqual([
      "damaged",
      "the Word document is damaged and could not be read",
    ]);
  });

  it("a bomb in a part with any name counts: the main document relinked to word/document.bin", async () => {
    const bomb = makeRelinkedDocx(
      "word/document.bin",
      Array.from({ length: 100_000 }, () => "a".repeat(60)),
    );
    expect(bomb.length).toBeLessThan(MB);
    const error = await failure({
      bytes: bomb,
      filename: "relinked.docx",
      limits: { maxUnzippedBytes: 4 * MB },
    });
    expect([error.kind, error.reason]).toEqual([
      "too_complex",
      "the Word document unpacks to 9 MB; VDB reads at most 4 MB",
    ]);
  });

  it("the relinked main document is read, and images (never opened) do not count towards the cap", async () => {
    const docx = makeRelinkedDocx(
      "word/document.bin",
      ["Hello from a relinked part"],
      [{ name: "word/media/photo.png", content: new Uint8Array(8 * MB) }],
    );
    const document = await parseDocument({
      bytes: docx,
      filename: "photo.docx",
      maxBytes: 10 * MB,
      limits: { maxUnzippedBytes: 4 * MB },
    });
    expect(document.sections).toEqual([{ text: "Hello from a relinked part" }]);
  });

  it("HTML with 100,000 unclosed inline tags is read, its text whole", async () => {
    const html = `<html><body>${"<b>x".repeat(100_000)}`;
    const document = await parseDocument({
      bytes: new TextEncoder().encode(html),
      filename: "b.html",
      maxBytes: MB,
    });
    expect(
      document.sections
        .map((section) => section.text)
        .join("")
        .replaceAll(/\s/g, ""),
    ).toBe("x".repeat(100_000));
  });

  it("a PDF with more pages than allowed is refused before its pages are read", async () => {
    const pdf = await makePdf([["a"], ["b"], ["c"]]);
    const error = await failure({ bytes: pdf, filename: "long.pdf", limits: { maxPages: 2 } });
    expect([error.kind, error.reason]).toEqual(["too_complex", "the PDF has 3 pages; VDB reads at most 2"]);
  });

  it("a PDF that outruns its time budget is stopped between pages", async () => {
    const pdf = await makePdf([["a"], ["b"]]);
    const error = await failure({ bytes: pdf, filename: "slow.pdf", limits: { maxMillis: -1 } });
    expect(error.kind).toBe("too_complex");
    expect(error.reason).toMatch(/^reading the PDF took longer than 0 s \(stopped at page 1\)/);
  });

  it("more extracted text than allowed is refused, for PDFs page by page and for any other type", async () => {
    const pdf = await makePdf([["x".repeat(60)], ["y".repeat(60)]]);
    const limits = { maxCharacters: 100 };
    const reason = "the document holds more than 100 characters of text; split it into smaller files";
    expect((await failure({ bytes: pdf, filename: "a.pdf", limits })).reason).toBe(reason);
    const text = new TextEncoder().encode("word ".repeat(50));
    expect((await failure({ bytes: text, filename: "a.txt", limits })).reason).toBe(reason);
    const json = new TextEncoder().encode(JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => i) }));
    expect((await failure({ bytes: json, filename: "a.json", limits })).reason).toBe(reason);
  });

  it("HTML nested thousands of elements deep is read, not a stack overflow", async () => {
    const html = `${"<div>".repeat(20_000)}deep text${"</div>".repeat(20_000)}`;
    const document = await parseDocument({
      bytes: new TextEncoder().encode(html),
      filename: "d.html",
      maxBytes: MB,
    });
    expect(document.sections).toEqual([{ text: "deep text" }]);
  });
});
