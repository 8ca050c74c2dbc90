import { readFileSync } from "node:fs";
import path from "node:path";
import { isPidAlive } from "@vdb/http/processes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "../testing";
import { adminSession, api, launchUntilRunning, tenantWithKey } from "../testing/http";
import { childPidsOf, type RestartablePlane, restartablePlane } from "../testing/process";

function instancePid(dataDir: string, tenantId: string): number {
  return JSON.parse(readFileSync(path.join(dataDir, "instances", tenantId, "instance.json"), "utf8")).pid;
}

describe("restarting the control plane (a real process, as `npm start` runs it)", () => {
  let plane: RestartablePlane;
  beforeAll(async () => {
    // The same URL across restarts: running instances fetch the JWKS from it.
    plane = await restartablePlane("cp-restart");
  });
  afterAll(async () => plane?.dispose("SIGINT"));

  it("SIGTERM leaves instances running and the next control plane serves them at once; SIGINT stops them all", async () => {
    const { url } = await plane.start();
    const token = await adminSession(url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const { tenantId, key } = await tenantWithKey(url, token, "kept", "starter");
    await launchUntilRunning(url, token, tenantId);
    const embedded = await api(url, "POST", "/embed", {
      token: key,
      body: { ids: ["kept"], documents: ["survives restarts"] },
    });
    expect(embedded.status).toBe(200);
    const pid = instancePid(plane.dataDir, tenantId);
    const [chroma] = childPidsOf(pid);

    // A supervisor's restart: SIGTERM, then a new process.
    await plane.stop("SIGTERM");
    expect(isPidAlive(pid)).toBe(true);
    await plane.start();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    // The very first search after the control plane is up is served by the same instance.
    const search = await api(url, "POST", "/search", { token: key, body: { query: "survives" } });
    expect({ status: search.status, error: search.body.error }).toEqual({ status: 200, error: undefined });
    expect(search.body.results[0].id).toBe("kept");
    expect(instancePid(plane.dataDir, tenantId)).toBe(pid);

    // Ctrl-C: the platform is stopped, instances and their Chroma with it.
    await plane.stop("SIGINT");
    expect(isPidAlive(pid)).toBe(false);
    expect(chroma && isPidAlive(chroma)).toBe(false);
  }, 900_000); // three control-plane starts and an instance's, on a machine shared by many test runs
});
