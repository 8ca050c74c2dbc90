import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { errorCode } from "./errors";
import { readToken, writeToken } from "./session-store";
import { type RouterOutputs, trpc } from "./trpc";

export type Me = RouterOutputs["auth"]["me"];

interface SessionValue {
  token: string | null;
  me: Me | undefined;
  isLoading: boolean;
  isOperator: boolean;
  /** Why the session could not be checked (not a logged-out session: that signs out). */
  error: unknown;
  retry(): void;
  signIn(token: string): void;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

/** The logged-in console user: their token, who they are, and log in / log out. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState<string | null>(() => readToken());
  const me = useQuery({
    queryKey: ["auth.me", token],
    queryFn: async () => {
      try {
        return await trpc.auth.me.query();
      } catch (error) {
        // An expired or logged-out session: back to the login form, not an error page.
        if (errorCode(error) === "UNAUTHORIZED") {
          writeToken(null);
          setToken(null);
        }
        throw error;
      }
    },
    enabled: token !== null,
    retry: false,
    staleTime: 60_000,
  });

  const signIn = useCallback(
    (next: string) => {
      writeToken(next);
      queryClient.clear();
      setToken(next);
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    try {
      await trpc.auth.logout.mutate();
    } catch {
      // Already expired: logging out locally is all that is left to do.
    }
    writeToken(null);
    setToken(null);
    queryClient.clear();
  }, [queryClient]);

  const value = useMemo<SessionValue>(
    () => ({
      token,
      me: me.data,
      isLoading: token !== null && me.isPending,
      isOperator: me.data?.kind === "user" && me.data.isOperator,
      error: me.error,
      retry: () => void me.refetch(),
      signIn,
      signOut,
    }),
    [token, me.data, me.isPending, me.error, me.refetch, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

/** Whether the signed-in user may change things in `tenantId` (not a viewer). */
export function canWrite(me: Me | undefined, tenantId: string): boolean {
  if (!me) return false;
  if (me.kind === "apiKey") return me.tenantId === tenantId && me.scopes.some((scope) => scope !== "read");
  if (me.isOperator) return true;
  const role = me.memberships.find((membership) => membership.tenantId === tenantId)?.role;
  return role === "owner" || role === "admin";
}
