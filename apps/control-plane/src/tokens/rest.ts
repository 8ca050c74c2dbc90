import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { GenerateTokenInput, InstanceToken, SigningKey } from "@vdb/schemas/tokens";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { generateToken } from "./generate-token";
import { listSigningKeys, retireSigningKey, rotateSigningKey } from "./manage-signing-keys";

const generate = createRoute({
  method: "post",
  path: "/generate-token",
  tags: ["Tokens"],
  summary: "Issue a short-lived instance token, optionally with a new API key (seed `/generate-token`)",
  security: SECURITY,
  request: jsonBody(GenerateTokenInput),
  responses: { 200: jsonContent(InstanceToken, "The token (and key bundle)"), ...ERROR_RESPONSES },
});

const list = createRoute({
  method: "get",
  path: "/signing-keys",
  tags: ["Tokens"],
  summary: "List token signing keys (operators)",
  security: SECURITY,
  responses: { 200: jsonContent(z.array(SigningKey), "Signing keys, newest first"), ...ERROR_RESPONSES },
});

const rotate = createRoute({
  method: "post",
  path: "/signing-keys/rotate",
  tags: ["Tokens"],
  summary: "Rotate the token signing key; the old one keeps verifying until retired (operators)",
  security: SECURITY,
  responses: { 200: jsonContent(SigningKey, "The new active key"), ...ERROR_RESPONSES },
});

const retire = createRoute({
  method: "post",
  path: "/signing-keys/{kid}/retire",
  tags: ["Tokens"],
  summary: "Retire a previous signing key: tokens it signed stop verifying (operators)",
  security: SECURITY,
  request: { params: z.object({ kid: z.string().min(1).max(100) }) },
  responses: { 200: jsonContent(SigningKey, "The retired key"), ...ERROR_RESPONSES },
});

export const tokensRest = restApp()
  .openapi(generate, async (c) =>
    c.json(await generateToken({ ctx: ctxOf(c), input: c.req.valid("json") }), 200),
  )
  .openapi(list, async (c) => c.json(await listSigningKeys({ ctx: ctxOf(c) }), 200))
  .openapi(rotate, async (c) => c.json(await rotateSigningKey({ ctx: ctxOf(c) }), 200))
  .openapi(retire, async (c) =>
    c.json(await retireSigningKey({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  );
