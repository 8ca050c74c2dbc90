import { Lexer, type MarkedToken, type Token } from "marked";
import { collapseWhitespace } from "./clean-text";
import { htmlToText } from "./parse-html";
import type { DocumentSection, ParsedContent } from "./parsed-document";

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/**
 * Text of a Markdown file, one section per heading, from marked's lexer (not its HTML renderer,
 * so nothing is rendered only to be stripped again). Markup is dropped, link and image text kept,
 * code blocks kept verbatim, list items and table rows one per line, soft-wrapped lines re-joined.
 * The title is front matter's `title:`, else the first `#` heading.
 *
 * @example
 * parseMarkdown("# Guide\n\nRun `vdb`.\n\n## Install\n\n```sh\nnpm i vdb\n```");
 * // { title: "Guide", sections: [{ heading: "Guide", text: "Run vdb." }, { heading: "Install", text: "npm i vdb" }] }
 */
export function parseMarkdown(markdown: string): ParsedContent {
  const frontMatter = FRONT_MATTER.exec(markdown);
  const body = frontMatter ? markdown.slice(frontMatter[0].length) : markdown;
  const sections: DocumentSection[] = [];
  let heading: string | undefined;
  let blocks: string[] = [];
  let firstH1: string | undefined;
  const flush = () => {
    const text = blocks.filter(Boolean).join("\n\n");
    if (text.trim()) sections.push(heading ? { text, heading } : { text });
    blocks = [];
  };
  for (const token of new Lexer().lex(body)) {
    const block = token as MarkedToken;
    if (block.type === "heading") {
      flush();
      heading = collapseWhitespace(inlineText(block.tokens)) || undefined;
      if (block.depth === 1) firstH1 ??= heading;
      continue;
    }
    blocks.push(blockText(token));
  }
  flush();
  return { title: frontMatterTitle(frontMatter?.[1]) ?? firstH1, sections };
}

function blockText(token: Token): string {
  const block = token as MarkedToken;
  switch (block.type) {
    case "paragraph":
    case "heading":
      return inlineText(block.tokens);
    case "text":
      return block.tokens ? inlineText(block.tokens) : decodeEntities(block.text);
    case "code":
      return block.text;
    case "blockquote":
      return block.tokens.map(blockText).filter(Boolean).join("\n\n");
    case "list":
      return block.items
        .map((item, i) => {
          const marker = block.ordered ? `${(Number(block.start) || 1) + i}. ` : "- ";
          const check = item.task ? (item.checked ? "[x] " : "[ ] ") : "";
          const content = item.tokens
            .filter((child) => child.type !== "checkbox")
            .map(blockText)
            .filter(Boolean)
            .join("\n");
          return marker + check + content;
        })
        .join("\n");
    case "table":
      return [block.header, ...block.rows]
        .map((row) => row.map((cell) => collapseWhitespace(inlineText(cell.tokens))).join(" | "))
        .join("\n");
    case "html":
      return htmlToText(block.text);
    default:
      return "";
  }
}

function inlineText(tokens: Token[]): string {
  let text = "";
  for (const token of tokens) {
    const inline = token as MarkedToken;
    switch (inline.type) {
      case "text":
        // Soft-wrapped source lines are one line of prose.
        text += inline.tokens ? inlineText(inline.tokens) : decodeEntities(inline.text).replace(/\n/g, " ");
        break;
      case "escape":
      case "codespan":
        text += inline.text;
        break;
      case "strong":
      case "em":
      case "del":
      case "link":
        text += inlineText(inline.tokens);
        break;
      case "image":
        text += inline.text;
        break;
      case "br":
        text += "\n";
        break;
      case "html":
        text += htmlToText(inline.text);
        break;
      default:
        if ("text" in inline && typeof inline.text === "string") text += inline.text;
    }
  }
  return text;
}

function frontMatterTitle(frontMatter: string | undefined): string | undefined {
  const match = frontMatter ? /^title:\s*(.+)$/m.exec(frontMatter) : null;
  const title = match?.[1]?.trim().replace(/^(["'])(.*)\1$/, "$2");
  return title || undefined;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

/** Markdown leaves HTML entities in text as written; these are the ones people write. */
function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] === "#") {
      const code =
        name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
  });
}
