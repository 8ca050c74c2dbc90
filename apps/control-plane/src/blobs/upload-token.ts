import { createHmac, timingSafeEqual } from "node:crypto";
import { AppError } from "@vdb/http/errors";
import { z } from "zod";
import { assertValidKey } from "./blob-store";

/** What an upload URL of the disk store allows: one key, a size limit, a content type, until `exp`. */
export interface UploadTokenPayload {
  key: string;
  maxBytes: number;
  contentType?: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

// Short field names: the token sits in a URL.
const WireClaims = z.object({
  k: z.string(),
  m: z.number().int().positive(),
  t: z.string().optional(),
  e: z.number().int(),
});

/** Checked when a store is built, so a weak secret is a start-up error rather than a forgeable URL. */
export function assertStrongUploadSecret(secret: string): void {
  if (typeof secret !== "string" || secret.length < 32) {
    throw new Error("The upload URL secret must be at least 32 characters");
  }
}

function signature(secret: string, encodedClaims: string): Buffer {
  // The label keeps these MACs distinct from anything else the same secret might sign.
  return createHmac("sha256", secret).update(`vdb-upload.${encodedClaims}`).digest();
}

/**
 * `<claims>.<mac>`, both base64url: the claims JSON and its HMAC-SHA256 under `secret`.
 *
 * @example
 * const token = signUploadToken(secret, { key, maxBytes: 10_000_000, exp: Math.floor(Date.now() / 1000) + 900 });
 */
export function signUploadToken(secret: string, payload: UploadTokenPayload): string {
  const claims: z.infer<typeof WireClaims> = { k: payload.key, m: payload.maxBytes, e: payload.exp };
  if (payload.contentType !== undefined) claims.t = payload.contentType;
  const encoded = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${encoded}.${signature(secret, encoded).toString("base64url")}`;
}

/**
 * The payload of a token this secret signed: UNAUTHORIZED when it is malformed or forged,
 * FORBIDDEN ("upload URL expired") when its time has passed.
 *
 * @example
 * const { key, maxBytes, contentType } = verifyUploadToken(secret, c.req.param("token"));
 */
export function verifyUploadToken(secret: string, token: string, now = Date.now()): UploadTokenPayload {
  const invalid = new AppError({ code: "UNAUTHORIZED", message: "Invalid upload URL" });
  const [encoded, mac, ...rest] = token.split(".");
  if (!encoded || !mac || rest.length > 0) throw invalid;
  const expected = signature(secret, encoded);
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
  let claims: z.infer<typeof WireClaims>;
  try {
    claims = WireClaims.parse(JSON.parse(Buffer.from(encoded, "base64url").toString("utf8")));
    assertValidKey(claims.k);
  } catch {
    throw invalid; // signed by us yet unreadable: only possible if the format changed
  }
  if (now >= claims.e * 1000) throw new AppError({ code: "FORBIDDEN", message: "upload URL expired" });
  return {
    key: claims.k,
    maxBytes: claims.m,
    exp: claims.e,
    ...(claims.t !== undefined ? { contentType: claims.t } : {}),
  };
}
