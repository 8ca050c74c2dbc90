import type { SearchResponse } from "@vdb/schemas/instances";
import { type Command, TENANT_OPTION } from "../command";
import { integerValue, jsonObjectValue, singleArgument, stringValue } from "../option-values";

const SNIPPET_CHARS = 240;

export const search: Command = {
  path: ["search"],
  usage: '"<query>" --tenant <slug|id> [-n <count>] [--where <json>] [--collection <name>]',
  summary: "Semantic search in a tenant's documents",
  options: {
    tenant: TENANT_OPTION,
    results: {
      type: "string",
      short: "n",
      value: "<count>",
      description: "How many results, 1-1000 (default: 5)",
    },
    where: { type: "string", value: "<json>", description: `Metadata filter, e.g. '{"documentId":"doc_…"}'` },
    collection: { type: "string", value: "<name>", description: 'Collection to search (default: "default")' },
  },
  maxArguments: 1,
  examples: [
    'vdb search "how many vacation days" --tenant acme -n 3',
    `vdb search "parking" --where '{"title":"faq.html"}'`,
  ],
  prefers: "apiKey",
  async run({ args, values, session }) {
    const query = singleArgument(args, '"<query>"');
    const nResults = integerValue(values, "results", { min: 1, max: 1_000 }) ?? 5;
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
      body: { query, nResults, ...(where ? { where } : {}), ...(collection ? { collection } : {}) },
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
          const distance = typeof hit.distance === "number" ? `  (distance ${hit.distance.toFixed(3)})` : "";
          return `${index + 1}. ${source}${distance}\n   ${hit.id}\n   ${snippet(hit.document ?? "")}`;
        })
        .join("\n\n");
    });
    return 0;
  },
};

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS - 1)}…` : flat;
}
