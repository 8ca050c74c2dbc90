import { readdir } from "node:fs/promises";
import path from "node:path";
import { type LargeBody, sendLargeBody as sendLarge } from "@vdb/http/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BlobStoreHarness, startS3Harness } from "../blobs/test-harness";
import { seedTenant, startTestServer, type TestServer } from "../testing";
import { api } from "../testing/http";

const MB = 1024 * 1024;
/** Well over the starter plan's 10 MB per file, and over what any socket buffers hold. */
const BODY_BYTES = 64 * MB;
const BOUNDARY = "----vdb-test-boundary";

/**
 * Sends the body until the answer is in, as fetch() does, and reads the answer's JSON. (A client
 * that writes on after the answer is closeConnectionOnError's own test, in @vdb/http.)
 */
async function sendLargeBody(url: string, opts: LargeBody) {
  const sent = await sendLarge(url, { ...opts, stopWhenAnswered: true });
  return { ...sent, body: sent.text ? JSON.parse(sent.text) : null };
}

function multipart(fields: Record<string, string>, file: { field: string; name: string }) {
  const head =
    Object.entries(fields)
      .map(
        ([name, value]) =>
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      )
      .join("") +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\nContent-Type: text/plain\r\n\r\n`;
  return {
    head,
    tail: `\r\n--${BOUNDARY}--\r\n`,
    headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
  };
}

describe.each(["disk", "s3"] as const)(
  "uploads on the %s blob store: authenticate first, then stream",
  (kind) => {
    let server: TestServer;
    let s3: BlobStoreHarness | undefined;
    let tenantId: string;
    let otherTenantId: string;
    let key: string;

    /** Every object in the blob store, temp files of the disk store included. */
    async function stored(): Promise<string[]> {
      if (s3) return s3.listStored();
      const root = path.join(server.config.DATA_DIR, "blobs");
      const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
      return entries
        .filter((e) => e.isFile())
        .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
    }

    async function documentCount(): Promise<number> {
      const listed = await api(server.url, "GET", `/tenants/${tenantId}/documents`, { token: key });
      return listed.body.items.length;
    }

    beforeAll(async () => {
      if (kind === "s3") s3 = await startS3Harness();
      server = await startTestServer({
        env: {
          // Nothing here needs an instance: uploads are stored and queued, not ingested.
          RUN_WORKER: "false",
          ...(s3
            ? {
                S3_BUCKET: "vdb-test",
                S3_ENDPOINT: s3.endpoint!,
                S3_FORCE_PATH_STYLE: "true",
                S3_ACCESS_KEY_ID: "S3RVER",
                S3_SECRET_ACCESS_KEY: "S3RVER",
              }
            : {}),
        },
      });
      tenantId = (await seedTenant(server.services, `up-${kind}`, "starter")).id;
      otherTenantId = (await seedTenant(server.services, `other-${kind}`, "enterprise")).id;
      const created = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
        token: server.adminToken,
        body: { name: "uploader", scopes: ["read", "write"] },
      });
      key = created.body.secret;
    }, 60_000);

    afterAll(async () => {
      await server?.close();
      await s3?.close();
    });

    it("refuses an upload without credentials with 401 before reading its body", async () => {
      const form = multipart({}, { field: "file", name: "big.txt" });
      const sent = await sendLargeBody(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
        ...form,
        totalBytes: BODY_BYTES,
      });
      expect(sent.status).toBe(401);
      expect(sent.body.error).toMatchObject({ code: "UNAUTHORIZED", requestId: expect.any(String) });
      expect(sent.bytesSent).toBeLessThan(BODY_BYTES / 4);
      expect(await stored()).toEqual([]);
    });

    it("refuses a key of another tenant with 403 before reading the body", async () => {
      const form = multipart({}, { field: "file", name: "big.txt" });
      const sent = await sendLargeBody(`${server.url}/api/v1/tenants/${otherTenantId}/documents/files`, {
        ...form,
        headers: { ...form.headers, authorization: `Bearer ${key}` },
        totalBytes: BODY_BYTES,
      });
      expect(sent.status).toBe(403);
      expect(sent.body.error.code).toBe("FORBIDDEN");
      expect(sent.bytesSent).toBeLessThan(BODY_BYTES / 4);
      expect(await stored()).toEqual([]);
    });

    it("refuses `POST /database/create` without credentials before reading its body", async () => {
      const form = multipart({ name: "big" }, { field: "files", name: "big.txt" });
      const sent = await sendLargeBody(`${server.url}/api/v1/database/create?tenantId=${tenantId}`, {
        ...form,
        totalBytes: BODY_BYTES,
      });
      expect(sent.status).toBe(401);
      expect(sent.body.error.code).toBe("UNAUTHORIZED");
      expect(sent.bytesSent).toBeLessThan(BODY_BYTES / 4);
    });

    it("cuts a file off once it passes the tenant's plan (starter: 10 MB): 413, nothing stored", async () => {
      const form = multipart({ collection: "notes" }, { field: "file", name: "big.txt" });
      const sent = await sendLargeBody(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
        ...form,
        headers: { ...form.headers, authorization: `Bearer ${key}` },
        totalBytes: BODY_BYTES,
      });
      expect(sent.status).toBe(413);
      expect(sent.body.error).toMatchObject({
        code: "PAYLOAD_TOO_LARGE",
        message: expect.stringContaining("Starter plan's limit per file"),
        requestId: expect.any(String),
      });
      // Read up to the limit and a little past it (socket buffers), never the whole body.
      expect(sent.bytesSent).toBeLessThan(BODY_BYTES / 2);
      expect(await stored()).toEqual([]);
      expect(await documentCount()).toBe(0);
    });

    it("removes the files already stored when a later one in the request is over the limit", async () => {
      const first = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="ok.txt"\r\nContent-Type: text/plain\r\n\r\nsmall and fine\r\n`;
      const form = multipart({}, { field: "file", name: "too-big.txt" });
      const sent = await sendLargeBody(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
        ...form,
        head: first + form.head,
        headers: { ...form.headers, authorization: `Bearer ${key}` },
        totalBytes: 12 * MB,
      });
      expect(sent.status).toBe(413);
      expect(await stored()).toEqual([]);
      expect(await documentCount()).toBe(0);
    });

    it("answers fetch() its 413 although fetch is still sending the file", async () => {
      const body = new FormData();
      body.append("file", new Blob(["fine"]), "fine.txt");
      body.append("file", new Blob([new Uint8Array(20 * MB)]), "huge.txt");
      const response = await fetch(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        body,
      });
      expect(response.status).toBe(413);
      expect(((await response.json()) as any).error.code).toBe("PAYLOAD_TOO_LARGE");
      expect(await stored()).toEqual([]);
    });

    it("streams files within the plan to the blob store and queues them", async () => {
      const body = new FormData();
      body.append("collection", "notes");
      body.append("file", new Blob([new Uint8Array(3 * MB).fill(98)], { type: "text/plain" }), "three.txt");
      body.append("file", new Blob(["# Title\n\nHello"], { type: "text/markdown" }), "hello.md");
      const response = await fetch(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        body,
      });
      const created = (await response.json()) as any;
      expect(response.status, JSON.stringify(created)).toBe(201);
      expect(created.documents.map((d: any) => [d.filename, d.sizeBytes, d.status, d.collection])).toEqual([
        ["three.txt", 3 * MB, "queued", "notes"],
        ["hello.md", 14, "queued", "notes"],
      ]);
      const keys = await stored();
      expect(keys.sort()).toEqual(
        created.documents.map((d: any) => `tenants/${tenantId}/documents/${d.id}`).sort(),
      );
      expect(
        (await server.services.blobs.get(keys.find((k) => k.endsWith(created.documents[1].id))!)).length,
      ).toBe(14);
    });
  },
);

describe("the disk store's upload URL", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RUN_WORKER: "false" } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it("refuses a forged token with 401 before reading the body", async () => {
    const sent = await sendLargeBody(`${server.url}/api/v1/uploads/not-a-token`, {
      method: "PUT",
      totalBytes: BODY_BYTES,
    });
    expect(sent.status).toBe(401);
    expect(sent.body.error.code).toBe("UNAUTHORIZED");
    expect(sent.bytesSent).toBeLessThan(BODY_BYTES / 4);
  });
});
