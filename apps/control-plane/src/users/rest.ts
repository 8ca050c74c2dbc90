import { createRoute } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { Ok } from "@vdb/schemas/answers";
import {
  AddUserInput,
  CreateUserInput,
  ListUsersInput,
  SetOperatorInput,
  User,
  UserListItem,
  UserRef,
  UserWithTemporaryPassword,
} from "@vdb/schemas/auth";
import { pageOf } from "@vdb/schemas/pagination";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { addUser } from "./add-user";
import { createUser } from "./create-user";
import { listUsers } from "./list-users";
import { issueTemporaryPassword, removeUser, setOperator } from "./manage-user";

const tags = ["Users"];

const listRoute = createRoute({
  method: "get",
  path: "/users",
  tags,
  summary: "List the platform's console users, newest first, with their tenant roles (operators)",
  security: SECURITY,
  request: { query: ListUsersInput },
  responses: { 200: jsonContent(pageOf(UserListItem), "A page of users"), ...ERROR_RESPONSES },
});

const createUserRoute = createRoute({
  method: "post",
  path: "/users",
  tags,
  summary: "Create a console user with a password you choose for them (operators)",
  description:
    "They may keep that password. To hand someone a temporary one that their first login must replace, use `POST /users/invites`.",
  security: SECURITY,
  request: jsonBody(CreateUserInput),
  responses: { 201: jsonContent(User, "The user"), ...ERROR_RESPONSES },
});

const inviteRoute = createRoute({
  method: "post",
  path: "/users/invites",
  tags,
  summary: "Add a console user with a temporary password returned once (operators)",
  description:
    "Until they replace it (`POST /auth/password`), their sessions may only do that, read `/auth/me` and log out. Give them tenant roles with `PUT /tenants/{tenantId}/members/{userId}`, or invite them from the tenant in one step.",
  security: SECURITY,
  request: jsonBody(AddUserInput),
  responses: {
    201: jsonContent(UserWithTemporaryPassword, "The user and their password"),
    ...ERROR_RESPONSES,
  },
});

const resetRoute = createRoute({
  method: "post",
  path: "/users/{userId}/password-reset",
  tags,
  summary: "Give another user a temporary password returned once; their sessions end (operators)",
  security: SECURITY,
  request: { params: UserRef },
  responses: {
    200: jsonContent(UserWithTemporaryPassword, "The user and their password"),
    ...ERROR_RESPONSES,
  },
});

const updateRoute = createRoute({
  method: "patch",
  path: "/users/{userId}",
  tags,
  summary: "Grant or revoke another user's platform operator role (operators)",
  security: SECURITY,
  request: { params: UserRef, ...jsonBody(SetOperatorInput.omit({ userId: true })) },
  responses: { 200: jsonContent(User, "The user"), ...ERROR_RESPONSES },
});

const removeRoute = createRoute({
  method: "delete",
  path: "/users/{userId}",
  tags,
  summary: "Delete another console user with their sessions and tenant roles (operators)",
  description: "Refused (409) while they are the last owner of a tenant: make someone else owner first.",
  security: SECURITY,
  request: { params: UserRef },
  responses: { 200: jsonContent(Ok, "Removed"), ...ERROR_RESPONSES },
});

export const usersRest = restApp()
  .openapi(listRoute, async (c) =>
    c.json(await listUsers({ ctx: ctxOf(c), input: c.req.valid("query") }), 200),
  )
  .openapi(createUserRoute, async (c) =>
    c.json(await createUser({ ctx: ctxOf(c), input: c.req.valid("json") }), 201),
  )
  .openapi(inviteRoute, async (c) =>
    c.json(await addUser({ ctx: ctxOf(c), input: c.req.valid("json") }), 201),
  )
  .openapi(resetRoute, async (c) =>
    c.json(await issueTemporaryPassword({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(updateRoute, async (c) =>
    c.json(
      await setOperator({ ctx: ctxOf(c), input: { ...c.req.valid("param"), ...c.req.valid("json") } }),
      200,
    ),
  )
  .openapi(removeRoute, async (c) =>
    c.json(await removeUser({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  );
