import type { Principal } from "@vdb/schemas/auth";
import type { Plan } from "@vdb/schemas/plans";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../http/env";
import { createLogger } from "../lib/logger";
import { type RateLimitOptions, rateLimitByKey, TokenBuckets } from "./rate-limit";

/** A clock that only moves when told to: every request of a test happens "in the same second". */
function fakeClock(start = Date.parse("2025-03-01T12:00:00Z")) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

const apiKey = (keyId: string, tenantId = "ten_a"): Principal => ({
  kind: "apiKey",
  keyId,
  tenantId,
  scopes: ["read"],
});

/**
 * The middleware on a small app; each request names its caller in `x-test-principal` (JSON),
 * standing in for the authentication that runs before it in the real app.
 */
function limitedApp({ clock, ...opts }: Partial<RateLimitOptions> & { clock: ReturnType<typeof fakeClock> }) {
  const lookups: string[] = [];
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("requestId", "req_test");
    c.set("logger", createLogger("silent"));
    const header = c.req.header("x-test-principal");
    c.set("principal", header ? (JSON.parse(header) as Principal) : null);
    await next();
  });
  app.use(
    rateLimitByKey({
      planOf: (tenantId) => {
        lookups.push(tenantId);
        return "starter";
      },
      buckets: new TokenBuckets({ now: clock.now }),
      now: clock.now,
      ...opts,
    }),
  );
  const handled: string[] = [];
  app.get("/ping", (c) => {
    handled.push("ping");
    return c.json({ ok: true });
  });
  // Like the Chroma gateway: a Response of its own rather than c.json.
  app.get("/raw", () => new Response("raw", { headers: { "content-type": "text/plain" } }));
  const request = async (principal: Principal | null, path = "/ping"): Promise<Response> =>
    app.request(path, { headers: principal ? { "x-test-principal": JSON.stringify(principal) } : {} });
  return { request, lookups, handled };
}

async function statuses(responses: Promise<Response>[]): Promise<number[]> {
  return (await Promise.all(responses)).map((response) => response.status);
}

