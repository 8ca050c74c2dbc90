import { Hono } from "hono";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { type RequestContextEnv, redactPath, requestContext } from "./request-context";

type CallerEnv = {
  Variables: RequestContextEnv["Variables"] & { caller: string | null };
};

/** A logger whose lines land in `lines`, parsed. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe("requestContext", () => {
  it("keeps a sane caller X-Request-Id and replaces any other", async () => {
    const { logger } = capturingLogger();
    const app = new Hono<RequestContextEnv>();
    app.use(requestContext<RequestContextEnv>({ services: { logger }, quietPaths: [] }));
    app.get("/id", (c) => c.text(c.var.requestId));

    const kept = await app.request("/id", { headers: { "x-request-id": "lb-7f3a:42" } });
    expect(await kept.text()).toBe("lb-7f3a:42");
    expect(kept.headers.get("x-request-id")).toBe("lb-7f3a:42");

    const replaced = await app.request("/id", { headers: { "x-request-id": "bad id!" } });
    const id = await replaced.text();
    expect(id).not.toBe("bad id!");
    expect(replaced.headers.get("x-request-id")).toBe(id);
  });

  it("logs one access line per request, stamped with its id, except on quiet paths", async () => {
    const { logger, lines } = capturingLogger();
    const app = new Hono<RequestContextEnv>();
    app.use(requestContext<RequestContextEnv>({ services: { logger }, quietPaths: ["/health"] }));
    app.get("/health", (c) => c.text("ok"));
    app.get("/work", (c) => c.text("done", 201));

    await app.request("/health");
    await app.request("/work", { headers: { "x-request-id": "req_1" } });
    expect(lines).toEqual([
      expect.objectContaining({
        msg: "request",
        requestId: "req_1",
        method: "GET",
        path: "/work",
        status: 201,
      }),
    ]);
  });

  it("runs onStart before the handlers and onFinish with the final status", async () => {
    const { logger } = capturingLogger();
    const finished: number[] = [];
    const app = new Hono<CallerEnv>();
    app.use(
      requestContext<CallerEnv>({
        services: { logger },
        quietPaths: [],
        onStart: (c) => c.set("caller", null),
        onFinish: (c, seconds) => {
          expect(seconds).toBeGreaterThanOrEqual(0);
          finished.push(c.res.status);
        },
      }),
    );
    app.get("/who", (c) => c.json({ caller: c.var.caller }, 202));
    const response = await app.request("/who");
    expect(await response.json()).toEqual({ caller: null });
    expect(finished).toEqual([202]);
  });

  it("keeps credentials out of the access log: after a secret prefix, and any key, session or JWT segment", async () => {
    const { logger, lines } = capturingLogger();
    const app = new Hono<RequestContextEnv>();
    app.use(
      requestContext<RequestContextEnv>({
        services: { logger },
        quietPaths: [],
        secretPathPrefixes: ["/uploads/"],
      }),
    );
    app.all("*", (c) => c.text("ok"));
    const secrets = [
      "/uploads/eyJrZXkiOiJ4In0.c2ln",
      "/keys/vdbk_abc123/x",
      "/t/eyJhbGciOiJFUzI1NiJ9.e30.sig",
    ];
    for (const path of secrets) await app.request(`${path}?token=vdbs_query`);
    const logged = lines.map((line) => line.path);
    expect(logged).toEqual(["/uploads/[redacted]", "/keys/[redacted]/x", "/t/[redacted]"]);
    expect(JSON.stringify(lines)).not.toMatch(/c2ln|vdbk_abc|vdbs_query|e30/);
    expect(redactPath("/api/v1/tenants/ten_1/keys")).toBe("/api/v1/tenants/ten_1/keys");
  });
});
