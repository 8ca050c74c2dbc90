import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Unit tests of the pure logic run in Node; the end-to-end test drives Debian Chromium against a
// real control plane serving a fresh build (test/build-console.ts builds it once per run).
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/build-console.ts", "test/shared-chromium.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Two files at a time where Vitest would run one on 2 cores: most of an end-to-end file's time
    // is waiting on its browser, control plane and instance. Files share a worker's modules
    // (isolate: false): the control plane's module graph loads once per worker, not once per file.
    // Each file starts and closes its own server and store, and its own connection to the run's
    // one Chromium (test/shared-chromium.ts).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
  },
});
