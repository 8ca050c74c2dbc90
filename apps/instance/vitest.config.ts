import { defineConfig } from "vitest/config";

// Every test talks to a real `chroma run` server (each file starts its own).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
