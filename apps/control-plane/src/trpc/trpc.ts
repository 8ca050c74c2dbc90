import { initTRPC } from "@trpc/server";
import { assertCleanInput } from "@vdb/http/input-hygiene";
import type { Principal } from "@vdb/schemas/auth";
import { requireOwnPassword } from "../auth/authorize";
import type { RequestMeta } from "../lib/context";
import { toAppError, toTRPCError } from "../lib/errors";
import type { Services } from "../services";

/**
 * The root tRPC context. `services` is typed `unknown` here on purpose: this type is part of
 * `AppRouter`, which the published client's declarations carry, and they must not drag in the
 * server's internals (Drizzle, pino…). Procedures get it typed through `withServices`.
 */
export interface TrpcContext {
  principal: Principal | null;
  request: RequestMeta;
  /** The bearer credential as sent (log out ends exactly this session). */
  credential: string | null;
  /** Why the credential was rejected, if it was; every procedure then fails with it. */
  authFailure: unknown;
  services: unknown;
}

const t = initTRPC.context<TrpcContext>().create({
  errorFormatter({ shape, error, ctx }) {
    const appError = toAppError(error);
    const requestId = ctx?.request.requestId ?? "unknown";
    const { stack: _stack, ...data } = shape.data;
    return {
      ...shape,
      message: appError.message,
      requestId,
      data: {
        ...data,
        appCode: appError.code,
        requestId,
        issues: appError.issues ?? null,
        retryAfterSeconds: appError.retryAfterSeconds ?? null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * A subscription's generator runs only once tRPC iterates it, after this middleware returned:
 * what it throws then (a verb's authorization check, first of all) would reach the client as
 * INTERNAL_SERVER_ERROR (-32603) and be logged as one. Mapped here like any other procedure's.
 */
async function* withMappedErrors<T>(iterable: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* iterable;
  } catch (error) {
    throw toTRPCError(error);
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}

const withServices = t.middleware(async ({ ctx, type, path, next, getRawInput }) => {
  if (ctx.authFailure) throw toTRPCError(ctx.authFailure);
  try {
    requireOwnPassword(ctx.principal, path);
  } catch (error) {
    throw toTRPCError(error);
  }
  // The REST surfaces' input rules (no NUL or lone surrogate, bounded nesting), before any schema walks it.
  try {
    assertCleanInput(await getRawInput(), "(input)");
  } catch (error) {
    throw toTRPCError(error);
  }
  const result = await next({ ctx: { services: ctx.services as Services } });
  // Domain errors arrive wrapped as INTERNAL_SERVER_ERROR; give them their own tRPC code.
  if (!result.ok) throw toTRPCError(result.error);
  if (type === "subscription" && isAsyncIterable(result.data)) {
    return { ...result, data: withMappedErrors(result.data) };
  }
  return result;
});

/** Every procedure: verbs do their own authorization, so both tRPC and REST enforce the same rules. */
export const procedure = t.procedure.use(withServices);
