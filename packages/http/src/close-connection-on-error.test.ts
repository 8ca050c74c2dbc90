import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeConnectionOnError, LINGER_AFTER_ERROR } from "./app-defaults";
import { sendLargeBody } from "./testing";

const MB = 1024 * 1024;

describe("closeConnectionOnError on a Node server", () => {
  let server: ReturnType<typeof serve>;
  let url: string;

  beforeAll(async () => {
    const app = new Hono();
    // Like an upload route over its limit: reads 10 MB of the body, then refuses the rest.
    app.post("/files", closeConnectionOnError, async (c) => {
      const reader = c.req.raw.body!.getReader();
      for (let read = 0; read < 10 * MB; ) {
        const { value, done } = await reader.read();
        if (done) break;
        read += value.length;
      }
      await reader.cancel();
      return c.json({ error: { code: "PAYLOAD_TOO_LARGE" } }, 413);
    });
    app.post("/small", closeConnectionOnError, (c) => c.json({ error: { code: "UNAUTHORIZED" } }, 401));
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("a client that keeps sending gets the answer, not a reset, every time", async () => {
    // Closing at once with the body unread answered EPIPE/ECONNRESET to every one of 40 such sends.
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await sendLargeBody(`${url}/files`, { totalBytes: 64 * MB }));
    expect(results.map((result) => result.error ?? result.status)).toEqual(Array(10).fill(413));
    expect(JSON.parse(results[0]!.text!)).toEqual({ error: { code: "PAYLOAD_TOO_LARGE" } });
    // The rest of the body is still not read: at most what was read, the linger's bytes and buffers.
    for (const { bytesSent } of results)
      expect(bytesSent).toBeLessThan(10 * MB + LINGER_AFTER_ERROR.bytes + 8 * MB);
  });

  it("closes the connection after the answer", async () => {
    const response = await fetch(`${url}/small`, { method: "POST", body: "x" });
    expect(response.status).toBe(401);
    expect(response.headers.get("connection")).toBe("close");
  });
});
