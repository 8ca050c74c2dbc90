/**
 * Test harness for the instance, also meant for the control plane's tests: a real Chroma, a
 * stand-in token issuer with its own JWKS endpoint, and a whole instance served on a free port.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHashProvider } from "@vdb/embeddings/hash";
import type { EmbeddingProvider } from "@vdb/embeddings/provider";
import { serveApp } from "@vdb/http/serve";
import { jsonRequest } from "@vdb/http/testing";
import type { Scope } from "@vdb/schemas/auth";
import { newId } from "@vdb/schemas/ids";
import { instanceAudience, poolAudience } from "@vdb/schemas/tokens";
import type { ChromaClient } from "chromadb";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createInstanceApp, type InstanceApp } from "./app";
import { startChromaProcess } from "./chroma-process";
import { chromaClientFor } from "./collections/chroma-collections";
import { type InstanceConfig, loadInstanceConfig } from "./config";
import { createLogger } from "./logger";

export { chromaClientFor };

/** `src/main.ts`, for runtimes and tests that start an instance as its own process. */
export const INSTANCE_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "main.ts");

export interface TestChroma {
  url: string;
  /** Its data directory. */
  dir: string;
  port: number;
  pid: number;
  /** A client for this server. */
  client(): ChromaClient;
  /** Stops the server and removes its directory if the harness created it. */
  stop(): Promise<void>;
}

/**
 * A real `chroma run` on a free loopback port, in `dir` or a new temporary directory.
 *
 * @example
 * const chroma = await startChroma();
 * const client = chroma.client();
 * await chroma.stop();
 */
