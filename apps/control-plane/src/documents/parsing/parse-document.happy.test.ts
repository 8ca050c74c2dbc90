import { describe, expect, it } from "vitest";
import { makeDocx, makePdf } from "./fixtures";
import { parseDocument } from "./parse-document";

const MB = 1024 * 1024;
const utf8 = (text: string) => new TextEncoder().encode(text);
const parse = (bytes: Uint8Array, filename: string, contentType?: string) =>
  parseDocument({ bytes, filename, contentType, maxBytes: 10 * MB });

describe("PDF", () => {
  it("gives one section per page, with the page number, the text of that page only", async () => {
    const bytes = await makePdf(
      [["Apples grow on trees.", "Orchards need bees."], ["Bananas are berries."], ["Cherries have stones."]],
      { title: "Fruit Guide" },
    );
    const document = await parse(bytes, "fruit.pdf");
    expect(document.title).toBe("Fruit Guide");
    expect(document.sections).toEqual([
      { page: 1, text: "Apples grow on trees.\n\nOrchards need bees." },
      { page: 2, text: "Bananas are berries." },
      { page: 3, text: "Cherries have stones." },
    ]);
  });

  it("keeps real page numbers around a page without text, and titles an untitled PDF by its file name", async () => {
    const bytes = await makePdf([["First page."], [], ["Third page."]]);
    const document = await parse(bytes, "reports/Q3 report.pdf");
    expect(document.title).toBe("Q3 report");
    expect(document.sections.map((section) => section.page)).toEqual([1, 3]);
  });

  it("is recognised by its bytes when the name has no extension", async () => {
    const bytes = await makePdf([["Only page."]]);
    const document = await parse(bytes, "upload", "application/octet-stream");
    expect(document.sections).toEqual([{ page: 1, text: "Only page." }]);
  });
});

describe("DOCX", () => {
  it("gives one section per Word heading, the Title style naming the document", async () => {
    const bytes = await makeDocx(
      [
        "# Introduction",
        "Welcome to the company.",
        "Read this first.",
        "## Vacation",
        "You get 25 days of vacation.",
        "# Expenses",
        "Keep every receipt.",
      ],
      { title: "Employee Handbook" },
    );
    const document = await parse(bytes, "handbook.docx");
    expect(document.title).toBe("Employee Handbook");
    expect(document.sections).toEqual([
      { heading: "Introduction", text: "Welcome to the company.\n\nRead this first." },
      { heading: "Vacation", text: "You get 25 days of vacation." },
      { heading: "Expenses", text: "Keep every receipt." },
    ]);
  });

  it("accepts a Node Buffer as well as a Uint8Array (blob stores return either)", async () => {
    const pdf = await makePdf([["Page one."], ["Page two."]]);
    const parsed = await parseDocument({
      bytes: Buffer.from(pdf),
      filename: "buffer.pdf",
      maxBytes: 1_000_000,
    });
    expect(parsed.sections.map((section) => section.page)).toEqual([1, 2]);
  });

  it("keeps each table row and list item on one line", async () => {
    const bytes = await makeDocx([
      "# Prices",
      "Plan | Price",
      "Pro | $49",
      "- Cancel anytime",
      "- Billed monthly",
    ]);
    expect((await parse(bytes, "prices.docx")).sections).toEqual([
      { heading: "Prices", text: "Plan | Price\nPro | $49\n\n- Cancel anytime\n- Billed monthly" },
    ]);
  });

  it("takes its title from the first heading when there is no Title paragraph", async () => {
    const bytes = await makeDocx(["# Onboarding", "Day one: laptops."]);
    expect((await parse(bytes, "x.docx")).title).toBe("Onboarding");
  });
});

describe("HTML", () => {
  const page = `<!doctype html>
<html><head><title>Pricing &amp; Plans</title>
<style>body { color: red }</style><script>window.track("<p>not text</p>")</script></head>
<body>
<header><a href="/">Logo</a> <a href="/login">Log in</a></header>
<nav><ul><li>Home</li><li>Docs</li></ul></nav>
<main>
  <h1>Plans</h1>
  <p>Every plan includes   search
     and chat.</p>
  <h2>Starter</h2>
  <ul><li>5 collections</li><li>10 requests/s</li></ul>
  <pre><code>curl -X POST /v1/search
  --data '{"q": "x"}'</code></pre>
  <table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$49</td></tr></table>
  <noscript>Enable JavaScript</noscript>
  <div hidden>secret draft</div>
</main>
<aside>Related posts</aside>
<footer>© 2026 VDB · Privacy</footer>
<script>console.log("late")</script>
</body></html>`;

  it("keeps the content, drops scripts, styles and navigation chrome, and splits at headings", async () => {
    const document = await parse(utf8(page), "pricing.html");
    expect(document.title).toBe("Pricing & Plans");
    expect(document.sections).toEqual([
      { heading: "Plans", text: "Every plan includes search and chat." },
      {
        heading: "Starter",
        text: [
          "- 5 collections\n- 10 requests/s",
          `curl -X POST /v1/search\n  --data '{"q": "x"}'`,
          "Plan | Price\nPro | $49",
        ].join("\n\n"),
      },
    ]);
    const all = JSON.stringify(document);
    for (const noise of [
      "not text",
      "late",
      "Log in",
      "Docs",
      "Related",
      "Privacy",
      "JavaScript",
      "secret",
      "color",
    ]) {
      expect(all).not.toContain(noise);
    }
  });

  it("falls back to the first h1 for a title, and keeps a byline header inside an article", async () => {
    const html = "<article><header>By Ada</header><h1>Release notes</h1><p>v2 is out.</p></article>";
    const document = await parse(utf8(html), "notes.htm");
    expect(document.title).toBe("Release notes");
    expect(document.sections).toEqual([{ text: "By Ada" }, { heading: "Release notes", text: "v2 is out." }]);
  });

  it("is sniffed from content when there is no extension", async () => {
    const document = await parse(utf8("<!DOCTYPE html><title>T</title><p>Body</p>"), "index");
    expect(document).toEqual({ title: "T", sections: [{ text: "Body" }] });
  });
});

