import { createEmbeddingProvider } from "./create-provider";
import type { EmbeddingProvider, EmbedResult, ProviderOptions } from "./provider";

/** What the pool sends a worker thread: the provider to embed with, and a few texts. */
export interface EmbedTask {
  provider: Omit<ProviderOptions, "workers">;
  texts: string[];
}

// One provider (one copy of the model) per thread, created on the thread's first task.
const providers = new Map<string, EmbeddingProvider>();

/** Runs in a worker thread (see `embed-worker.mjs`): embeds one task's texts on this thread. */
export async function embedTask(task: EmbedTask): Promise<EmbedResult> {
  const key = JSON.stringify(task.provider);
  let provider = providers.get(key);
  if (!provider) {
    provider = createEmbeddingProvider(task.provider);
    providers.set(key, provider);
  }
  return provider.embed(task.texts);
}

// Piscina runs a module's default export: the compiled build bundles this file as the worker
// entry itself (dist/embed-worker.mjs); from source, embed-worker.mjs registers tsx first.
export default embedTask;
