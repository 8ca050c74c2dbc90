import { createRoute } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import {
  DeleteRequest,
  DeleteResponse,
  EmbedRequest,
  EmbedResponse,
  GetRecordsRequest,
  GetRecordsResponse,
  SearchRequest,
  SearchResponse,
} from "@vdb/schemas/instances";
import { requireScope } from "../http/require-scope";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { deleteDocuments } from "./delete-documents";
import { embedDocuments } from "./embed-documents";
import { getRecords } from "./get-records";
import { searchDocuments } from "./search-documents";
import { phaseSince, type SearchPhases } from "./search-phases";

const tags = ["Documents"];

const embed = createRoute({
  method: "post",
  path: "/embed",
  tags,
  summary: "Upsert documents (embedded with the instance's model unless `embeddings` are given); needs write",
  description:
    "Creates the collection on first use, recording the model and dimension. Checks every vector's " +
    "dimension and the instance's MAX_DOCS before writing anything (QUOTA_EXCEEDED, 403). Upserting an " +
    "existing id replaces its document and vector and merges its metadata (Chroma's semantics: the keys " +
    "given replace the stored ones, others stay; null values are ignored).",
  security: SECURITY,
  middleware: [requireScope("write")] as const,
  request: jsonBody(EmbedRequest),
  responses: { 200: jsonContent(EmbedResponse, "Upserted"), ...ERROR_RESPONSES },
});

const search = createRoute({
  method: "post",
  path: "/search",
  tags,
  summary: "Best documents for a query text or vector, best first; needs read",
  description:
    "`mode`: `hybrid` (default for a `query`: vector and BM25 rankings, each 100 deep, fused by reciprocal rank, " +
    "k = 60), `vector` (default for a `queryEmbedding`, and the only mode for one: keyword and hybrid refuse it " +
    "with 400) or `keyword` (BM25 over the collection's documents, stemmed, English stop words dropped). " +
    "`where` and `whereDocument` apply in every mode. Every hit carries `score`, what it is ranked by, higher " +
    "first: similarity 1 − distance (vector), BM25 (keyword), Σ 1/(60 + rank) (hybrid); `vectorScore` " +
    "(similarity) in vector and hybrid mode and `keywordScore` (BM25, 0 without a query word) in keyword and " +
    "hybrid mode, for every hit; hybrid and keyword hits carry `ranks` (place in each ranking, null beyond its " +
    "depth). `distance` is null in keyword mode, which never embeds the query.",
  security: SECURITY,
  middleware: [requireScope("read")] as const,
  request: jsonBody(SearchRequest),
  responses: { 200: jsonContent(SearchResponse, "Matches, best first"), ...ERROR_RESPONSES },
});

const remove = createRoute({
  method: "post",
  path: "/delete",
  tags,
  summary: "Delete documents by ids and/or a metadata filter; needs write",
  security: SECURITY,
  middleware: [requireScope("write")] as const,
  request: jsonBody(DeleteRequest),
  responses: {
    200: jsonContent(DeleteResponse, "How many were deleted, and how many remain"),
    ...ERROR_RESPONSES,
  },
});

const records = createRoute({
  method: "post",
  path: "/records",
  tags,
  summary: "A page of a collection's records (text and metadata) by ids and/or metadata filter; needs read",
  security: SECURITY,
  middleware: [requireScope("read")] as const,
  request: jsonBody(GetRecordsRequest),
  responses: {
    200: jsonContent(GetRecordsResponse, "The records, and the collection's count"),
    ...ERROR_RESPONSES,
  },
});

export const documentsRest = restApp()
  .openapi(embed, async (c) =>
    c.json(await embedDocuments({ ctx: c.get("services"), input: c.req.valid("json") }), 200),
  )
  .openapi(search, async (c) => {
    const ctx = c.get("services");
    if (!ctx.searchPhases) return c.json(await searchDocuments({ ctx, input: c.req.valid("json") }), 200);
    const phases: SearchPhases = {};
    const started = performance.now();
    const answer = await searchDocuments({ ctx, input: c.req.valid("json"), phases });
    const serialising = performance.now();
    const response = c.json(answer, 200);
    phaseSince(phases, "serialise", serialising);
    phaseSince(phases, "total", started);
    ctx.searchPhases.record(answer.mode, phases);
    return response;
  })
  .openapi(remove, async (c) =>
    c.json(await deleteDocuments({ ctx: c.get("services"), input: c.req.valid("json") }), 200),
  )
  .openapi(records, async (c) =>
    c.json(await getRecords({ ctx: c.get("services"), input: c.req.valid("json") }), 200),
  );
