import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Builds dist/ first: the size budget and the browser tests test the built files.
    globalSetup: ["test/build-widget.ts", "test/shared-chromium.ts"],
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 150_000,
    // Two files at a time where Vitest would run one on 2 cores (cores − 1): a browser test's time
    // is mostly waiting on Chromium, its control plane and an instance. Files share a worker's
    // modules (isolate: false); each starts and closes its own server and store, and its own
    // connection to the run's one Chromium (test/shared-chromium.ts).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
  },
});
