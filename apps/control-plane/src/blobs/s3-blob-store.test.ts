import { describe, expect, it } from "vitest";
import { S3BlobStore } from "./s3-blob-store";

// s3rver checks neither signatures nor checksums, so what AWS S3 would refuse is checked on the URL.
describe("S3 presigned upload URLs", () => {
  const store = new S3BlobStore({
    bucket: "vdb-test",
    region: "eu-west-1",
    endpoint: "http://127.0.0.1:9",
    forcePathStyle: true,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  });

  it("signs the content type, so S3 refuses an upload of another type", async () => {
    const { url, headers } = await store.createUploadUrl("tenants/ten_a/documents/doc_1", {
      contentType: "application/pdf",
      maxBytes: 1_000,
      expiresInSeconds: 600,
    });
    const query = new URL(url).searchParams;
    expect(query.get("X-Amz-SignedHeaders")).toBe("content-type;host");
    expect(query.get("X-Amz-Expires")).toBe("600");
    expect(headers).toEqual({ "content-type": "application/pdf" });
  });

  it("carries no precomputed checksum, which would make S3 refuse every non-empty upload", async () => {
    const { url } = await store.createUploadUrl("tenants/ten_a/documents/doc_1", {
      maxBytes: 1_000,
      expiresInSeconds: 60,
    });
    const names = [...new URL(url).searchParams.keys()].map((name) => name.toLowerCase());
    expect(names.filter((name) => name.includes("checksum"))).toEqual([]);
  });
});
