import { createTRPCClient, httpSubscriptionLink } from "@trpc/client";
import { newId } from "@vdb/schemas/ids";
import { EventSource } from "eventsource";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api } from "../testing/http";
import type { AppRouter } from "./router";

let server: TestServer;
let tenantA: string;
let tenantB: string;
let keyOfA: string;
/** What the control plane logged at error level or above while the tests ran. */
const errorLines: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  server.services.logger = pino(
    { level: "error" },
    {
      write: (line: string) => {
        errorLines.push(line);
      },
    },
  );
  const token = server.adminToken;
  tenantA = (await api(server.url, "POST", "/tenants", { token, body: { slug: "sub-tenant-a", name: "A" } }))
    .body.id;
  tenantB = (await api(server.url, "POST", "/tenants", { token, body: { slug: "sub-tenant-b", name: "B" } }))
    .body.id;
  keyOfA = (
    await api(server.url, "POST", `/tenants/${tenantA}/keys`, {
      token,
      body: { name: "k", scopes: ["admin"] },
    })
  ).body.secret;
}, 300_000);
afterAll(async () => server?.close());

/** A subscribing client over SSE (as the console's), sending `token` if there is one. */
function subscriber(token: string | null) {
  return createTRPCClient<AppRouter>({
    links: [
      httpSubscriptionLink({
        url: `${server.url}/trpc`,
        EventSource,
        eventSourceOptions: {
          fetch: (input, init) =>
            fetch(input, {
              ...init,
              headers: { ...init?.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
            }),
        },
      }),
    ],
  });
}

type Failure = { data?: { code?: string; httpStatus?: number; appCode?: string } };

/** Subscribes and resolves with the first error (or throws if data arrives instead). */
function firstError(
  subscribe: (handlers: { onData: () => void; onError: (error: unknown) => void }) => {
    unsubscribe(): void;
  },
): Promise<Failure> {
  return new Promise((resolve, reject) => {
    const subscription = subscribe({
      onData: () => {
        subscription.unsubscribe();
        reject(new Error("the subscription delivered data"));
      },
      onError: (error) => {
        subscription.unsubscribe();
        resolve(error as Failure);
      },
    });
  });
}

describe("subscription auth failures are 401/403, not 500, and are not logged as errors", () => {
  const subscriptions = (client: ReturnType<typeof subscriber>, tenantId: string) => ({
    "instances.onStatus": () =>
      firstError((handlers) => client.instances.onStatus.subscribe({ tenantId }, handlers)),
    "documents.onProgress": () =>
      firstError((handlers) =>
        client.documents.onProgress.subscribe({ tenantId, documentId: newId("document") }, handlers),
      ),
    "chat.stream": () =>
      firstError((handlers) => client.chat.stream.subscribe({ tenantId, message: "hello" }, handlers)),
  });

  it("no credential: UNAUTHORIZED (401) on every subscription", async () => {
    for (const [name, open] of Object.entries(subscriptions(subscriber(null), tenantA))) {
      const failure = await open();
      expect({ name, ...failure.data }).toMatchObject({ name, code: "UNAUTHORIZED", httpStatus: 401 });
    }
  });

  it("a credential that is not one: UNAUTHORIZED (401)", async () => {
    const failure = await subscriptions(subscriber("vdbk_not-a-real-key"), tenantA)["instances.onStatus"]();
    expect(failure.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
  });

  it("another tenant's key: FORBIDDEN (403) on every subscription", async () => {
    for (const [name, open] of Object.entries(subscriptions(subscriber(keyOfA), tenantB))) {
      const failure = await open();
      expect({ name, ...failure.data }).toMatchObject({ name, code: "FORBIDDEN", httpStatus: 403 });
    }
  });

  it("none of them was logged as an error", () => {
    expect(errorLines.filter((line) => line.includes("tRPC error"))).toEqual([]);
  });
});
