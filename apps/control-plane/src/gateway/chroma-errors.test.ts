import { AppError } from "@vdb/http/errors";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { InstanceNotRunningError } from "../data-plane/instance-client";
import { instanceErrorAsChroma, toChromaError } from "./chroma-errors";

describe("toChromaError", () => {
  it("gives each code Chroma's status and the error name its Python client maps, with VDB's message", () => {
    const cases = [
      ["VALIDATION_FAILED", 400, "InvalidArgumentError"],
      ["UNAUTHORIZED", 401, "AuthorizationError"],
      ["FORBIDDEN", 403, "AuthError"],
      ["NOT_FOUND", 404, "NotFoundError"],
      ["PAYLOAD_TOO_LARGE", 413, "BatchSizeExceededError"],
      ["RATE_LIMITED", 429, "RateLimitError"],
      ["SERVICE_UNAVAILABLE", 503, "ChromaError"],
    ] as const;
    for (const [code, status, name] of cases) {
      expect(toChromaError(new AppError({ code, message: "why" }))).toEqual({
        status,
        body: { error: name, message: "why" },
      });
    }
  });

  it("a quota is a 422 whose message starts as the JS client's quota class needs", () => {
    expect(toChromaError(new AppError({ code: "QUOTA_EXCEEDED", message: "10 of 10 documents" }))).toEqual({
      status: 422,
      body: { error: "QuotaError", message: "Quota exceeded: 10 of 10 documents" },
    });
  });

  it("an instance stopped, starting or never launched is a 503, never the REST API's 409", () => {
    for (const isStarting of [true, false]) {
      const answer = toChromaError(
        new InstanceNotRunningError({ message: "The tenant's instance is stopped", isStarting }),
      );
      expect(answer).toEqual({
        status: 503,
        body: { error: "ChromaError", message: "The tenant's instance is stopped" },
      });
    }
  });

  it("bad input and unknown failures: 400 and 500 without leaking an internal message", () => {
    const zod = z.object({ n: z.number() }).safeParse({ n: "x" }).error;
    expect(toChromaError(zod)).toMatchObject({ status: 400, body: { error: "InvalidArgumentError" } });
    const internal = toChromaError(new Error("password=hunter2"));
    expect(internal).toMatchObject({ status: 500, body: { error: "InternalError" } });
    expect(internal.body.message).not.toContain("hunter2");
  });
});

describe("instanceErrorAsChroma", () => {
  it("translates the instance's VDB envelope, and leaves Chroma's own answers alone", () => {
    const envelope = JSON.stringify({
      error: { code: "QUOTA_EXCEEDED", message: "full", requestId: "req_1" },
    });
    expect(instanceErrorAsChroma(envelope)).toEqual({
      status: 422,
      body: { error: "QuotaError", message: "Quota exceeded: full" },
    });
    expect(
      instanceErrorAsChroma('{"error":"NotFoundError","message":"Collection [x] does not exists"}'),
    ).toBeNull();
    expect(instanceErrorAsChroma("Payload too large")).toBeNull();
  });

  it("the instance refusing the control plane's token is a 503, not the caller's 401", () => {
    const envelope = JSON.stringify({
      error: { code: "UNAUTHORIZED", message: "bad token", requestId: "req_1" },
    });
    expect(instanceErrorAsChroma(envelope)).toMatchObject({ status: 503, body: { error: "ChromaError" } });
  });
});
