import http from "node:http";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEEP_ALIVE_TIMEOUT_MS, serveApp } from "./serve";

describe("serveApp", () => {
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    const app = new Hono().post("/echo", async (c) => c.text(await c.req.text()));
    server = serveApp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("announces idle connections kept 65 s, not Node's 5 s, and serves them", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: string) =>
      new Promise<{ text: string; keepAlive?: string | string[]; socketPort?: number }>((resolve, reject) => {
        const request = http.request(`${url}/echo`, { method: "POST", agent }, (answer) => {
          let text = "";
          answer.on("data", (chunk) => (text += chunk));
          answer.on("end", () =>
            resolve({ text, keepAlive: answer.headers["keep-alive"], socketPort: request.socket?.localPort }),
          );
        });
        request.on("error", reject);
        request.end(body);
      });
    const first = await post("one");
    const second = await post("two");
    agent.destroy();
    expect(first).toMatchObject({ text: "one", keepAlive: `timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}` });
    expect(second.text).toBe("two");
    expect(second.socketPort).toBe(first.socketPort); // the same connection, kept
  });
});
