import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Two files at a time where Vitest would run one on 2 cores (cores − 1): most of a CLI file's
    // time is waiting on the `vdb` processes it runs and on its control plane's instances. Files
    // share a worker's modules (isolate: false): the control plane's module graph, which the tests
    // start in-process, loads once per worker. Each file starts and closes its own server and store.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
  },
});