export async function startChroma(
  dir?: string,
  opts: { hnswCacheCapacity?: number } = {},
): Promise<TestChroma> {
  const ownsDir = dir === undefined;
  const dataDir = dir ?? (await mkdtemp(path.join(os.tmpdir(), "vdb-chroma-")));
  const chroma = await startChromaProcess({ path: dataDir, ...opts });
  return {
    url: chroma.url,
    dir: dataDir,
    port: chroma.port,
    pid: chroma.pid,
    client: () => chromaClientFor(chroma.url),
    async stop() {
      await chroma.stop();
      if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface MintOptions {
  tenant: string;
  scopes: Scope[];
  /** Default: the tenant's instance audience. */
  audience?: string;
  /** jose duration ("15m") or seconds since epoch; a past time gives an expired token. */
  expiresIn?: string | number;
  /** Default: the issuer's own. */
  issuer?: string;
  /** The `key` claim: the API key the token was minted with (none by default). */
  keyId?: string;
  /** The `pool` claim: a token for a shared-tier tenant, audience the pool's unless told otherwise. */
  pool?: string;
  /** The `sub` claim; default `key_test` (`control-plane`: the control plane's own call). */
  subject?: string;
}

export interface TestIssuer {
  /** Serves `{ keys: [...] }` like the control plane's `/.well-known/jwks.json`. */
  jwksUrl: string;
  issuer: string;
  kid: string;
  mint(opts: MintOptions): Promise<string>;
  /** Lists `keyId` as revoked, as the control plane's `/.well-known/vdb-revoked-keys.json` would. */
  revoke(keyId: string): void;
  close(): Promise<void>;
}

/**
 * An ES256 signer with a JWKS on a local HTTP port, minting instance tokens shaped like the
 * control plane's: so instance tests need no control plane. Two issuers with the same `kid`
 * make a forged token (right key id, wrong key).
 *
 * @example
 * const issuer = await createTestIssuer();
 * const token = await issuer.mint({ tenant: "ten_…", scopes: ["read"] });
 */
export async function createTestIssuer(
  opts: { issuer?: string; kid?: string; serveJwks?: boolean } = {},
): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = opts.kid ?? newId("signingKey");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const revoked: string[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else if (req.url?.startsWith("/.well-known/vdb-revoked-keys.json?")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: revoked }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = opts.issuer ?? `http://127.0.0.1:${port}`;
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer,
    kid,
    mint: (mint) =>
      new SignJWT({
        tenant: mint.tenant,
        scope: mint.scopes.join(" "),
        ...(mint.keyId ? { key: mint.keyId } : {}),
        ...(mint.pool ? { pool: mint.pool } : {}),
      })
        .setProtectedHeader({ alg: "ES256", kid })
        .setIssuer(mint.issuer ?? issuer)
        .setAudience(mint.audience ?? (mint.pool ? poolAudience(mint.pool) : instanceAudience(mint.tenant)))
        .setSubject(mint.subject ?? "key_test")
        .setJti(crypto.randomUUID())
        .setIssuedAt()
        .setExpirationTime(mint.expiresIn ?? "15m")
        .sign(privateKey),
    revoke: (keyId) => void revoked.push(keyId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestInstance {
  url: string;
  app: InstanceApp;
  config: InstanceConfig & { TENANT_ID: string };
  chroma: ChromaClient;
  provider: EmbeddingProvider;
  issuer: TestIssuer;
  /** A valid token for this instance's tenant. */
  token(scopes?: Scope[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * A whole instance in-process on a free port, with the `hash` provider (64-d unless `env` says
 * otherwise), against `chromaUrl` (or a Chroma of its own) and a test issuer (or the given one).
 * Instances sharing one Chroma share its collections: give each its own for isolation tests.
 *
 * @example
 * const instance = await startTestInstance({ env: { MAX_DOCS: "100" } });
 * const token = await instance.token(["write"]);
 * await fetch(`${instance.url}/embed`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body });
 */
export async function startTestInstance(
  opts: {
    chromaUrl?: string;
    issuer?: TestIssuer;
    env?: Record<string, string>;
    provider?: EmbeddingProvider;
    maxBodyBytes?: number;
    /** As the instance's main passes it: false while its Chroma restarts. */
    isChromaAvailable?: () => boolean;
    /** As the instance's main passes it for a Chroma it runs: that Chroma's directory. */
    chromaDataDir?: string;
  } = {},
): Promise<TestInstance> {
  const chromaServer = opts.chromaUrl ? null : await startChroma();
  const issuer = opts.issuer ?? (await createTestIssuer());
  const chromaUrl = opts.chromaUrl ?? chromaServer!.url;
  // The instance's own files (its keyword indexes) in a directory of its own, unless told where.
  const ownDataDir = opts.env?.DATA_DIR ? null : await mkdtemp(path.join(os.tmpdir(), "vdb-instance-"));
  const config = loadInstanceConfig({
    ...(opts.env?.POOL_ID ? {} : { TENANT_ID: newId("tenant") }),
    MODEL_NAME: "hash",
    DIMENSION: "64",
    JWKS_URL: issuer.jwksUrl,
    TOKEN_ISSUER: issuer.issuer,
    CHROMA_URL: chromaUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    // The test issuer's tokens are direct callers, limited at the plan's rate: enterprise's leaves
    // room for suites that send dozens of requests a second (set PLAN to test the limit itself).
    PLAN: "enterprise",
    ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}),
    ...opts.env,
  });
  const provider = opts.provider ?? createHashProvider({ dimension: config.DIMENSION });
  const chroma = chromaClientFor(chromaUrl);
  const app = createInstanceApp({
    config,
    chromaUrl,
    provider,
    logger: createLogger(config.LOG_LEVEL, config.TENANT_ID ?? config.POOL_ID),
    maxBodyBytes: opts.maxBodyBytes,
    isChromaAvailable: opts.isChromaAvailable,
    chromaDataDir: opts.chromaDataDir,
  });
  const server = await new Promise<ReturnType<typeof serveApp>>((resolve) => {
    const started = serveApp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    // A pool's harness (startTestPool) does not expose this type.
    config: config as InstanceConfig & { TENANT_ID: string },
    chroma,
    provider,
    issuer,
    token: (scopes = ["admin"]) => issuer.mint({ tenant: config.TENANT_ID!, scopes }),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // A clean stop, as the instance's main makes it: the keyword indexes' pending snapshots are
      // written now, not by a timer after the directory below is gone (which made it again), and
      // a pool's timers stop.
      await app.saveState();
      if (!opts.issuer) await issuer.close();
      await chromaServer?.stop();
      if (ownDataDir) await rm(ownDataDir, { recursive: true, force: true });
    },
  };
}

export interface TestPool extends Omit<TestInstance, "config" | "token"> {
  config: InstanceConfig & { POOL_ID: string };
  /** A valid token of `tenant` placed in this pool. */
  token(tenant: string, scopes?: Scope[]): Promise<string>;
}

/**
 * A pool instance (the shared tier) in-process, like startTestInstance: any tenant's token for
 * this pool passes, each tenant in its own Chroma namespace.
 *
 * @example
 * const pool = await startTestPool();
 * const token = await pool.token(newId("tenant"), ["write"]);
 */
export async function startTestPool(
  opts: Omit<Parameters<typeof startTestInstance>[0] & object, "env"> & { env?: Record<string, string> } = {},
): Promise<TestPool> {
  const poolId = newId("pool");
  const instance = await startTestInstance({ ...opts, env: { ...opts.env, POOL_ID: poolId } });
  return {
    ...instance,
    config: { ...instance.config, POOL_ID: poolId },
    token: (tenant, scopes = ["admin"]) => instance.issuer.mint({ tenant, scopes, pool: poolId }),
  };
}

/** One call to an instance: JSON in, parsed JSON out (the text for the docs page), whatever the status. */
export const instanceApi = jsonRequest;
