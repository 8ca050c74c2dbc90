import { z } from "zod";
import type { Config } from "../config";

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));

/**
 * The chat settings, to merge into the control plane's `ConfigSchema` (`...ChatConfigFields.shape`).
 * Without `LLM_MODEL` chat answers extractively: quoted passages, no language model.
 */
export const ChatConfigFields = z.object({
  /** Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama's `/v1`, LiteLLM…); OpenAI's own when unset. */
  LLM_BASE_URL: optionalString.pipe(z.url().optional()),
  /** Sent as the bearer key; local servers that ignore keys need none. */
  LLM_API_KEY: optionalString,
  /** The chat model, e.g. `gpt-4o-mini`; unset: extractive answers. */
  LLM_MODEL: optionalString,
  /** Longest wait for the model to start answering, and between retries. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
});
export type ChatConfig = z.infer<typeof ChatConfigFields>;

const parsed = new WeakMap<object, ChatConfig>();

/**
 * The chat settings inside the control plane's config. Read through the fragment so chat works
 * (extractively) whether or not the fragment has been merged into `ConfigSchema` yet.
 */
export function chatConfigOf(config: Config): ChatConfig {
  let settings = parsed.get(config);
  if (!settings) {
    settings = ChatConfigFields.parse(config);
    parsed.set(config, settings);
  }
  return settings;
}
