import { createHashProvider } from "@vdb/embeddings/hash";
import { freePort } from "@vdb/http/processes";
import { newId } from "@vdb/schemas/ids";
import { instanceAudience } from "@vdb/schemas/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInstanceApp } from "../app";
import { loadInstanceConfig } from "../config";
import {
  createTestIssuer,
  instanceApi,
  startTestInstance,
  type TestInstance,
  type TestIssuer,
} from "../testing";

let instance: TestInstance;
let tenant: string;
let forger: TestIssuer;
let stranger: TestIssuer;

const EMBED = { ids: ["intruder"], documents: ["should never be stored"] };
const PROTECTED: [method: string, path: string, body?: unknown][] = [
  ["POST", "/embed", EMBED],
  ["POST", "/search", { query: "x" }],
  ["POST", "/delete", { ids: ["seed"] }],
  ["GET", "/collections"],
  ["POST", "/collections", { name: "intruders" }],
  ["DELETE", "/collections/default"],
];

beforeAll(async () => {
  instance = await startTestInstance();
  tenant = instance.config.TENANT_ID;
  // Same key id as the real issuer, another key: a forgery that names a trusted kid.
  forger = await createTestIssuer({ issuer: instance.issuer.issuer, kid: instance.issuer.kid });
  stranger = await createTestIssuer({ issuer: instance.issuer.issuer });
  const res = await instanceApi(instance.url, "POST", "/embed", {
    token: await instance.token(["write"]),
    body: { ids: ["seed"], documents: ["the only document"] },
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await forger?.close();
  await stranger?.close();
  await instance?.close();
});

/** What is stored: every collection's name and count. */
async function stored() {
  const collections = await instance.chroma.listCollections();
  return Object.fromEntries(
    await Promise.all(collections.map(async (c) => [c.name, await c.count()] as const)),
  );
}

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.requestId).toMatch(/^req_/);
}

async function expectRefusedEverywhere(
  authorization: string | undefined,
  status: number,
  code: string,
  message?: RegExp,
) {
  const before = await stored();
  for (const [method, path, body] of PROTECTED) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const res = await instanceApi(instance.url, method, path, { body, headers });
    expectError(res, status, code);
    if (message) expect(res.body.error.message).toMatch(message);
  }
  expect(await stored()).toEqual(before);
}

describe("tokens that must not get in (401, nothing written)", () => {
  it("no token", () => expectRefusedEverywhere(undefined, 401, "UNAUTHORIZED", /Bearer/));
  it("not a bearer token", () => expectRefusedEverywhere("Basic dXNlcjpwYXNz", 401, "UNAUTHORIZED"));
  it("garbage", () => expectRefusedEverywhere("Bearer not.a.jwt", 401, "UNAUTHORIZED"));

  it("forged: signed by another key under a trusted key id", async () => {
    const token = await forger.mint({ tenant, scopes: ["admin"] });
    await expectRefusedEverywhere(`Bearer ${token}`, 401, "UNAUTHORIZED");
  });

  it("forged: signed by an unknown key", async () => {
    const token = await stranger.mint({ tenant, scopes: ["admin"] });
    await expectRefusedEverywhere(`Bearer ${token}`, 401, "UNAUTHORIZED");
  });

  it("expired", async () => {
    const token = await instance.issuer.mint({
      tenant,
      scopes: ["admin"],
      expiresIn: Math.floor(Date.now() / 1000) - 60,
    });
    await expectRefusedEverywhere(`Bearer ${token}`, 401, "UNAUTHORIZED", /expired/);
  });

  it("another tenant's token (wrong audience)", async () => {
    const other = newId("tenant");
    const token = await instance.issuer.mint({ tenant: other, scopes: ["admin"] });
    await expectRefusedEverywhere(`Bearer ${token}`, 401, "UNAUTHORIZED", /audience/);
  });

  it("our audience but another tenant's claim", async () => {
    const token = await instance.issuer.mint({
      tenant: newId("tenant"),
      scopes: ["admin"],
      audience: instanceAudience(tenant),
    });
    await expectRefusedEverywhere(`Bearer ${token}`, 401, "UNAUTHORIZED", /another tenant/);
  });

  it("another issuer", async () => {
    const token = await instance.issuer.mint({ tenant, scopes: ["admin"], issuer: "https://evil.example" });
    await expectRefusedEverywhere(`Bearer ${token}`, 401, "UNAUTHORIZED", /issuer/);
  });

  it("alg none", async () => {
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = `${encode({ alg: "none" })}.${encode({ tenant, scope: "admin", aud: instanceAudience(tenant), iss: instance.issuer.issuer, exp })}.`;
    await expectRefusedEverywhere(`Bearer ${token}`, 401, "UNAUTHORIZED");
  });
});

