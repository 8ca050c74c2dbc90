import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { Collection, CollectionName, CreateCollectionRequest } from "@vdb/schemas/instances";
import { requireScope } from "../http/require-scope";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { createCollection } from "./create-collection";
import { deleteCollection } from "./delete-collection";
import { listCollections } from "./list-collections";

const tags = ["Collections"];

const list = createRoute({
  method: "get",
  path: "/collections",
  tags,
  summary: "Every collection with its model, dimension and document count; needs read",
  security: SECURITY,
  middleware: [requireScope("read")] as const,
  responses: { 200: jsonContent(z.array(Collection), "Collections by name"), ...ERROR_RESPONSES },
});

const create = createRoute({
  method: "post",
  path: "/collections",
  tags,
  summary: "Create an empty collection, with the instance's model or a chosen one; needs write",
  security: SECURITY,
  middleware: [requireScope("write")] as const,
  request: jsonBody(CreateCollectionRequest),
  responses: { 201: jsonContent(Collection, "Created"), ...ERROR_RESPONSES },
});

const remove = createRoute({
  method: "delete",
  path: "/collections/{name}",
  tags,
  summary: "Delete a collection and all its documents; needs write",
  security: SECURITY,
  middleware: [requireScope("write")] as const,
  request: { params: z.object({ name: CollectionName }) },
  responses: {
    200: jsonContent(
      z.object({ name: z.string(), deleted: z.literal(true), documents: z.number().int() }),
      "Deleted, with how many documents it held",
    ),
    ...ERROR_RESPONSES,
  },
});

export const collectionsRest = restApp()
  .openapi(list, async (c) => c.json(await listCollections({ ctx: c.get("services") }), 200))
  .openapi(create, async (c) =>
    c.json(await createCollection({ ctx: c.get("services"), input: c.req.valid("json") }), 201),
  )
  .openapi(remove, async (c) =>
    c.json(await deleteCollection({ ctx: c.get("services"), input: c.req.valid("param") }), 200),
  );
