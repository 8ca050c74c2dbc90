import { closeConnectionOnError } from "@vdb/http/app-defaults";
import { AppError, toHttpError } from "@vdb/http/errors";
import { newId } from "@vdb/schemas/ids";
import { Hono } from "hono";
import type { Logger } from "pino";
import { type BlobStore, payloadTooLarge } from "./blob-store";
import { verifyUploadToken } from "./upload-token";

/**
 * Where the disk store's upload URLs point. The app's global JSON body limit must not apply
 * under it: these routes enforce each token's own `maxBytes` while streaming.
 */
export const UPLOAD_ROUTE_PREFIX = "/api/v1/uploads/";

/** Set by the control plane's request context when mounted there; absent in a bare test app. */
type UploadEnv = { Variables: { requestId?: string; logger?: Logger } };

/**
 * `PUT /api/v1/uploads/:token`: streams the body into `store` under the token's key, refusing it
 * past the token's `maxBytes`; answers 201 `{ key, sizeBytes }`. The token is the only
 * credential (like an S3 presigned URL). A token can be used again until it expires, and each
 * PUT replaces the object, as a presigned PUT would. When the token names a content type, the
 * request must send exactly it, as S3 requires for a presigned URL signed with one.
 *
 * @example
 * app.route("/", uploadRoutes(blobStore, config.UPLOAD_URL_SECRET));
 */
export function uploadRoutes(store: BlobStore, secret: string) {
  const app = new Hono<UploadEnv>();

  app.put(`${UPLOAD_ROUTE_PREFIX}:token`, closeConnectionOnError, async (c) => {
    const upload = verifyUploadToken(secret, c.req.param("token"));
    const contentType = c.req.header("content-type");
    if (upload.contentType !== undefined && contentType !== upload.contentType) {
      throw new AppError({
        code: "BAD_REQUEST",
        message: `Send the header Content-Type: ${upload.contentType}, as the upload URL was issued for it`,
      });
    }
    const declaredLength = Number(c.req.header("content-length"));
    if (declaredLength > upload.maxBytes) throw payloadTooLarge(upload.maxBytes);
    const { sizeBytes } = await store.put(upload.key, c.req.raw.body ?? new Uint8Array(), {
      maxBytes: upload.maxBytes,
      ...(upload.contentType !== undefined ? { contentType: upload.contentType } : {}),
    });
    return c.json({ key: upload.key, sizeBytes }, 201);
  });

  app.onError((error, c) => {
    const { status, body } = toHttpError(error, c.get("requestId") ?? newId("request"));
    if (status >= 500) c.get("logger")?.error({ err: error }, "upload failed");
    return c.json(body, status as 400);
  });

  return app;
}
