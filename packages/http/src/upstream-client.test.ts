import http from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createUpstreamClient, type UpstreamClient } from "./upstream-client";

interface Upstream {
  url: string;
  /** Connections the server has accepted so far. */
  connections: () => number;
  close: () => Promise<void>;
}

async function upstream(handler: http.RequestListener, keepAliveTimeoutMs?: number): Promise<Upstream> {
  const server = http.createServer(handler);
  if (keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = keepAliveTimeoutMs;
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on("connection", (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
  });
}

describe("createUpstreamClient", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  function track<T extends Upstream | UpstreamClient>(thing: T): T {
    cleanups.push(() => thing.close());
    return thing;
  }

  it("sends the method, headers and UTF-8 body, and returns status, content type and text", async () => {
    const seen: { method?: string; length?: string; auth?: string; body?: string }[] = [];
    const server = track(
      await upstream(async (req, res) => {
        seen.push({
          method: req.method,
          length: req.headers["content-length"],
          auth: req.headers.authorization,
          body: await readBody(req),
        });
        res.writeHead(201, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: "día" }));
      }),
    );
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 5_000 }));

    const reply = await client.request(`${server.url}/search?x=1`, {
      method: "POST",
      headers: { authorization: "Bearer t", "content-type": "application/json" },
      body: '{"q":"día"}',
    });

    expect(reply).toEqual({ status: 201, contentType: "application/json", text: '{"ok":"día"}' });
    expect(seen).toEqual([
      {
        method: "POST",
        length: String(Buffer.byteLength('{"q":"día"}')),
        auth: "Bearer t",
        body: '{"q":"día"}',
      },
    ]);
  });

  it("resolves with error statuses rather than throwing: the caller decides what they mean", async () => {
    const server = track(
      await upstream((_req, res) => {
        res.writeHead(404);
        res.end("gone");
      }),
    );
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 5_000 }));

    await expect(client.request(`${server.url}/x`, { method: "GET" })).resolves.toEqual({
      status: 404,
      contentType: undefined,
      text: "gone",
    });
  });

  it("reuses one kept-alive connection for calls made one after another", async () => {
    const server = track(
      await upstream((_req, res) => {
        res.end("ok");
      }),
    );
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 5_000 }));

    for (let i = 0; i < 5; i++) await client.request(`${server.url}/`, { method: "GET" });

    expect(server.connections()).toBe(1);
  });

  it("closes an idle connection before the server's announced keep-alive timeout", async () => {
    // Who closed the kept-alive connection: the client (its FIN reaches the server as `end`), or
    // the server when its own keep-alive timeout fired (`timeout`, then it destroys the socket).
    let closedBy: "client" | "server" | undefined;
    let answeredAt = 0;
    let closedAfterMs = 0;
    let closed!: Promise<void>;
    const server = track(
      await upstream((req, res) => {
        const socket = req.socket;
        closed = new Promise((resolve) =>
          socket.once("close", () => {
            closedAfterMs = Date.now() - answeredAt;
            resolve();
          }),
        );
        socket.once("end", () => {
          closedBy ??= "client";
        });
        socket.once("timeout", () => {
          closedBy ??= "server";
        });
        answeredAt = Date.now();
        res.end("ok");
      }, 2_000),
    );
    // The test server is Node's: it announces `Keep-Alive: timeout=2` and closes after 2 s (5 s
    // by default). Our client's own idle timeout is longer (4 s): the server's hint decides, and
    // the client lets go first, so it never sends a request on a connection the server is closing.
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 5_000 }));

    const answer = await client.request(`${server.url}/`, { method: "GET" });
    expect(answer.status).toBe(200);
    await closed;

    expect(closedBy).toBe("client");
    expect(closedAfterMs).toBeGreaterThan(500); // kept alive for a while, not closed after the answer
  });

  it("waits for a slow answer past the idle timeout, up to the request timeout", async () => {
    const server = track(
      await upstream((_req, res) => {
        setTimeout(() => res.end("slow"), 1_000);
      }),
    );
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 10_000, idleTimeoutMs: 300 }));

    await expect(client.request(`${server.url}/`, { method: "GET" })).resolves.toMatchObject({
      text: "slow",
    });
  });

  it("speaks TLS to an https: upstream", async () => {
    let firstByte: number | undefined;
    const listener = net.createServer((socket) => {
      socket.once("data", (chunk: Buffer) => {
        firstByte = chunk[0];
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 5_000 }));
    const { port } = listener.address() as AddressInfo;

    await expect(client.request(`https://127.0.0.1:${port}/`, { method: "GET" })).rejects.toThrow();
    expect(firstByte).toBe(0x16); // a TLS handshake record, not "GET / HTTP/1.1"
  });

  it("rejects when nothing listens", async () => {
    const server = await upstream((_req, res) => res.end());
    await server.close();
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 5_000 }));

    await expect(client.request(`${server.url}/`, { method: "GET" })).rejects.toThrow(/ECONNREFUSED/);
  });

  it("rejects when the upstream stays silent past the timeout", async () => {
    const server = track(await upstream(() => {}));
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 200 }));

    await expect(client.request(`${server.url}/`, { method: "GET" })).rejects.toThrow(
      /no answer within 200 ms/,
    );
  });

  it("rejects an answer cut off midway instead of returning half of it", async () => {
    const server = track(
      await upstream((req, res) => {
        res.writeHead(200, { "content-length": "100" });
        res.write("only part");
        setTimeout(() => req.socket.destroy(), 20);
      }),
    );
    const client = track(createUpstreamClient({ maxSockets: 4, timeoutMs: 5_000 }));

    await expect(client.request(`${server.url}/`, { method: "GET" })).rejects.toThrow();
  });

  it("open: streams a body up and the answer down, and sends a Buffer with its length", async () => {
    const seen: { length?: string; encoding?: string; body: string }[] = [];
    const server = track(
      await upstream(async (req, res) => {
        const body = await readBody(req);
        seen.push({
          length: req.headers["content-length"],
          encoding: req.headers["transfer-encoding"],
          body,
        });
        res.writeHead(201, { "content-type": "text/plain" });
        res.write("first,");
        setImmediate(() => res.end("second"));
      }),
    );
    const client = track(createUpstreamClient({ maxSockets: 2, timeoutMs: 5_000 }));
    const streamed = await client.open(`${server.url}/up`, {
      method: "POST",
      body: Readable.from([Buffer.from("one "), Buffer.from("two")]),
    });
    expect(streamed.status).toBe(201);
    expect(streamed.contentType).toBe("text/plain");
    const parts: Buffer[] = [];
    for await (const chunk of streamed.body) parts.push(chunk as Buffer);
    expect(Buffer.concat(parts).toString()).toBe("first,second");
    const buffered = await client.open(`${server.url}/up`, { method: "POST", body: Buffer.from("three") });
    buffered.body.resume();
    expect(seen).toEqual([
      { length: undefined, encoding: "chunked", body: "one two" },
      { length: "5", encoding: undefined, body: "three" },
    ]);
  });

  it("open: a body stream that fails rejects the call instead of leaving it half sent", async () => {
    const server = track(await upstream(async (req, res) => res.end(await readBody(req))));
    const client = track(createUpstreamClient({ maxSockets: 2, timeoutMs: 5_000 }));
    const failing = new Readable({
      read() {
        this.push("partial");
        this.destroy(new Error("the client went away"));
      },
    });
    await expect(client.open(`${server.url}/up`, { method: "POST", body: failing })).rejects.toThrow(
      "the client went away",
    );
  });
});
