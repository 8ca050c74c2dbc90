import { describe, expect, it } from "vitest";
import { uploadUrlFor } from "./upload";

describe("where the browser PUTs an upload", () => {
  it("sends the control plane's own upload route same-origin (dev proxy, reverse proxies)", () => {
    expect(uploadUrlFor("http://127.0.0.1:8787/api/v1/uploads/tok.en?x=1", "http://localhost:5173")).toBe(
      "/api/v1/uploads/tok.en?x=1",
    );
  });

  it("keeps presigned S3 URLs as they are", () => {
    const s3 = "https://bucket.s3.amazonaws.com/tenants/a/doc?X-Amz-Signature=abc";
    expect(uploadUrlFor(s3, "http://localhost:5173")).toBe(s3);
  });
});
