import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, retryAfterOf, toHttpError, validationError } from "./errors";

const Input = z.object({ name: z.string(), items: z.array(z.object({ text: z.string() })) });

function zodErrorOf(input: unknown) {
  const parsed = Input.safeParse(input);
  if (parsed.success) throw new Error("expected invalid input");
  return parsed.error;
}

describe("toHttpError", () => {
  it("keeps an AppError's code, message and issues, with the request id", () => {
    const error = new AppError({
      code: "CONFLICT",
      message: "Name taken",
      issues: [{ path: "name", message: "taken" }],
    });
    expect(toHttpError(error, "req_1")).toEqual({
      status: 409,
      body: {
        error: {
          code: "CONFLICT",
          message: "Name taken",
          requestId: "req_1",
          issues: [{ path: "name", message: "taken" }],
        },
      },
    });
  });

  it("gives no issues key to errors without issues", () => {
    const { body } = toHttpError(new AppError({ code: "NOT_FOUND", message: "gone" }), "req_1");
    expect(body.error).not.toHaveProperty("issues");
  });

  it("turns a ZodError into VALIDATION_FAILED with field issues", () => {
    const { status, body } = toHttpError(zodErrorOf({ name: 1, items: [] }), "req_1");
    expect(status).toBe(400);
    expect(body.error.code).toBe("VALIDATION_FAILED");
    expect(body.error.issues?.map((issue) => issue.path)).toEqual(["name"]);
  });

  it.each([
    [413, "PAYLOAD_TOO_LARGE", 413],
    [401, "UNAUTHORIZED", 401],
    [405, "BAD_REQUEST", 400],
  ] as const)("maps an HTTPException %i to %s", (thrown, code, status) => {
    const result = toHttpError(new HTTPException(thrown, { message: "from hono" }), "req_1");
    expect(result.status).toBe(status);
    expect(result.body.error).toMatchObject({ code, message: "from hono" });
  });

  it("turns a 5xx HTTPException into INTERNAL", () => {
    const result = toHttpError(new HTTPException(502, { message: "upstream said no" }), "req_1");
    expect(result.status).toBe(500);
    expect(result.body.error.code).toBe("INTERNAL");
  });

  it("answers INTERNAL for anything else without leaking its message", () => {
    const { status, body } = toHttpError(new Error("password=hunter2 in connection string"), "req_9");
    expect(status).toBe(500);
    expect(body.error.code).toBe("INTERNAL");
    expect(body.error.requestId).toBe("req_9");
    expect(JSON.stringify(body)).not.toContain("hunter2");
  });

  it("answers INTERNAL for thrown non-errors", () => {
    expect(toHttpError("a string", "req_1").body.error.code).toBe("INTERNAL");
  });
});

describe("validationError", () => {
  it("dots nested paths and summarises the first three issues", () => {
    const error = validationError(zodErrorOf({ items: [{ text: 1 }, {}, { text: "ok" }] }));
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.issues?.map((issue) => issue.path)).toEqual(["name", "items.0.text", "items.1.text"]);
    expect(error.message).toMatch(/^Invalid input: name: .+; items\.0\.text: .+; items\.1\.text: .+$/);
  });

  it("names a failure of the whole body (body)", () => {
    const error = validationError(zodErrorOf("not an object"));
    expect(error.issues).toEqual([{ path: "(body)", message: expect.any(String) }]);
  });
});

describe("failed storage writes", () => {
  const withCode = (code: string) => Object.assign(new Error(`write failed: ${code}`), { code });

  it.each([
    ["ENOSPC", 507, "STORAGE_FULL"],
    ["EDQUOT", 507, "STORAGE_FULL"],
    ["53100", 507, "STORAGE_FULL"],
    ["EROFS", 503, "SERVICE_UNAVAILABLE"],
    ["EIO", 503, "SERVICE_UNAVAILABLE"],
  ] as const)("answers %s with %i %s and a message an operator can act on", (code, status, appCode) => {
    const result = toHttpError(withCode(code), "req_1");
    expect(result.status).toBe(status);
    expect(result.body.error.code).toBe(appCode);
    expect(result.body.error.message).toMatch(/operator/);
  });

  it("finds the code on a wrapped cause (a driver's error around the OS's)", () => {
    const wrapped = new Error("query failed", { cause: withCode("ENOSPC") });
    expect(toHttpError(wrapped, "req_1").body.error.code).toBe("STORAGE_FULL");
  });

  it("leaves other errno codes INTERNAL", () => {
    expect(toHttpError(withCode("ECONNRESET"), "req_1").body.error.code).toBe("INTERNAL");
  });
});

describe("retryAfterOf", () => {
  it("gives any error that knows when to try again its whole seconds, and RATE_LIMITED at least 1", () => {
    expect(
      retryAfterOf(new AppError({ code: "SERVICE_UNAVAILABLE", message: "x", retryAfterSeconds: 2.5 })),
    ).toBe(3);
    expect(retryAfterOf(new AppError({ code: "RATE_LIMITED", message: "x" }))).toBe(1);
    expect(retryAfterOf(new AppError({ code: "CONFLICT", message: "x" }))).toBeNull();
  });
});
