import { describe, expect, it } from "vitest";
import { DocumentParseError } from "./document-parse-error";
import { makeDocx, makePdf, makeRandomBytes, makeZip } from "./fixtures";
import { type ParseDocumentInput, parseDocument } from "./parse-document";

const MB = 1024 * 1024;
const utf8 = (text: string) => new TextEncoder().encode(text);

/** The DocumentParseError a parse fails with; fails the test if it succeeds or throws anything else. */
async function failure(input: Partial<ParseDocumentInput> & { bytes: Uint8Array; filename: string }) {
  const error = await parseDocument({ maxBytes: 10 * MB, ...input }).then(
    (document) => {
      throw new Error(`parsed: ${JSON.stringify(document).slice(0, 200)}`);
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DocumentParseError);
  return error as DocumentParseError;
}

describe("refused files, each with a reason a person understands", () => {
  it("a truncated PDF is damaged, with no library text in the reason", async () => {
    const pdf = await makePdf([["One."], ["Two."], ["Three."]]);
    const error = await failure({ bytes: pdf.slice(0, Math.floor(pdf.length / 2)), filename: "cut.pdf" });
    expect(error.kind).toBe("damaged");
    expect(error.reason).toBe("the PDF is damaged and could not be read");
    expect(error.message).toBe(error.reason);
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.cause).toBeDefined();
  });

  it("a .pdf that is really text does not match its name", async () => {
    const error = await failure({
      bytes: utf8("Dear customer, your invoice is attached."),
      filename: "invoice.pdf",
    });
    expect([error.kind, error.reason]).toEqual(["type_mismatch", "the file says .pdf but is not a PDF"]);
  });

  it("a .txt that is really a PDF, and a .docx that is really text, do not match either", async () => {
    const pdf = await makePdf([["x"]]);
    expect((await failure({ bytes: pdf, filename: "notes.txt" })).reason).toBe(
      "the file says .txt but is a PDF",
    );
    expect((await failure({ bytes: utf8("hello"), filename: "memo.docx" })).reason).toBe(
      "the file says .docx but is not a Word document",
    );
  });

  it("an empty file", async () => {
    const error = await failure({ bytes: new Uint8Array(), filename: "empty.txt" });
    expect([error.kind, error.reason]).toEqual(["empty", "the file is empty"]);
  });

  it("a file over the plan's limit, sized in MB, as PAYLOAD_TOO_LARGE", async () => {
    const bytes = new Uint8Array(Math.round(12.3 * MB)).fill(0x61);
    const error = await failure({ bytes, filename: "big.txt", maxBytes: 10 * MB });
    expect([error.kind, error.reason]).toEqual(["too_large", "the file is 12.3 MB; the plan allows 10 MB"]);
    expect(error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("sizes just over the limit still read as different numbers", async () => {
    const error = await failure({
      bytes: new Uint8Array(10 * MB + 20_000),
      filename: "a.txt",
      maxBytes: 10 * MB,
    });
    expect(error.reason).toBe("the file is 10.02 MB; the plan allows 10 MB");
  });

  it("an .xlsx (a ZIP without word/document.xml) is unsupported, and refused as a .docx", async () => {
    const xlsx = makeZip([
      { name: "[Content_Types].xml", content: "<Types/>" },
      { name: "xl/workbook.xml", content: "<workbook/>" },
    ]);
    expect(await failure({ bytes: xlsx, filename: "budget.xlsx" })).toMatchObject({
      kind: "unsupported",
      reason: "unsupported file type (.xlsx)",
    });
    expect((await failure({ bytes: xlsx, filename: "budget.docx" })).reason).toBe(
      "the file says .docx but is not a Word document",
    );
    expect((await failure({ bytes: xlsx, filename: "budget" })).reason).toBe(
      "unsupported file type (a ZIP archive that is not a Word document)",
    );
  });

  it("random binary is unsupported by extension, not text when it claims to be, and unsupported unnamed", async () => {
    const bytes = makeRandomBytes(4_096);
    expect((await failure({ bytes, filename: "blob.bin" })).reason).toBe("unsupported file type (.bin)");
    expect((await failure({ bytes, filename: "notes.txt" })).reason).toBe(
      "the file says .txt but is not text",
    );
    expect((await failure({ bytes, filename: "upload" })).reason).toBe(
      "unsupported file type (binary data, not a PDF, Word document or text)",
    );
    expect((await failure({ bytes, filename: "upload", contentType: "image/png" })).reason).toBe(
      "unsupported file type (image/png)",
    );
  });

  it("a PDF with no text needs OCR", async () => {
    const pdf = await makePdf([[], []]);
    const error = await failure({ bytes: pdf, filename: "scan.pdf" });
    expect([error.kind, error.reason]).toEqual([
      "no_text",
      "no text found (a scanned PDF needs OCR, which VDB does not do)",
    ]);
  });

  it("other files with nothing but markup or whitespace have no text", async () => {
    const html =
      "<html><head><title>Empty</title><script>x()</script></head><body><nav>Menu</nav></body></html>";
    expect((await failure({ bytes: utf8(html), filename: "empty.html" })).reason).toBe("no text found");
    expect((await failure({ bytes: utf8(" \n\t\n"), filename: "blank.txt" })).reason).toBe("no text found");
    expect((await failure({ bytes: await makeDocx([]), filename: "blank.docx" })).kind).toBe("no_text");
  });

  it("invalid JSON", async () => {
    const error = await failure({ bytes: utf8('{"a": 1,'), filename: "data.json" });
    expect([error.kind, error.reason]).toEqual(["type_mismatch", "the file is not valid JSON"]);
  });

  it("an old-format or encrypted Word file", async () => {
    const ole = Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ...makeRandomBytes(512)]);
    expect((await failure({ bytes: ole, filename: "letter.docx" })).reason).toBe(
      "the file says .docx but is an old-format (.doc) or password-protected Word file; save it as a .docx",
    );
  });
});
