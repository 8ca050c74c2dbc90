import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";

interface Operation {
  tags: string[];
  servers?: { url: string }[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface Schema {
  properties?: Record<string, Schema>;
  required?: string[];
  type?: string | string[];
  pattern?: string;
  maxLength?: number;
}
interface OpenApiDocument {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
}

let server: TestServer;
let doc: OpenApiDocument;

beforeAll(async () => {
  server = await startTestServer();
  const response = await server.app.request("/api/v1/openapi.json");
  expect(response.status).toBe(200);
  doc = (await response.json()) as OpenApiDocument;
});
afterAll(async () => server?.close());

describe("the visitors' routes in the OpenAPI document", () => {
  it("lists each one at its real URL (the root, not /api/v1), with the embed token as security", () => {
    expect(doc.servers).toEqual([{ url: `${server.url}/api/v1` }]);
    const operations = [
      ["/embed/token", "post"],
      ["/embed/widgets/{widgetId}/chat", "post"],
      ["/embed/widgets/{widgetId}/conversation", "get"],
    ] as const;
    for (const [path, method] of operations) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation?.servers).toEqual([{ url: server.url }]);
      expect(operation?.tags).toEqual(["Widget visitors"]);
    }
    // The token route is public (the Origin decides); the others take the embed token.
    expect(doc.paths["/embed/token"]?.post?.security).toBeUndefined();
    expect(doc.paths["/embed/widgets/{widgetId}/chat"]?.post?.security).toEqual([{ embedToken: [] }]);
    expect(doc.components.securitySchemes.embedToken).toMatchObject({ type: "http", scheme: "bearer" });
    // Nothing documented under /api/v1 that is not served there.
    expect(Object.keys(doc.paths).filter((path) => path.startsWith("/api/v1"))).toEqual([]);
  });

  it("describes their bodies and answers with the shared schemas", () => {
    const token = doc.paths["/embed/token"]?.post;
    for (const type of ["application/json", "text/plain"]) {
      const body = token?.requestBody?.content[type]?.schema;
      expect(Object.keys(body?.properties ?? {})).toEqual(["widgetId", "visitorId"]);
      expect(body?.required).toEqual(["widgetId"]);
      expect(body?.properties?.visitorId?.pattern).toBe("^vis_[0-9a-z]{24}$");
    }
    expect(token?.parameters).toEqual([expect.objectContaining({ name: "widgetId", in: "query" })]);
    const issued = token?.responses["200"]?.content?.["application/json"]?.schema;
    expect(issued?.required?.sort()).toEqual(
      ["config", "expiresAt", "expiresInSeconds", "token", "visitorId"].sort(),
    );
    expect(Object.keys(token?.responses ?? {})).toEqual(expect.arrayContaining(["200", "400", "403", "429"]));

    const chat = doc.paths["/embed/widgets/{widgetId}/chat"]?.post;
    const question = chat?.requestBody?.content["application/json"]?.schema;
    expect(question?.required).toEqual(["message"]);
    expect(question?.properties?.message?.maxLength).toBe(4_000);
    expect(chat?.parameters).toEqual([
      expect.objectContaining({ name: "widgetId", in: "path", required: true }),
    ]);
    expect(Object.keys(chat?.responses["200"]?.content ?? {})).toEqual([
      "application/json",
      "text/event-stream",
    ]);
    expect(chat?.responses["200"]?.content?.["application/json"]?.schema.required).toEqual(
      expect.arrayContaining(["sessionId", "answer", "citations"]),
    );
    expect(Object.keys(chat?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "401", "403", "413", "429"]),
    );

    const conversation = doc.paths["/embed/widgets/{widgetId}/conversation"]?.get;
    expect(conversation?.parameters?.map(({ name, in: where }) => `${where}:${name}`).sort()).toEqual([
      "path:widgetId",
      "query:sessionId",
    ]);
    expect(
      Object.keys(conversation?.responses["200"]?.content?.["application/json"]?.schema.properties ?? {}),
    ).toEqual(["sessionId", "messages"]);
  });
});
