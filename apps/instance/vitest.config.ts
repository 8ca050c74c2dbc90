import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Every test talks to a real `chroma run` server (each file starts its own).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two files at a time where Vitest would run one on 2 cores (cores − 1): much of a file's time
    // is waiting on its Chroma. Files share a worker's modules (isolate: false): the instance's
    // module graph loads once per worker, not once per file. Each file starts and stops its own
    // Chroma and app; module-level state is constants, WeakMaps keyed by services, and a
    // process-wide version counter.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
  },
});
