import { configDefaults, defineConfig } from "vitest/config";

// `npm start` itself (the start script: installs and builds in this checkout) runs with them.
const STARTUP_TESTS = ["src/main.test.ts", "src/start-script.test.ts"];

// Every store test runs twice: on embedded PGlite and on a real PostgreSQL (TEST_DATABASE_URL).
// The start-up tests run last and alone: they measure what a user sees (URL and login within
// 10 s), not how fast a machine busy with every other suite's instances can start one.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "pglite",
          env: { VDB_TEST_STORE: "pglite" },
          exclude: [...configDefaults.exclude, ...STARTUP_TESTS],
        },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          env: { VDB_TEST_STORE: "postgres" },
          exclude: [...configDefaults.exclude, ...STARTUP_TESTS],
        },
      },
      {
        extends: true,
        test: {
          name: "startup",
          env: { VDB_TEST_STORE: "pglite" },
          include: STARTUP_TESTS,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
