import { describe, expect, it } from "vitest";
import { chromaScope, chromaWriteTarget } from "./chroma-api";

const NS = "/api/v2/tenants/default_tenant/databases/default_database";

describe("which Chroma calls the gateway offers, and with what scope", () => {
  it.each([
    ["GET", "/api/v2/heartbeat", "read"],
    ["GET", `${NS}/collections`, "read"],
    ["POST", `${NS}/collections`, "write"],
    ["GET", `${NS}/collections/docs`, "read"],
    ["DELETE", `${NS}/collections/docs`, "write"],
    ["PUT", `${NS}/collections/docs`, "write"],
    ["POST", `${NS}/collections/c1/add`, "write"],
    ["POST", `${NS}/collections/c1/upsert`, "write"],
    ["POST", `${NS}/collections/c1/delete`, "write"],
    ["POST", `${NS}/collections/c1/query`, "read"],
    ["POST", `${NS}/collections/c1/get`, "read"],
    ["GET", `${NS}/collections/c1/count`, "read"],
    ["GET", `${NS}/collections_count`, "read"],
  ] as const)("%s %s → %s", (method, path, scope) => {
    expect(chromaScope(method, path)).toBe(scope);
  });

  it.each([
    ["POST", "/api/v2/reset"],
    ["POST", "/api/v2/tenants"],
    ["POST", "/api/v2/tenants/default_tenant/databases"],
    ["DELETE", NS],
    ["GET", "/api/v2/tenants/other_tenant/databases/default_database/collections"],
    ["GET", "/api/v2/tenants/default_tenant/databases/other_db/collections"],
    ["POST", `${NS}/collections/c1/add/extra`],
  ] as const)("refuses %s %s", (method, path) => {
    expect(chromaScope(method, path)).toBeNull();
  });
});

describe("writes that add documents", () => {
  it("are add and upsert on one collection", () => {
    expect(chromaWriteTarget("POST", `${NS}/collections/c1/add`)).toEqual({
      collectionId: "c1",
      action: "add",
    });
    expect(chromaWriteTarget("POST", `${NS}/collections/c1/upsert`)).toEqual({
      collectionId: "c1",
      action: "upsert",
    });
    expect(chromaWriteTarget("POST", `${NS}/collections/c1/update`)).toBeNull();
    expect(chromaWriteTarget("GET", `${NS}/collections/c1/add`)).toBeNull();
  });
});
