import { defineConfig } from "vitest/config";

// Unit tests of the pure logic run in Node; the end-to-end test drives Debian Chromium against a
// real control plane serving a fresh build (test/build-console.ts builds it once per run).
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/build-console.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