describe("rateLimitByKey", () => {
  it("lets a starter key (10 rps) burst 20 requests, then answers 429 with Retry-After", async () => {
    const clock = fakeClock();
    const { request } = limitedApp({ clock });
    const key = apiKey("key_starter");
    const first = await request(key);
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Limit")).toBe("20");
    expect(first.headers.get("RateLimit-Remaining")).toBe("19");
    expect(first.headers.get("RateLimit-Policy")).toBe("20;w=2");
    expect(await statuses(Array.from({ length: 19 }, () => request(key)))).toEqual(Array(19).fill(200));

    const refused = await request(key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("1");
    expect(refused.headers.get("RateLimit-Remaining")).toBe("0");
    expect(refused.headers.get("RateLimit-Reset")).toBe("2");
    expect(await refused.json()).toEqual({
      error: {
        code: "RATE_LIMITED",
        message: expect.stringContaining("10 requests per second"),
        requestId: "req_test",
      },
    });
  });

  it("stops refused requests before the handler, and labels handlers' own Responses", async () => {
    const clock = fakeClock();
    const { request, handled } = limitedApp({ clock });
    const key = apiKey("key_handler");
    const raw = await request(key, "/raw");
    expect(await raw.text()).toBe("raw");
    expect(raw.headers.get("RateLimit-Remaining")).toBe("19");
    await statuses(Array.from({ length: 25 }, () => request(key)));
    expect(handled).toHaveLength(19);
  });

  it("refills at the plan's rate as time passes", async () => {
    const clock = fakeClock();
    const { request } = limitedApp({ clock });
    const key = apiKey("key_refill");
    await statuses(Array.from({ length: 20 }, () => request(key)));
    expect((await request(key)).status).toBe(429);

    clock.advance(100); // 10 rps: one token per 100 ms
    expect((await request(key)).status).toBe(200);
    expect((await request(key)).status).toBe(429);

    clock.advance(500);
    expect(await statuses(Array.from({ length: 6 }, () => request(key)))).toEqual([
      200, 200, 200, 200, 200, 429,
    ]);

    clock.advance(60_000); // refills to the burst, not beyond
    expect(
      (await statuses(Array.from({ length: 21 }, () => request(key)))).filter((s) => s === 200),
    ).toHaveLength(20);
  });

  it("gives each key its own bucket, shares its tenant's among its keys, and each plan its own rate", async () => {
    const clock = fakeClock();
    const plans: Record<string, Plan> = { ten_small: "starter", ten_other: "starter", ten_big: "pro" };
    const { request } = limitedApp({ clock, planOf: (tenantId) => plans[tenantId] ?? null });
    const small = apiKey("key_small", "ten_small");
    await statuses(Array.from({ length: 20 }, () => request(small)));
    expect((await request(small)).status).toBe(429);
    // Another key of the same tenant draws on the same tenant bucket; another tenant's does not.
    expect((await request(apiKey("key_small_2", "ten_small"))).status).toBe(429);
    expect((await request(apiKey("key_other", "ten_other"))).status).toBe(200);

    const big = apiKey("key_big", "ten_big");
    const burst = await statuses(Array.from({ length: 201 }, () => request(big)));
    expect(burst.filter((s) => s === 200)).toHaveLength(200);
    expect(burst.at(-1)).toBe(429);
  });

  it("gives console sessions a rate of their own (no plan lookup) and leaves anonymous requests alone", async () => {
    const clock = fakeClock();
    const { request, lookups } = limitedApp({ clock });
    const user: Principal = {
      kind: "user",
      userId: "usr_1",
      email: "a@b.c",
      isOperator: false,
      mustChangePassword: false,
      memberships: [],
    };
    expect(await statuses(Array.from({ length: 50 }, () => request(user)))).toEqual(Array(50).fill(200));
    const anonymous = await request(null);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get("RateLimit-Limit")).toBeNull();
    expect(lookups).toEqual([]);
  });

  it("reuses a plan lookup for a few seconds, then sees a plan change", async () => {
    const clock = fakeClock();
    let plan: Plan = "starter";
    const { request, lookups } = limitedApp({
      clock,
      planCacheMs: 5_000,
      planOf: (tenantId) => {
        lookups.push(tenantId);
        return plan;
      },
    });
    const key = apiKey("key_upgrade");
    await statuses(Array.from({ length: 25 }, () => request(key)));
    expect(lookups).toEqual(["ten_a"]);

    plan = "pro";
    clock.advance(1_000);
    expect((await request(key)).headers.get("RateLimit-Limit")).toBe("20");
    clock.advance(5_000);
    expect((await request(key)).headers.get("RateLimit-Limit")).toBe("200");
    expect(lookups).toEqual(["ten_a", "ten_a"]);
  });

  it("fails open when the plan cannot be read", async () => {
    const clock = fakeClock();
    const { request } = limitedApp({
      clock,
      planOf: () => Promise.reject(new Error("store down")),
    });
    const key = apiKey("key_store_down");
    expect(await statuses(Array.from({ length: 30 }, () => request(key)))).toEqual(Array(30).fill(200));
  });
});

describe("TokenBuckets", () => {
  it("holds twice the rate, then refuses with the seconds until the next token", () => {
    const buckets = new TokenBuckets({ now: fakeClock().now });
    const taken = Array.from({ length: 21 }, () => buckets.take("key_plain", 10));
    expect(taken.filter((t) => t.isAllowed)).toHaveLength(20);
    expect(taken.at(-1)).toMatchObject({ isAllowed: false, remaining: 0, limit: 20 });
    expect(taken.at(-1)?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it("forgets keys that have been idle long enough to be full again", () => {
    const clock = fakeClock();
    const buckets = new TokenBuckets({ now: clock.now });
    buckets.take("key_once", 10);
    buckets.take("key_twice", 10);
    expect(buckets.size).toBe(2);
    clock.advance(61_000);
    buckets.take("key_twice", 10);
    expect(buckets.size).toBe(1);
  });
});
