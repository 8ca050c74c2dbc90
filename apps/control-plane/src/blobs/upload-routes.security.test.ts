import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DiskHarness, startDiskHarness } from "./test-harness";
import { signUploadToken } from "./upload-token";

const KEY = "tenants/ten_a/documents/doc_1";

function inSeconds(seconds: number): number {
  return Math.floor(Date.now() / 1000) + seconds;
}

describe("disk upload URLs", () => {
  let harness: DiskHarness;
  beforeAll(async () => {
    harness = await startDiskHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });

  async function put(
    token: string,
    body: string | Uint8Array | ReadableStream<Uint8Array>,
    headers: Record<string, string> = {},
  ) {
    const response = await fetch(`${harness.baseUrl}/api/v1/uploads/${token}`, {
      method: "PUT",
      headers,
      body,
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
    return { status: response.status, body: (await response.json()) as any };
  }

  it("stores the body under the token's key and answers 201 with its size", async () => {
    const { url, headers } = await harness.store.createUploadUrl(KEY, {
      contentType: "text/markdown",
      maxBytes: 100,
      expiresInSeconds: 60,
    });
    const response = await fetch(url, { method: "PUT", headers, body: "# Hello" });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ key: KEY, sizeBytes: 7 });
  });

  it("refuses an expired URL with 403 and stores nothing", async () => {
    const key = "tenants/ten_a/documents/doc_late";
    const token = signUploadToken(harness.secret, { key, maxBytes: 100, exp: inSeconds(-1) });
    const response = await put(token, "late");
    expect(response.status).toBe(403);
    expect(response.body).toEqual({
      error: { code: "FORBIDDEN", message: "upload URL expired", requestId: expect.any(String) },
    });
    expect(await harness.store.stat(key)).toBeNull();
  });

  it("refuses a token whose claims were changed (another tenant's key) with 401", async () => {
    const token = signUploadToken(harness.secret, { key: KEY, maxBytes: 100, exp: inSeconds(60) });
    const [claims, mac] = token.split(".");
    const forged = JSON.parse(Buffer.from(claims!, "base64url").toString());
    forged.k = "tenants/ten_b/documents/doc_1";
    forged.m = 10_000_000;
    const tampered = `${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${mac}`;
    const response = await put(tampered, "mine now");
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("UNAUTHORIZED");
    expect(await harness.listStored()).not.toContain("tenants/ten_b/documents/doc_1");
  });

  it.each([
    [
      "signed with another secret",
      () => signUploadToken(randomBytes(32).toString("hex"), { key: KEY, maxBytes: 9, exp: inSeconds(60) }),
    ],
    [
      "with its MAC cut short",
      () => signUploadToken("x".repeat(32), { key: KEY, maxBytes: 9, exp: inSeconds(60) }).slice(0, -4),
    ],
    ["not a token at all", () => "hello"],
    [
      "with extra parts",
      () => `${signUploadToken("x".repeat(32), { key: KEY, maxBytes: 9, exp: inSeconds(60) })}.x`,
    ],
  ])("refuses a token %s with 401", async (_label, token) => {
    const response = await put(token(), "x");
    expect(response.status).toBe(401);
    expect(response.body.error).toMatchObject({ code: "UNAUTHORIZED", requestId: expect.any(String) });
  });

  it("refuses a body over the token's maxBytes with 413, declared or streamed, and keeps nothing", async () => {
    const key = "tenants/ten_a/documents/doc_big";
    const { url, headers } = await harness.store.createUploadUrl(key, {
      maxBytes: 1_000,
      expiresInSeconds: 60,
    });
    const declared = await fetch(url, { method: "PUT", headers, body: randomBytes(5_000) });
    expect(declared.status).toBe(413);

    const chunks = [randomBytes(600), randomBytes(600)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await put(url.split("/").pop()!, stream);
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await harness.listStored()).filter((stored) => stored.includes("doc_big"))).toEqual([]);
  });

  it("refuses a Content-Type other than the one the URL was issued for", async () => {
    const key = "tenants/ten_a/documents/doc_typed";
    const { url } = await harness.store.createUploadUrl(key, {
      contentType: "application/pdf",
      maxBytes: 100,
      expiresInSeconds: 60,
    });
    const response = await fetch(url, {
      method: "PUT",
      headers: { "content-type": "text/html" },
      body: "<p>",
    });
    expect(response.status).toBe(400);
    expect(await harness.store.stat(key)).toBeNull();
  });

  it("cannot be turned into a path outside the store", async () => {
    const token = signUploadToken(harness.secret, { key: "../../escape", maxBytes: 100, exp: inSeconds(60) });
    const response = await put(token, "x");
    expect(response.status).toBe(401);
    expect((await put(encodeURIComponent("../../etc/passwd"), "x")).status).toBe(401);
  });
});
