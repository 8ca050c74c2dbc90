import { getPriority, setPriority } from "node:os";
import { createEmbeddingProvider } from "./create-provider";
import type { EmbeddingProvider, EmbedResult, ProviderOptions } from "./provider";

/** What the pool sends a worker thread: the provider to embed with, a few texts, and how nice to be. */
export interface EmbedTask {
  provider: Omit<ProviderOptions, "workers">;
  texts: string[];
  /** How much nicer than the process the thread is while it embeds them (bulk work: more). */
  niceness?: number;
}

// One provider (one copy of the model) per thread, created on the thread's first task.
const providers = new Map<string, EmbeddingProvider>();

/** The niceness this thread started with (its creator's: the process's), and now. */
const baseNiceness = getPriority();
let threadNiceness = baseNiceness;
/** Whether it can be set both ways (see `niceThread`); null until tried. */
let canRenice: boolean | null = null;

/**
 * Makes this thread `offset` nicer than it started: on Linux, `setpriority` on the calling task
 * (os.setPriority's pid 0) is per thread, so the process's other threads keep theirs. Raising
 * it is always allowed; lowering it back needs CAP_SYS_NICE (or RLIMIT_NICE), so that is tried
 * once, one step up and back, before the first raise: where it fails, the thread stays as it is
 * (at most one step up) rather than embed a search's query niced.
 */
function niceThread(offset: number): void {
  const niceness = Math.min(19, baseNiceness + offset);
  if (niceness === threadNiceness || canRenice === false) return;
  try {
    if (canRenice === null) {
      setPriority(Math.min(19, baseNiceness + 1));
      threadNiceness = Math.min(19, baseNiceness + 1);
      setPriority(baseNiceness);
      threadNiceness = baseNiceness;
      canRenice = true;
    }
    setPriority(niceness);
    threadNiceness = niceness;
  } catch {
    canRenice = false;
  }
}

/** Runs in a worker thread (see `embed-worker.mjs`): embeds one task's texts on this thread. */
export async function embedTask(task: EmbedTask): Promise<EmbedResult> {
  niceThread(task.niceness ?? 0);
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
