import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Builds dist/ first: the size budget and the browser tests test the built files.
    globalSetup: ["test/build-widget.ts"],
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 150_000,
  },
});