describe("Markdown", () => {
  const markdown = [
    "---",
    'title: "Getting Started"',
    "---",
    "# Guide",
    "",
    "VDB is a **vector database** with [hosted](https://vdb.example) search,",
    "wrapped over two lines &amp; `inline <code>`.",
    "",
    "## Install",
    "",
    "```bash",
    "npm install @vdb/client",
    "  --save",
    "```",
    "",
    "1. Create a key",
    "2. Call `search`",
    "",
    "> Keys are shown once.",
    "",
    "| Plan | Price |",
    "| --- | --- |",
    "| Pro | $49 |",
  ].join("\n");

  it("splits at headings, strips markup, keeps code blocks verbatim and takes the front-matter title", async () => {
    const document = await parse(utf8(markdown), "README.md");
    expect(document.title).toBe("Getting Started");
    expect(document.sections).toEqual([
      {
        heading: "Guide",
        text: "VDB is a vector database with hosted search, wrapped over two lines & inline <code>.",
      },
      {
        heading: "Install",
        text: [
          "npm install @vdb/client\n  --save",
          "1. Create a key\n2. Call search",
          "Keys are shown once.",
          "Plan | Price\nPro | $49",
        ].join("\n\n"),
      },
    ]);
  });

  it("takes the first # heading as title without front matter, and is sniffed without extension", async () => {
    const document = await parse(utf8("# Changelog\n\n## 1.0\n\nFirst release."), "CHANGELOG");
    expect(document).toEqual({
      title: "Changelog",
      sections: [{ heading: "1.0", text: "First release." }],
    });
  });
});

describe("plain text", () => {
  it("is one section, titled by file name, with newlines and control characters normalised", async () => {
    const text = "Line one\r\nLine two\u0007\r\n\r\n\r\n\r\nAfter   many blank lines\t \r\n";
    const document = await parse(utf8(`\uFEFF${text}`), "notes.txt");
    expect(document).toEqual({
      title: "notes",
      sections: [{ text: "Line one\nLine two\n\nAfter   many blank lines" }],
    });
  });

  it("reads UTF-16 with a byte-order mark and legacy Windows-1252 text", async () => {
    const utf16 = Uint8Array.from([0xff, 0xfe, ...Array.from("Grüße").flatMap((c) => [c.charCodeAt(0), 0])]);
    expect((await parse(utf16, "de.txt")).sections).toEqual([{ text: "Grüße" }]);
    const latin = Uint8Array.from([...utf8("Caf"), 0xe9, ...utf8(" "), 0x80, ...utf8("5")]);
    expect((await parse(latin, "menu.txt")).sections).toEqual([{ text: "Café €5" }]);
  });

  it("uses the content type when the name has no extension", async () => {
    const document = await parse(utf8("# not a heading here"), "blob", "text/plain; charset=utf-8");
    expect(document.sections).toEqual([{ text: "# not a heading here" }]);
  });
});

describe("JSON", () => {
  it("flattens an object into key.path: value lines, titled by its name", async () => {
    const json = {
      name: "vdb",
      version: 2,
      private: false,
      repository: { url: "https://git.example/vdb", tags: ["search", "rag"] },
      notes: null,
      empty: {},
    };
    const document = await parse(utf8(JSON.stringify(json)), "package.json");
    expect(document).toEqual({
      title: "vdb",
      sections: [
        {
          text: [
            "name: vdb",
            "version: 2",
            "private: false",
            "repository.url: https://git.example/vdb",
            "repository.tags.0: search",
            "repository.tags.1: rag",
            "notes: null",
          ].join("\n"),
        },
      ],
    });
  });

  it("makes one section per record of an array of objects with a text field, headed by its title", async () => {
    const faq = [
      { id: 1, question: "Can I get a refund?", answer: "Yes, within 30 days." },
      { id: 2, question: "Do you support SSO?", answer: "On the Enterprise plan." },
      { id: 3, question: "Where is data stored?", url: "https://x" },
    ];
    const document = await parse(utf8(JSON.stringify(faq)), "faq.json");
    expect(document).toEqual({
      title: "faq",
      sections: [
        { heading: "Can I get a refund?", text: "Yes, within 30 days." },
        { heading: "Do you support SSO?", text: "On the Enterprise plan." },
        { heading: "Where is data stored?", text: "id: 3\nquestion: Where is data stored?\nurl: https://x" },
      ],
    });
  });

  it("flattens an array of objects without a text field, and is sniffed without extension", async () => {
    const document = await parse(utf8('[{"sku":"A1","price":3},{"sku":"B2","price":5}]'), "export");
    expect(document.sections).toEqual([{ text: "0.sku: A1\n0.price: 3\n1.sku: B2\n1.price: 5" }]);
  });

  it("survives nesting thousands of levels deep", async () => {
    const json = `${"[".repeat(5_000)}"deep"${"]".repeat(5_000)}`;
    const document = await parse(utf8(json), "deep.json");
    expect(document.sections[0]?.text).toMatch(/^0(\.0){4999}: deep$/);
  });
});
