import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Loading Universal Sentence Encoder and embedding a few hundred texts takes seconds on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
