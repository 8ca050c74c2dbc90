import { createTRPCClient, httpSubscriptionLink, type TRPCClient } from "@trpc/client";
import { TenantId } from "@vdb/schemas/ids";
import { EventSource } from "eventsource";
import { type AppRouter, createVdbClient, type VdbClient } from "../index";
import { withRateLimitRetry } from "../rate-limit-retry";
import type { Command } from "./command";
import { ServerError, UsageError } from "./errors";

const retryingFetch = withRateLimitRetry();

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** The environment the CLI reads: read once, in `main`, and nowhere else. */
export interface CliEnvironment {
  VDB_URL?: string | undefined;
  VDB_API_KEY?: string | undefined;
  VDB_SESSION_TOKEN?: string | undefined;
  /** `vdb password` reads both from the environment, never from the command line (`ps`, history). */
  VDB_CURRENT_PASSWORD?: string | undefined;
  VDB_NEW_PASSWORD?: string | undefined;
}

/** Where stdout and stderr go (real streams, or fakes in tests). */
export interface Streams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

export type Credential = { kind: "apiKey"; value: string } | { kind: "sessionToken"; value: string };

/** A tenant as a command names it: its id, and how to call it in messages. */
export interface TenantTarget {
  id: string;
  label: string;
}

/**
 * Everything a command needs to talk to the control plane and to the user: the URL, the
 * credential (from flags, else the environment), the typed client and the output streams.
 */
export class Session {
  readonly url: string;
  readonly json: boolean;
  readonly credential: Credential | null;
  #client: VdbClient | null = null;
  #live: TRPCClient<AppRouter> | null = null;

  constructor(
    flags: {
      url?: string | undefined;
      apiKey?: string | undefined;
      token?: string | undefined;
      json: boolean;
    },
    env: CliEnvironment,
    prefers: Command["prefers"],
    readonly streams: Streams,
  ) {
    this.url = (flags.url || env.VDB_URL || DEFAULT_URL).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(this.url))
      throw new UsageError(`--url must start with http:// or https://, got "${this.url}"`);
    this.json = flags.json;
    this.credential = pickCredential(flags, env, prefers);
  }

  /** The typed client (queries and mutations); fails with a hint when no credential is set. */
  get client(): VdbClient {
    if (!this.#client) {
      const credential = this.requireCredential();
      this.#client = createVdbClient(
        credential.kind === "apiKey"
          ? { url: this.url, apiKey: credential.value }
          : { url: this.url, sessionToken: credential.value },
        { headers: { "user-agent": "vdb-cli" } },
      );
    }
    return this.#client;
  }

  /**
   * A client for the live subscriptions (`instances.onStatus`, `documents.onProgress`) over SSE.
   * Node 20 has no global EventSource, hence the `eventsource` package; it sends our header.
   */
  get live(): TRPCClient<AppRouter> {
    if (!this.#live) {
      const authorization = `Bearer ${this.requireCredential().value}`;
      this.#live = createTRPCClient<AppRouter>({
        links: [
          httpSubscriptionLink({
            url: `${this.url}/trpc`,
            EventSource,
            eventSourceOptions: {
              fetch: (input, init) => {
                const headers = new Headers(init?.headers);
                headers.set("authorization", authorization);
                return fetch(input, { ...init, headers });
              },
            },
          }),
        ],
      });
    }
    return this.#live;
  }

  requireCredential(): Credential {
    if (!this.credential) {
      throw new UsageError(
        "no credential: pass --api-key <key> or --token <session token>, or set VDB_API_KEY or VDB_SESSION_TOKEN",
      );
    }
    return this.credential;
  }

  /** A JSON call to the REST API under `/api/v1`; a non-2xx answer throws a {@link ServerError}. */
  async rest<T>(
    method: string,
    path: string,
    { body, query }: { body?: unknown; query?: Record<string, string | undefined> } = {},
  ): Promise<T> {
    const url = new URL(`${this.url}/api/v1${path}`);
    for (const [name, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(name, value);
    const response = await retryingFetch(url, {
      method,
      headers: {
        authorization: `Bearer ${this.requireCredential().value}`,
        "user-agent": "vdb-cli",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw await ServerError.fromResponse(response);
    return (await response.json()) as T;
  }

  /**
   * The tenant `ref` names: an id as is, a slug looked up with `tenants.list`. Without `ref`, an
   * API key's own tenant (the only one it can see).
   */
  async resolveTenant(ref: string | undefined): Promise<TenantTarget> {
    if (ref === undefined || ref === "") {
      if (this.requireCredential().kind !== "apiKey") {
        throw new UsageError("--tenant <slug|id> is required with a session token");
      }
      const { items } = await this.client.tenants.list.query({ limit: 2 });
      if (items.length !== 1) throw new UsageError("--tenant <slug|id> is required");
      return { id: items[0]!.id, label: items[0]!.slug };
    }
    if (TenantId.safeParse(ref).success) return { id: ref, label: ref };
    let cursor: string | undefined;
    do {
      const page = await this.client.tenants.list.query({
        search: ref,
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      const match = page.items.find((tenant) => tenant.slug === ref);
      if (match) return { id: match.id, label: match.slug };
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    throw new ServerError(`No tenant "${ref}" that this credential can see`, "NOT_FOUND", null);
  }

  /** The command's result on stdout: `human` as text, or `data` as JSON with `--json`. */
  print(data: unknown, human: () => string): void {
    const text = this.json ? JSON.stringify(data, null, 2) : human();
    if (text) this.streams.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A line for the person watching (stderr): never part of the result. */
  note(text: string): void {
    this.streams.stderr.write(`${text}\n`);
  }
}

function pickCredential(
  flags: { apiKey?: string | undefined; token?: string | undefined },
  env: CliEnvironment,
  prefers: Command["prefers"],
): Credential | null {
  if (flags.apiKey !== undefined && flags.token !== undefined) {
    throw new UsageError("give either --api-key or --token, not both");
  }
  if (flags.apiKey !== undefined) return nonEmpty("apiKey", flags.apiKey, "--api-key");
  if (flags.token !== undefined) return nonEmpty("sessionToken", flags.token, "--token");
  const fromEnv: Credential[] = [];
  if (env.VDB_API_KEY) fromEnv.push({ kind: "apiKey", value: env.VDB_API_KEY });
  if (env.VDB_SESSION_TOKEN) fromEnv.push({ kind: "sessionToken", value: env.VDB_SESSION_TOKEN });
  return fromEnv.find((credential) => credential.kind === prefers) ?? fromEnv[0] ?? null;
}

function nonEmpty(kind: Credential["kind"], value: string, flag: string): Credential {
  if (!value.trim()) throw new UsageError(`${flag} is empty`);
  return { kind, value: value.trim() };
}
