import { type HTMLElement, type Node, NodeType, parse } from "node-html-parser";
import { cleanText, collapseWhitespace } from "./clean-text";
import type { DocumentSection, ParsedContent } from "./parsed-document";

/** Page chrome and non-text: menus, sidebars, forms, embedded media. Never what a search should find. */
const CHROME_SELECTOR = [
  "nav",
  "aside",
  "template",
  "svg",
  "canvas",
  "iframe",
  "object",
  "embed",
  "form",
  "button",
  "select",
  "[hidden]",
  '[aria-hidden="true"]',
  '[role="navigation"]',
  '[role="banner"]',
  '[role="contentinfo"]',
  '[role="search"]',
].join(", ");
const HEADING = /^h[1-6]$/;
/** Read for the title, never as text. */
const SKIPPED_TAGS = new Set(["head", "title"]);
/** Elements that end a paragraph; chunking prefers to break between them. */
const PARAGRAPH_TAGS = new Set(
  "address article blockquote body details dialog div dl fieldset figure footer header main ol p pre section table ul".split(
    " ",
  ),
);
/** Elements that end a line but not a paragraph: list items and table rows stay together. */
const LINE_TAGS = new Set("li tr dt dd caption figcaption summary".split(" "));
const CELL_TAGS = new Set(["td", "th"]);

/**
 * Text of an HTML page, one section per heading (h1–h6), with scripts, styles, navigation, header
 * and footer chrome removed. A `<header>` or `<footer>` inside `<article>` or `<main>` is content
 * (an article's byline) and is kept. The title is `<title>`, else the first `<h1>`.
 * DOCX goes through here too, as the HTML mammoth converts it to.
 *
 * @example
 * parseHtml("<title>T</title><nav>Home</nav><h1>A</h1><p>x</p>");
 * // { title: "T", sections: [{ heading: "A", text: "x" }] }
 */
export function parseHtml(html: string): ParsedContent {
  const root = parseDom(html);
  // querySelectorAll, not querySelector or closest: those recurse per level and overflow on deep nesting.
  const title = collapseWhitespace(root.querySelectorAll("title")[0]?.text ?? "");
  const body = root.querySelectorAll("body")[0] ?? root;
  const writer = new SectionWriter();
  walk(body, writer);
  const sections = writer.finish();
  return { title: title || writer.firstH1, sections };
}

/** The readable text of an HTML fragment (Markdown's inline and block HTML). */
export function htmlToText(html: string): string {
  const writer = new SectionWriter();
  walk(parseDom(html), writer);
  return writer
    .finish()
    .map((section) => [section.heading, section.text].filter(Boolean).join("\n"))
    .join("\n\n");
}

function parseDom(html: string): HTMLElement {
  // `false` drops these elements' content at parse time, so script text never becomes a text node.
  const root = parse(html, {
    comment: false,
    blockTextElements: { script: false, noscript: false, style: false },
    parseNoneClosedTags: true,
  });
  for (const element of root.querySelectorAll(CHROME_SELECTOR)) element.remove();
  for (const element of root.querySelectorAll("header, footer")) {
    if (!isInsideContent(element)) element.remove();
  }
  return root;
}

function isInsideContent(element: HTMLElement): boolean {
  for (let parent = element.parentNode; parent; parent = parent.parentNode) {
    const tag = parent.rawTagName?.toLowerCase();
    if (tag === "article" || tag === "main") return true;
  }
  return false;
}

type Step = { node: Node; isPreformatted: boolean; isInCell: boolean } | { closeWith: 1 | 2 };

/** Iterative, with its own stack: hostile pages nest thousands of elements deep. */
function walk(root: Node, writer: SectionWriter): void {
  const stack: Step[] = [];
  const pushChildren = (node: Node, isPreformatted: boolean, isInCell: boolean) => {
    for (let i = node.childNodes.length - 1; i >= 0; i--) {
      stack.push({ node: node.childNodes[i]!, isPreformatted, isInCell });
    }
  };
  pushChildren(root, false, false);
  while (stack.length > 0) {
    const step = stack.pop()!;
    if ("closeWith" in step) {
      writer.lineBreak(step.closeWith);
      continue;
    }
    const { node, isPreformatted, isInCell } = step;
    if (node.nodeType === NodeType.TEXT_NODE) {
      const text = node.text;
      if (/^\s*<!doctype/i.test(text)) continue;
      if (isPreformatted) writer.preformatted(text);
      else writer.inline(text);
      continue;
    }
    if (node.nodeType !== NodeType.ELEMENT_NODE) continue;
    const element = node as HTMLElement;
    const tag = element.rawTagName?.toLowerCase() ?? "";
    if (SKIPPED_TAGS.has(tag)) continue;
    if (HEADING.test(tag) && !isInCell) {
      writer.startSection(collapseWhitespace(element.text), Number(tag[1]));
      continue;
    }
    const breaks =
      tag === "br" ? 1 : tag === "hr" || PARAGRAPH_TAGS.has(tag) ? 2 : LINE_TAGS.has(tag) ? 1 : 0;
    if (breaks && isInCell) {
      // Word wraps every cell's text in <p>; breaking on it would scatter a table row over lines.
      writer.inline(" ");
    } else if (breaks) {
      writer.lineBreak(breaks);
      if (tag !== "br" && tag !== "hr") stack.push({ closeWith: breaks });
    }
    if (tag === "li" && !isInCell) writer.inline("- ");
    if (CELL_TAGS.has(tag) && !writer.isAtLineStart()) writer.inline(" | ");
    pushChildren(element, isPreformatted || tag === "pre", isInCell || CELL_TAGS.has(tag));
  }
}

/**
 * Accumulates text into sections. It tracks trailing newlines itself rather than inspecting the
 * string built so far, which would flatten V8's rope strings and make long pages quadratic.
 */
class SectionWriter {
  private readonly sections: DocumentSection[] = [];
  private heading: string | undefined;
  /** The first `<h1>`, the title of a page without `<title>` (and of every DOCX). */
  firstH1: string | undefined;
  private parts: string[] = [];
  private trailingNewlines = 2;
  private endsWithSpace = true;

  isAtLineStart(): boolean {
    return this.trailingNewlines > 0;
  }

  inline(raw: string): void {
    let text = raw.replace(/\s+/g, " ");
    if (this.trailingNewlines > 0 || this.endsWithSpace) text = text.replace(/^ /, "");
    if (!text) return;
    this.parts.push(text);
    this.trailingNewlines = 0;
    this.endsWithSpace = text.endsWith(" ");
  }

  preformatted(raw: string): void {
    if (!raw) return;
    this.parts.push(raw);
    this.trailingNewlines = raw.length - raw.replace(/\n+$/, "").length;
    this.endsWithSpace = /\s$/.test(raw);
  }

  lineBreak(count: 1 | 2): void {
    if (this.parts.length === 0 || this.trailingNewlines >= count) return;
    this.parts.push("\n".repeat(count - this.trailingNewlines));
    this.trailingNewlines = count;
    this.endsWithSpace = true;
  }

  startSection(heading: string, level: number): void {
    this.flush();
    this.heading = heading || undefined;
    if (level === 1) this.firstH1 ??= this.heading;
  }

  finish(): DocumentSection[] {
    this.flush();
    return this.sections;
  }

  private flush(): void {
    const text = cleanText(this.parts.join(""));
    if (text) this.sections.push(this.heading ? { text, heading: this.heading } : { text });
    this.parts = [];
    this.trailingNewlines = 2;
    this.endsWithSpace = true;
  }
}
