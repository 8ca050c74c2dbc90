import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { wouldBuild } from "../../infra/scripts/start.mjs";

// `npm start` itself (the start script): it installs and builds in this checkout. (main.test.ts
// starts the built control plane as a user does, on a data directory of its own: it runs with the
// others.)
const STARTUP_TESTS = ["src/start-script.test.ts"];

const MAX_WORKERS = Math.max(2, availableParallelism() - 1);

// When `npm start` would build the instance or the control plane (sources changed since their
// builds), the start-script test runs after every other file, alone: a build it makes must not
// change a dist/ that another file's processes are starting from. When it would build neither
// (CI builds everything first), the test runs beside the others, first: its starts then build only
// the widget (the test touches a widget source), whose dist/ no other file here reads (theirs is
// a directory of their own), and its ~19 s no longer run alone at the suite's end, one core idle.
const STARTUP_PROJECT = "startup";
const isStartupAlone = wouldBuild("apps/instance", "apps/control-plane");

// What runs on PostgreSQL too: the tests of what differs between the two stores. Both run the
// same PostgreSQL engine, schema, migrations and Drizzle queries; they differ in the driver
// (postgres.js: its errors, time zones), in concurrency (PGlite runs one statement at a time; a
// PostgreSQL pool runs many, so row locks, SKIP LOCKED and races only mean something there), in
// what outlives a process (a server, not files in DATA_DIR: restarts, leadership, secrets at rest)
// and in the few branches on `store.kind`. Every file runs on PGlite. A test of a new lock, a
// constraint error, a `store.kind` branch or a restart belongs in this list.
const POSTGRES_TESTS = [
  "src/lib/db/**/*.test.ts", // the store itself
  "src/jobs/job-queue.test.ts", // SKIP LOCKED claims, leases, two connections
  "src/auth/revocation.security.test.ts", // two control planes on one database
  "src/auth/login-throttle.security.test.ts", // failed-login budgets shared by two control planes
  "src/backups/schedule-backups-race.e2e.test.ts", // two schedulers race
  "src/instances/pools.e2e.test.ts", // placement locks (place-tenant)
  "src/tenants/tier-move.e2e.test.ts", // the move's lock against writes meanwhile (its rollbacks: PGlite)
  "src/tenants/tenants.*.test.ts", // unique names, plan-change locks (update-tenant)
  "src/tenants/members.test.ts", // invitation conflicts, member locks
  "src/users/users.test.ts", // unique e-mail
  "src/keys/keys.happy.test.ts", // the key count under the tenant's lock
  "src/tokens/tokens.happy.test.ts", // signing keys made once across processes
  "src/chat/chat.e2e.test.ts", // a foreign-key error becomes a 4xx
  "src/documents/quotas.e2e.test.ts", // counts under concurrent uploads
  "src/documents/ingestion.e2e.test.ts", // chunk rows: a transaction / one snapshot on PostgreSQL
  "src/data-plane/keyword-write-paths.e2e.test.ts", // re-ingest replaces chunk rows
  "src/usage/usage.happy.test.ts", // days in a server time zone far from UTC
  "src/usage/record-usage.test.ts", // upserted counters
  "src/instances/lifecycle.e2e.test.ts", // re-adoption after a restart (the rest: PGlite)
  "src/instances/control-plane-restart.e2e.test.ts", // what a restart finds in the store
  "src/shutdown.e2e.test.ts", // jobs given back, resumed by the next process
  "src/lib/secrets-at-rest.security.test.ts", // what the store holds, read raw
  "src/lib/kms-master-key.security.test.ts",
];

/**
 * Vitest's order, but the start-script test first when it runs beside the others: Vitest runs a
 * group's projects one after another, by name, which would leave it last and alone again.
 */
class StartupFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isStartup = (file: TestSpecification) => file.project.name === STARTUP_PROJECT;
    return [...sorted.filter(isStartup), ...sorted.filter((file) => !isStartup(file))];
  }
}

// Two files at a time at least, where Vitest would run one on 2 cores (cores − 1): most of a
// file's time is waiting on instances, Chroma and PostgreSQL, and each file has its own
// database, ports and data directories. Measured on 2 cores: 1,091 s for the whole suite against
// 1,413 s one at a time.
//
// Files share a worker's modules (isolate: false): the control plane's module graph is loaded
// once per worker, not once per file (whole suite: 280 s of imports → 21 s). Each file makes its
// own services, servers and stores and closes them; no module keeps a test's state, and the two
// AWS client mocks (ECS, KMS) are on clients no other file uses.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: MAX_WORKERS,
    isolate: false,
    sequence: { sequencer: StartupFirst },
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
          include: POSTGRES_TESTS,
        },
      },
      {
        extends: true,
        test: {
          name: STARTUP_PROJECT,
          env: { VDB_TEST_STORE: "pglite" },
          include: STARTUP_TESTS,
          // Vitest runs projects of one group order together, and they must agree on maxWorkers.
          sequence: { groupOrder: isStartupAlone ? 1 : 0 },
          maxWorkers: isStartupAlone ? 1 : MAX_WORKERS,
        },
      },
    ],
  },
});
