import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@vdb/control-plane/router";
import { readToken } from "./session-store";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

/**
 * The control plane's typed tRPC client. Queries and mutations send the session token as a
 * header; subscriptions go over EventSource, which cannot send headers, so the token rides in
 * tRPC's `connectionParams` (the control plane reads it from there).
 */
export const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === "subscription",
      true: httpSubscriptionLink({
        url: "/trpc",
        connectionParams: () => {
          const token = readToken();
          return token ? { token } : {};
        },
      }),
      false: httpLink({
        url: "/trpc",
        headers: () => {
          const token = readToken();
          return token ? { authorization: `Bearer ${token}` } : {};
        },
      }),
    }),
  ],
});