describe("scopes (403, nothing written)", () => {
  it("a read token cannot write", async () => {
    const before = await stored();
    const token = await instance.token(["read"]);
    for (const [method, path, body] of PROTECTED.filter(
      ([, path]) => path !== "/search" && !(path === "/collections"),
    )) {
      const res = await instanceApi(instance.url, method, path, { token, body });
      expectError(res, 403, "FORBIDDEN");
      expect(res.body.error.message).toContain('"write"');
    }
    expectError(
      await instanceApi(instance.url, "POST", "/collections", { token, body: { name: "intruders" } }),
      403,
      "FORBIDDEN",
    );
    expect(await stored()).toEqual(before);
  });

  it("a read token can search and list", async () => {
    const token = await instance.token(["read"]);
    const search = await instanceApi(instance.url, "POST", "/search", { token, body: { query: "document" } });
    expect(search.status).toBe(200);
    expect(search.body.results.map((hit: { id: string }) => hit.id)).toEqual(["seed"]);
    expect((await instanceApi(instance.url, "GET", "/collections", { token })).status).toBe(200);
  });

  it("a token without any known scope can do nothing", async () => {
    const token = await instance.token([]);
    expectError(
      await instanceApi(instance.url, "POST", "/search", { token, body: { query: "x" } }),
      403,
      "FORBIDDEN",
    );
  });

  it("authentication comes before validation: an invalid body from a stranger is 401, not 400", async () => {
    const res = await instanceApi(instance.url, "POST", "/embed", { body: { ids: [""] } });
    expectError(res, 401, "UNAUTHORIZED");
    expect(res.body.error.issues).toBeUndefined();
  });

  it("admin and write tokens may write", async () => {
    for (const scope of ["write", "admin"] as const) {
      const token = await instance.token([scope]);
      const res = await instanceApi(instance.url, "POST", "/embed", {
        token,
        body: { ids: [scope], documents: [scope] },
      });
      expect(res.status).toBe(200);
    }
    await instanceApi(instance.url, "POST", "/delete", {
      token: await instance.token(["write"]),
      body: { ids: ["write", "admin"] },
    });
  });
});

describe("open routes", () => {
  it("healthz, openapi.json and docs need no token", async () => {
    for (const path of ["/healthz", "/openapi.json", "/docs"]) {
      expect((await fetch(`${instance.url}${path}`)).status).toBe(200);
    }
  });

  it("healthz without a token says only whether the instance is alive: no tenant, plan, limits or counts", async () => {
    const anonymous = await (await fetch(`${instance.url}/healthz`)).json();
    expect(anonymous).toEqual({ status: "ok" });
    const forged = await fetch(`${instance.url}/healthz`, { headers: { authorization: "Bearer not.a.jwt" } });
    expect(forged.status).toBe(401);
    expect(JSON.stringify(await forged.json())).not.toContain(instance.config.TENANT_ID);
  });
});

describe("when the control plane's keys are unreachable", () => {
  it("answers 503, not 401, and writes nothing", async () => {
    const deadPort = await freePort();
    const config = loadInstanceConfig({
      TENANT_ID: tenant,
      MODEL_NAME: "hash",
      DIMENSION: "64",
      JWKS_URL: `http://127.0.0.1:${deadPort}/.well-known/jwks.json`,
      TOKEN_ISSUER: instance.issuer.issuer,
      LOG_LEVEL: "silent",
    });
    const app = createInstanceApp({
      config,
      chromaUrl: instance.config.CHROMA_URL!,
      provider: createHashProvider({ dimension: 64 }),
    });
    const before = await stored();
    const res = await app.request("/embed", {
      method: "POST",
      headers: {
        authorization: `Bearer ${await instance.token(["write"])}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(EMBED),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.code).toBe("SERVICE_UNAVAILABLE");
    expect(await stored()).toEqual(before);
  });
});
