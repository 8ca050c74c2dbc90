import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

// `npm start` itself (the start script: installs and builds in this checkout) runs with them.
const STARTUP_TESTS = ["src/main.test.ts", "src/start-script.test.ts"];

// Every store test runs twice: on embedded PGlite and on a real PostgreSQL (TEST_DATABASE_URL).
// The start-up tests run last and alone, one file at a time: they start the platform as a user
// does (one of them runs `npm start` in this checkout), with no other suite's instances around.
//
// Two files at a time at least, where Vitest would run one on 2 cores (cores − 1): most of a
// file's time is waiting on instances, Chroma and PostgreSQL, and each file has its own
// database, ports and data directories. Measured on 2 cores: 1,091 s for the whole suite against
// 1,413 s one at a time.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: Math.max(2, availableParallelism() - 1),
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
          maxWorkers: 1,
        },
      },
    ],
  },
});
