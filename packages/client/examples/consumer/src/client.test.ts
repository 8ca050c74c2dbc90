import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createVdbClient, isVdbError, type VdbClient } from "@vdb/client";
import { startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Runs `fn`, expecting it to reject, and returns the rejection. */
async function rejectionOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

describe("@vdb/client against a real control plane", () => {
  let server: TestServer;
  let admin: VdbClient;

  beforeAll(async () => {
    server = await startTestServer();
    admin = createVdbClient({ url: server.url, sessionToken: server.adminToken });
  });

  afterAll(async () => {
    await server?.close();
  });

  it("lets an operator create a tenant and a key, and the key read its tenant", async () => {
    const tenant = await admin.tenants.create.mutate({ slug: "acme", name: "Acme", plan: "pro" });
    expect(tenant).toMatchObject({ slug: "acme", name: "Acme", plan: "pro" });

    const key = await admin.keys.create.mutate({ tenantId: tenant.id, name: "reader", scopes: ["read"] });
    expect(key.secret).toMatch(/^vdbk_/);
    expect(key.scopes).toEqual(["read"]);

    const reader = createVdbClient({ url: server.url, apiKey: key.secret });
    await expect(reader.tenants.get.query({ tenantId: tenant.id })).resolves.toEqual(tenant);
  });

  it("refuses admin work to a read key with FORBIDDEN and a request id", async () => {
    const tenant = await admin.tenants.create.mutate({
      slug: "read-only",
      name: "Read only",
      plan: "starter",
    });
    const key = await admin.keys.create.mutate({ tenantId: tenant.id, name: "reader", scopes: ["read"] });
    const reader = createVdbClient({ url: server.url, apiKey: key.secret });

    const err = await rejectionOf(() =>
      reader.keys.create.mutate({ tenantId: tenant.id, name: "escalated", scopes: ["admin"] }),
    );

    expect(isVdbError(err)).toBe(true);
    if (!isVdbError(err)) return;
    expect(err.data.appCode).toBe("FORBIDDEN");
    expect(err.data.requestId).toEqual(expect.any(String));
    expect(err.data.requestId).not.toBe("unknown");
    // Nothing was created behind the refusal.
    const keys = await admin.keys.list.query({ tenantId: tenant.id });
    expect(keys.items.map((k) => k.name)).toEqual(["reader"]);
  });

  it("reports bad input as VALIDATION_FAILED with the offending field", async () => {
    const err = await rejectionOf(() =>
      admin.tenants.create.mutate({ slug: "Not A Slug!", name: "Bad", plan: "starter" }),
    );

    expect(isVdbError(err)).toBe(true);
    if (!isVdbError(err)) return;
    expect(err.data.appCode).toBe("VALIDATION_FAILED");
    expect(err.data.issues).toEqual([expect.objectContaining({ path: "slug" })]);
  });

  it("treats a request with an unknown API key as UNAUTHORIZED, with a requestId", async () => {
    const stranger = createVdbClient({ url: server.url, apiKey: "vdbk_not-a-real-key" });

    const err = await rejectionOf(() => stranger.tenants.list.query({}));

    expect(isVdbError(err) && err.data.appCode).toBe("UNAUTHORIZED");
    expect(isVdbError(err) && err.data.requestId).toMatch(/^req_/);
  });

  it("does not mistake a network failure for a server answer", async () => {
    const offline = createVdbClient({ url: "http://127.0.0.1:1", apiKey: "vdbk_whatever" });

    const err = await rejectionOf(() => offline.plans.query());

    expect(isVdbError(err)).toBe(false);
  });
});

const execFileAsync = promisify(execFile);
const tscBin = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const consumerDir = fileURLToPath(new URL("..", import.meta.url));

interface TscResult {
  exitCode: number;
  /** `file(line,col): error TSxxxx: message` lines, one per diagnostic. */
  errors: { file: string; code: string; message: string }[];
  files: string[];
}

async function runTsc(project: string): Promise<TscResult> {
  const args = [tscBin, "--noEmit", "--pretty", "false", "--listFiles", "-p", project];
  const { exitCode, stdout } = await execFileAsync(process.execPath, args, { cwd: consumerDir }).then(
    ({ stdout }) => ({ exitCode: 0, stdout }),
    (err: { code: number; stdout: string }) => ({ exitCode: err.code, stdout: err.stdout }),
  );
  const lines = stdout.split("\n");
  const errors = lines.flatMap((line) => {
    const match = /^(.+?)\(\d+,\d+\): error (TS\d+): (.*)$/.exec(line);
    return match ? [{ file: match[1]!, code: match[2]!, message: match[3]! }] : [];
  });
  return { exitCode, errors, files: lines.filter((line) => line.startsWith("/")) };
}

/** Files a consumer of the published client must never need. */
const SERVER_SIDE = /\/apps\/control-plane\/|\/packages\/schemas\/|drizzle-orm|pino|hono|postgres|pglite/;

describe("@vdb/client's published types", () => {
  // One run serves both checks on type-errors/: tsc takes seconds.
  let typeErrors: Promise<TscResult>;
  beforeAll(() => {
    typeErrors = runTsc("type-errors/tsconfig.json");
  });

  // The consumer's code alone (src/usage.ts): the whole package, this test and the control plane's
  // test helpers it imports included, is what the package's own typecheck task checks.
  it("type-check a correct consumer, from the built declarations alone", { timeout: 120_000 }, async () => {
    const result = await runTsc("tsconfig.usage.json");

    expect(result.errors).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.files).toContainEqual(expect.stringMatching(/\/packages\/client\/dist\/index\.d\.ts$/));
    expect(result.files.filter((file) => SERVER_SIDE.test(file))).toEqual([]);
  });

  it("reject each deliberate mistake in type-errors/, and only those", { timeout: 120_000 }, async () => {
    const result = await typeErrors;

    expect(result.exitCode).not.toBe(0);
    expect(result.errors).toEqual([
      {
        file: "type-errors/query-as-mutation.ts",
        code: "TS2339",
        message: expect.stringContaining("Property 'mutate' does not exist"),
      },
      {
        file: "type-errors/unknown-procedure.ts",
        code: "TS2339",
        message: expect.stringContaining("Property 'destroy' does not exist"),
      },
      {
        file: "type-errors/wrong-error-code.ts",
        code: "TS2367",
        message: expect.stringContaining(`'"NOPE"' have no overlap`),
      },
      {
        file: "type-errors/wrong-output.ts",
        code: "TS2322",
        message: expect.stringContaining("is not assignable to type 'number'"),
      },
      {
        file: "type-errors/wrong-plan.ts",
        code: "TS2322",
        message: expect.stringContaining(`Type '"gold"' is not assignable`),
      },
    ]);
  });

  it("come from the built declarations and need no server package", { timeout: 120_000 }, async () => {
    const { files } = await typeErrors;

    expect(files).toContainEqual(expect.stringMatching(/\/packages\/client\/dist\/index\.d\.ts$/));
    expect(files.filter((file) => SERVER_SIDE.test(file))).toEqual([]);
  });
});
