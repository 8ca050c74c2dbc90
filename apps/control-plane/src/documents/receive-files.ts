import { Readable } from "node:stream";
import { AppError } from "@vdb/http/errors";
import { assertCleanInput } from "@vdb/http/input-hygiene";
import { CreateUploadInput } from "@vdb/schemas/documents";
import { newId } from "@vdb/schemas/ids";
import { PLANS, type Plan } from "@vdb/schemas/plans";
import busboy from "busboy";
import type { Ctx } from "../lib/context";

/** At most this many files in one multipart request. */
export const MAX_FILES_PER_REQUEST = 20;
/** Non-file fields (collection, name, chunking…) are short: a bigger one is refused, not truncated. */
const MAX_FIELD_BYTES = 16 * 1024;
const MAX_FIELDS = 32;
/** Part headers and boundaries on top of the files' own bytes. */
const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;

export const blobKeyOf = (tenantId: string, documentId: string) =>
  `tenants/${tenantId}/documents/${documentId}`;
export const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A file already in the blob store under `blobKey`, not yet a document. */
export interface ReceivedFile {
  documentId: string;
  blobKey: string;
  filename: string;
  contentType: string | null;
  sizeBytes: number;
}

export interface ReceivedForm {
  /** Non-file fields, the last value of each name. */
  fields: Record<string, string>;
  files: ReceivedFile[];
}

/** The most bytes a multipart request may carry on `plan`: every file at the plan's size, plus framing. */
export function largestUploadRequest(plan: Plan): number {
  return MAX_FILES_PER_REQUEST * PLANS[plan].maxUploadBytes + MULTIPART_OVERHEAD_BYTES;
}

function tooLargeFile(plan: Plan): AppError {
  const quotas = PLANS[plan];
  return new AppError({
    code: "PAYLOAD_TOO_LARGE",
    message: `A file is over ${megabytes(quotas.maxUploadBytes)}, the ${quotas.title} plan's limit per file. Nothing was stored.`,
  });
}

/**
 * Streams a `multipart/form-data` body: each part named in `fileFields` goes straight into the
 * blob store (as `tenants/<tenant>/documents/<new id>`), cut off with PAYLOAD_TOO_LARGE as soon
 * as it passes the plan's size per file; other parts are short text fields. On any failure the
 * files already stored are deleted and the rest of the body is not read: nothing is left behind.
 * Call `admitFileUpload` (document-admission) first, so nobody's body is read before they are known to be allowed.
 */
export async function receiveFiles({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { tenantId: string; plan: Plan; request: Request; fileFields: string[] };
}): Promise<ReceivedForm> {
  const { tenantId, plan, request, fileFields } = input;
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\b/i.test(contentType) || !request.body) {
    throw new AppError({ code: "BAD_REQUEST", message: "Send the files as multipart/form-data" });
  }
  const declaredLength = Number(request.headers.get("content-length"));
  if (declaredLength > largestUploadRequest(plan)) throw tooLargeFile(plan);

  const { blobs } = ctx.services;
  const maxBytes = PLANS[plan].maxUploadBytes;
  const fields: Record<string, string> = {};
  const files: ReceivedFile[] = [];
  const puts: Promise<unknown>[] = [];
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      limits: { fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, files: MAX_FILES_PER_REQUEST },
    });
  } catch (error) {
    throw new AppError({
      code: "BAD_REQUEST",
      message: "Malformed multipart/form-data: no boundary",
      cause: error,
    });
  }
  const source = Readable.fromWeb(request.body as import("node:stream/web").ReadableStream<Uint8Array>);

  const received = new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => reject(error);
    parser.on("file", (name, stream, info) => {
      if (!fileFields.includes(name)) {
        stream.resume();
        return;
      }
      const filename = info.filename ?? "";
      const checked = CreateUploadInput.safeParse({ tenantId, filename, sizeBytes: 1 });
      if (!checked.success) {
        stream.resume();
        fail(
          new AppError({
            code: "VALIDATION_FAILED",
            message: `file "${filename}": ${checked.error.issues[0]?.message ?? "invalid"}`,
          }),
        );
        return;
      }
      const documentId = newId("document");
      const file: ReceivedFile = {
        documentId,
        blobKey: blobKeyOf(tenantId, documentId),
        filename,
        contentType: info.mimeType && info.mimeType !== "application/octet-stream" ? info.mimeType : null,
        sizeBytes: 0,
      };
      files.push(file);
      const put = blobs
        .put(file.blobKey, stream, {
          maxBytes,
          ...(file.contentType ? { contentType: file.contentType } : {}),
        })
        .then(({ sizeBytes }) => {
          file.sizeBytes = sizeBytes;
        });
      puts.push(put);
      put.catch((error: unknown) =>
        fail(error instanceof AppError && error.code === "PAYLOAD_TOO_LARGE" ? tooLargeFile(plan) : error),
      );
    });
    parser.on("field", (name, value, info) => {
      if (info.valueTruncated) {
        fail(
          new AppError({
            code: "BAD_REQUEST",
            message: `The field "${name}" is over ${MAX_FIELD_BYTES} bytes`,
          }),
        );
        return;
      }
      fields[name] = value;
    });
    parser.on("filesLimit", () =>
      fail(new AppError({ code: "BAD_REQUEST", message: `Send at most ${MAX_FILES_PER_REQUEST} files` })),
    );
    parser.on("fieldsLimit", () =>
      fail(new AppError({ code: "BAD_REQUEST", message: `Send at most ${MAX_FIELDS} form fields` })),
    );
    parser.on("error", (error) =>
      fail(
        new AppError({ code: "BAD_REQUEST", message: "Malformed multipart/form-data body", cause: error }),
      ),
    );
    source.on("error", fail);
    parser.on("close", () => {
      Promise.all(puts).then(() => resolve(), fail);
    });
  });
  source.pipe(parser);

  try {
    await received;
    // The form's text is input like any JSON body's: the same rules.
    assertCleanInput(
      { ...fields, ...Object.fromEntries(files.map((file, i) => [`file.${i}`, file.filename])) },
      "(form)",
    );
    return { fields, files };
  } catch (error) {
    // Stop reading: the rest of the body is never pulled off the socket.
    source.unpipe(parser);
    source.destroy();
    parser.removeAllListeners("file");
    parser.on("error", () => {});
    parser.destroy();
    await Promise.allSettled(puts);
    await deleteReceived(ctx, files);
    throw error;
  }
}

/** Removes files `receiveFiles` stored, when what was to become of them failed. */
export async function deleteReceived(ctx: Ctx, files: ReceivedFile[]): Promise<void> {
  await Promise.all(files.map((file) => ctx.services.blobs.delete(file.blobKey).catch(() => {})));
}
