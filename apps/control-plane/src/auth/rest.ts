import { createRoute } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { Ok } from "@vdb/schemas/answers";
import { ChangePasswordInput, LoginInput, PasswordChanged, Principal, Session } from "@vdb/schemas/auth";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { changePassword } from "./change-password";
import { getMe } from "./get-me";
import { login } from "./login";
import { logout } from "./logout";

const tags = ["Auth"];
const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  tags,
  summary: "Log in with email and password; returns a session token",
  request: jsonBody(LoginInput),
  responses: { 200: jsonContent(Session, "The session"), ...ERROR_RESPONSES },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/auth/logout",
  tags,
  summary: "End the session whose token authenticates this request",
  security: SECURITY,
  responses: { 200: jsonContent(Ok, "Logged out"), ...ERROR_RESPONSES },
});

const meRoute = createRoute({
  method: "get",
  path: "/auth/me",
  tags,
  summary: "Who this credential belongs to",
  security: SECURITY,
  responses: { 200: jsonContent(Principal, "The caller"), ...ERROR_RESPONSES },
});

const passwordRoute = createRoute({
  method: "post",
  path: "/auth/password",
  tags,
  summary: "Change your own password (session token); your other sessions end",
  description: `The current password is checked like a login (wrong ones are throttled the same way). Operators who
lost theirs reset it on the server: \`npm run reset-password -- <email>\` (see the README).`,
  security: SECURITY,
  request: jsonBody(ChangePasswordInput),
  responses: { 200: jsonContent(PasswordChanged, "Changed"), ...ERROR_RESPONSES },
});

export const authRest = restApp()
  .openapi(loginRoute, async (c) => c.json(await login({ ctx: ctxOf(c), input: c.req.valid("json") }), 200))
  .openapi(logoutRoute, async (c) =>
    c.json(await logout({ ctx: ctxOf(c), input: { token: c.get("credential") ?? "" } }), 200),
  )
  .openapi(meRoute, async (c) => c.json(await getMe({ ctx: ctxOf(c) }), 200))
  .openapi(passwordRoute, async (c) =>
    c.json(
      await changePassword({
        ctx: ctxOf(c),
        input: { ...c.req.valid("json"), sessionToken: c.get("credential") ?? "" },
      }),
      200,
    ),
  );
