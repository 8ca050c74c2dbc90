import { defineConfig } from "vitest/config";

// Every store test runs twice: on embedded PGlite and on a real PostgreSQL (TEST_DATABASE_URL).
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "pglite", env: { VDB_TEST_STORE: "pglite" } } },
      { extends: true, test: { name: "postgres", env: { VDB_TEST_STORE: "postgres" } } },
    ],
  },
});
