import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { ApiKeyId, TenantId } from "@vdb/schemas/ids";
import { ApiKey, CreateApiKeyInput, CreatedApiKey, ListApiKeysInput } from "@vdb/schemas/keys";
import { pageOf } from "@vdb/schemas/pagination";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { createApiKey } from "./create-api-key";
import { listApiKeys } from "./list-api-keys";
import { revokeApiKey } from "./revoke-api-key";

const tags = ["API keys"];
const TenantParams = z.object({ tenantId: TenantId });

const create = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/keys",
  tags,
  summary: "Create an API key; the secret is returned once",
  security: SECURITY,
  request: { params: TenantParams, ...jsonBody(CreateApiKeyInput.omit({ tenantId: true })) },
  responses: { 201: jsonContent(CreatedApiKey, "The key, with its secret"), ...ERROR_RESPONSES },
});

const list = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/keys",
  tags,
  summary: "List a tenant's API keys (no secrets)",
  security: SECURITY,
  request: { params: TenantParams, query: ListApiKeysInput.omit({ tenantId: true }) },
  responses: { 200: jsonContent(pageOf(ApiKey), "A page of keys"), ...ERROR_RESPONSES },
});

const revoke = createRoute({
  method: "delete",
  path: "/tenants/{tenantId}/keys/{keyId}",
  tags,
  summary: "Revoke an API key (effective everywhere within seconds)",
  security: SECURITY,
  request: { params: TenantParams.extend({ keyId: ApiKeyId }) },
  responses: { 200: jsonContent(ApiKey, "The revoked key"), ...ERROR_RESPONSES },
});

export const keysRest = restApp()
  .openapi(create, async (c) => {
    const input = { ...c.req.valid("json"), tenantId: c.req.valid("param").tenantId };
    return c.json(await createApiKey({ ctx: ctxOf(c), input }), 201);
  })
  .openapi(list, async (c) => {
    const input = { ...c.req.valid("query"), tenantId: c.req.valid("param").tenantId };
    return c.json(await listApiKeys({ ctx: ctxOf(c), input }), 200);
  })
  .openapi(revoke, async (c) =>
    c.json(await revokeApiKey({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  );
