import { type SearchHit, SearchMode, type SearchResponse } from "@vdb/schemas/instances";
import { type Command, TENANT_OPTION } from "../command";
import { choiceValue, integerValue, jsonObjectValue, singleArgument, stringValue } from "../option-values";

const SNIPPET_CHARS = 240;

export const search: Command = {
  path: ["search"],
  usage: '"<query>" --tenant <slug|id> [-n <count>] [--mode <mode>] [--where <json>] [--collection <name>]',
  summary: "Search a tenant's documents (hybrid, vector or keyword)",
  options: {
    tenant: TENANT_OPTION,
    results: {
      type: "string",
      short: "n",
      value: "<count>",
      description: "How many results, 1-1000 (default: 5)",
    },
    mode: {
      type: "string",
      value: "<mode>",
      description: "hybrid (default: meaning and words fused), vector (meaning) or keyword (BM25 on words)",
    },
    where: { type: "string", value: "<json>", description: `Metadata filter, e.g. '{"documentId":"doc_…"}'` },
    collection: { type: "string", value: "<name>", description: 'Collection to search (default: "default")' },
  },
  maxArguments: 1,
  examples: [
    'vdb search "how many vacation days" --tenant acme -n 3',
    'vdb search "error E1234" --mode keyword',
    `vdb search "parking" --where '{"title":"faq.html"}'`,
  ],
  prefers: "apiKey",
  async run({ args, values, session }) {
    const query = singleArgument(args, '"<query>"');
    const nResults = integerValue(values, "results", { min: 1, max: 1_000 }) ?? 5;
    const mode = choiceValue(values, "mode", SearchMode.options);
    const where = jsonObjectValue(values, "where");
    const collection = stringValue(values, "collection");
    const tenantRef = stringValue(values, "tenant");
    // An API key implies its tenant: no lookup unless one is named (the server then checks it matches).
    const tenantId =
      tenantRef === undefined && session.requireCredential().kind === "apiKey"
        ? undefined
        : (await session.resolveTenant(tenantRef)).id;
    const response = await session.rest<SearchResponse>("POST", "/search", {
      query: { tenantId },
      body: {
        query,
        nResults,
        ...(mode ? { mode } : {}),
        ...(where ? { where } : {}),
        ...(collection ? { collection } : {}),
      },
    });
    session.print(response, () => {
      if (response.results.length === 0) return "No results.";
      return response.results
        .map((hit, index) => {
          const metadata = hit.metadata ?? {};
          const source = [
            metadata.title ?? metadata.documentId ?? hit.id,
            typeof metadata.page === "number" ? `p. ${metadata.page}` : null,
            typeof metadata.heading === "string" ? metadata.heading : null,
          ]
            .filter(Boolean)
            .join(" · ");
          return `${index + 1}. ${source}${scoresOf(hit, response.mode)}\n   ${hit.id}\n   ${snippet(hit.document ?? "")}`;
        })
        .join("\n\n");
    });
    return 0;
  },
};

/**
 * What ranked the hit, in the API's and the console's words: `score` (what results are ordered by,
 * higher first) with what it is in this mode, and in hybrid beside it the hit's similarity
 * (`vectorScore`, 1 − distance), BM25 (`keywordScore`) and rank in each ranking.
 */
function scoresOf(hit: SearchHit, mode: SearchResponse["mode"]): string {
  if (mode === "vector") return `  (score ${hit.score.toFixed(3)} similarity)`;
  if (mode === "keyword") return `  (score ${hit.score.toFixed(2)} bm25)`;
  const parts = [`score ${hit.score.toFixed(4)} fused`];
  if (typeof hit.vectorScore === "number") parts.push(`similarity ${hit.vectorScore.toFixed(3)}`);
  if (typeof hit.keywordScore === "number") parts.push(`bm25 ${hit.keywordScore.toFixed(2)}`);
  if (hit.ranks) parts.push(`vector #${hit.ranks.vector ?? "-"}, keyword #${hit.ranks.keyword ?? "-"}`);
  return `  (${parts.join("; ")})`;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS - 1)}…` : flat;
}
