import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { LocalRuntime } from "./local-runtime";

const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-local-runtime-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("the local runtime and instances it did not start", () => {
  it("reports the exit of a re-adopted instance (not its child, so no exit event) like a child's", async () => {
    // A process that passes for an instance (its command line names the instance's main), left
    // by an earlier control plane: its pid file is all this runtime knows of it.
    const instanceMain = path.join(
      path.dirname(createRequire(import.meta.url).resolve("@vdb/instance/package.json")),
      "src",
      "main.ts",
    );
    const earlier = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", instanceMain], {
      stdio: "ignore",
    });
    const tenantId = "ten_adopted0000000000000";
    mkdirSync(path.join(dataDir, tenantId));
    writeFileSync(
      path.join(dataDir, tenantId, "instance.json"),
      JSON.stringify({ tenantId, pid: earlier.pid, port: 1, startedAt: new Date().toISOString() }),
    );
    const runtime = new LocalRuntime({ dataDir, ports: [1, 1], logger: pino({ level: "silent" }) });
    const exited: string[] = [];
    runtime.onExit((tenant) => exited.push(tenant));
    try {
      expect((await runtime.list()).map((handle) => handle.tenantId)).toEqual([tenantId]);
      expect(exited).toEqual([]);
      earlier.kill("SIGKILL");
      while (exited.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(exited).toEqual([tenantId]);
      expect(await runtime.list()).toEqual([]);
    } finally {
      earlier.kill("SIGKILL");
    }
  });
});
