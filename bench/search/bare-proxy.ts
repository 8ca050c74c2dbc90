/**
 * The floor of one Node HTTP hop: a plain `node:http` server that forwards each request to one
 * upstream over a kept-alive agent and returns the answer as it came. No auth, no validation, no
 * routing, no metering: whatever a real service does, it does at least this.
 *
 * Used two ways by bench/search: in the benchmark's own process, in front of the instance (row d),
 * and run as a script, one process per hop, chained in front of Chroma (row e):
 *
 *   node --import tsx bench/search/bare-proxy.ts http://127.0.0.1:8000   # prints its own URL
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export interface BareProxy {
  url: string;
  close(): Promise<void>;
}

export async function startBareProxy(target: string): Promise<BareProxy> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const forward = http.request(
        {
          agent,
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: {
            "content-type": req.headers["content-type"] ?? "application/json",
            "content-length": body.length,
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          },
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("end", () => {
            const text = Buffer.concat(parts);
            res.writeHead(answer.statusCode ?? 502, {
              "content-type": answer.headers["content-type"] ?? "application/json",
              "content-length": text.length,
            });
            res.end(text);
          });
        },
      );
      forward.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = process.argv[2];
  if (!target) {
    console.error("usage: bare-proxy.ts <upstream origin>");
    process.exit(2);
  }
  const proxy = await startBareProxy(target);
  console.log(proxy.url);
}
