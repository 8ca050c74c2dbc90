import type { WidgetTheme } from "@vdb/schemas/widgets";
import type { ChatBackend } from "./chat-widget";

/** The theme a widget gets when nothing is said: the same defaults as `WidgetTheme`'s schema. */
export const DEFAULT_THEME: WidgetTheme = {
  primaryColor: "#4f46e5",
  textColor: "#ffffff",
  position: "bottom-right",
  title: "Ask us anything",
  greeting: "Hi! Ask me a question about our documentation.",
};

const HEX = /^#[0-9a-fA-F]{6}$/;

/**
 * `theme` laid over the defaults, keeping only well-formed fields: a preview is fed by a form
 * that is being edited, so a half-typed colour must not break it (the last good value stays).
 */
export function mergeTheme(base: WidgetTheme, theme: unknown): WidgetTheme {
  if (!theme || typeof theme !== "object") return base;
  const next = { ...base };
  const given = theme as Record<string, unknown>;
  for (const key of ["primaryColor", "textColor"] as const) {
    const value = given[key];
    if (typeof value === "string" && HEX.test(value)) next[key] = value;
  }
  if (given.position === "bottom-left" || given.position === "bottom-right") next.position = given.position;
  if (typeof given.title === "string" && given.title.trim()) next.title = given.title.trim().slice(0, 60);
  if (typeof given.greeting === "string") next.greeting = given.greeting.trim().slice(0, 300);
  return next;
}

export const PREVIEW_ANSWER =
  "This is a preview: on your site, visitors get answers from your documents here, with their sources [1].";

/** Canned replies, streamed word by word like real ones; no network at all. */
export const previewBackend: ChatBackend = {
  history: async () => [],
  async ask(_message, onText) {
    const words = PREVIEW_ANSWER.split(/(?<= )/);
    for (const word of words) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      onText(word);
    }
    return {
      answer: PREVIEW_ANSWER,
      citations: [
        {
          n: 1,
          documentId: null,
          chunkId: "preview:0",
          title: "Example document",
          page: null,
          heading: null,
          snippet: "",
          score: 1,
        },
      ],
    };
  },
};
