import { collapseWhitespace } from "./clean-text";
import { DocumentParseError, tooMuchText } from "./document-parse-error";
import type { DocumentSection, ParsedContent } from "./parsed-document";

/** Fields that hold an item's prose, in the order one is chosen. */
const TEXT_FIELDS = ["text", "content", "body", "description", "summary", "answer", "message"];
/** Fields that name an item; the chosen one becomes the section's heading. */
const HEADING_FIELDS = ["title", "heading", "name", "question", "subject"];

type JsonObject = { [key: string]: unknown };

/**
 * Text of a JSON file, by one rule:
 *
 * - **A top-level array of objects** in which at least half the items have the same text-like
 *   field (the first of `text`, `content`, `body`, `description`, `summary`, `answer`, `message`
 *   that qualifies) is a list of records: one section per item, its text that field, its heading
 *   the item's `title` / `heading` / `name` / `question` / `subject`. The item's other fields are
 *   metadata and are not indexed. An item without the field is flattened as below.
 * - **Anything else** is flattened into one section of `key.path: value` lines, array indexes as
 *   path segments (`items.0.name: Ada`), so every line says where its value came from. Empty
 *   objects and arrays say nothing and are skipped.
 *
 * The title is a top-level object's `title` or `name` string.
 *
 * @example
 * parseJson('[{"question":"Refunds?","answer":"Within 30 days."}]', 1e6);
 * // { sections: [{ heading: "Refunds?", text: "Within 30 days." }] }
 * parseJson('{"name":"vdb","repo":{"stars":3}}', 1e6);
 * // { title: "vdb", sections: [{ text: "name: vdb\nrepo.stars: 3" }] }
 */
export function parseJson(text: string, maxCharacters: number): ParsedContent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DocumentParseError({
      kind: "type_mismatch",
      reason: "the file is not valid JSON",
      cause: error,
    });
  }
  const records = Array.isArray(value) ? asRecords(value) : undefined;
  if (records) {
    return {
      sections: records.items.map((item) => recordSection(item, records.textField, maxCharacters)),
    };
  }
  const title = isObject(value) ? [value.title, value.name].find(isNonEmptyString) : undefined;
  return {
    title: title ? collapseWhitespace(title) : undefined,
    sections: [{ text: flatten(value, maxCharacters) }],
  };
}

function asRecords(items: unknown[]): { items: JsonObject[]; textField: string } | undefined {
  if (items.length === 0 || !items.every(isObject)) return undefined;
  const objects = items as JsonObject[];
  const textField = TEXT_FIELDS.find(
    (field) => objects.filter((item) => isNonEmptyString(item[field])).length * 2 >= objects.length,
  );
  return textField ? { items: objects, textField } : undefined;
}

function recordSection(item: JsonObject, textField: string, maxCharacters: number): DocumentSection {
  const headingField = HEADING_FIELDS.find((field) => field !== textField && isNonEmptyString(item[field]));
  const heading = headingField ? collapseWhitespace(item[headingField] as string) : undefined;
  const body = item[textField];
  const text = isNonEmptyString(body) ? body : flatten(item, maxCharacters);
  return heading ? { text, heading } : { text };
}

/** Depth-first with an explicit stack: a 10,000-deep document must not overflow the call stack. */
function flatten(root: unknown, maxCharacters: number): string {
  const lines: string[] = [];
  let characters = 0;
  const stack: Array<[string, unknown]> = [["", root]];
  while (stack.length > 0) {
    const [path, value] = stack.pop()!;
    if (value !== null && typeof value === "object") {
      const entries = Array.isArray(value)
        ? value.map((v, i) => [String(i), v] as const)
        : Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        stack.push([path ? `${path}.${key}` : key, child]);
      }
      continue;
    }
    const line = path ? `${path}: ${String(value)}` : String(value);
    characters += line.length + 1;
    if (characters > maxCharacters) throw tooMuchText(maxCharacters);
    lines.push(line);
  }
  return lines.join("\n");
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}
