import type { Scope } from "@vdb/schemas/auth";

/**
 * Copy-paste code for a tenant's API key, with the console's own address and the key as a
 * placeholder (`$VDB_API_KEY`): the secret itself never lands in a snippet, a shell history or a
 * chat message pasted from it.
 */
export const KEY_PLACEHOLDER = "$VDB_API_KEY";

/** A shell word: single-quoted, with single quotes inside closed, escaped and reopened. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * One REST call as curl: POST `body` as JSON to `/api/v1<path>` on `origin`, with the key from
 * the environment.
 *
 * @example
 * curlCommand("http://127.0.0.1:8787", "/search", { query: "hi" })
 * // curl -s http://127.0.0.1:8787/api/v1/search \
 * //   -H "authorization: Bearer $VDB_API_KEY" -H 'content-type: application/json' \
 * //   -d '{"query":"hi"}'
 */
export function curlCommand(origin: string, path: string, body: unknown): string {
  return [
    `curl -s ${shellQuote(`${origin}/api/v1${path}`)} \\`,
    `  -H "authorization: Bearer ${KEY_PLACEHOLDER}" -H 'content-type: application/json' \\`,
    `  -d ${shellQuote(JSON.stringify(body))}`,
  ].join("\n");
}

export interface SnippetTarget {
  /** Where the console (and so the control plane) answers, e.g. `window.location.origin`. */
  origin: string;
  tenantId: string;
  scopes: readonly Scope[];
}

export type SnippetLanguage = "curl" | "typescript" | "python" | "chromadb";

export function keySnippet(language: SnippetLanguage, target: SnippetTarget): string {
  if (language === "curl") return curlSnippet(target);
  if (language === "typescript") return typescriptSnippet(target);
  if (language === "python") return pythonSnippet(target);
  return chromadbSnippet(target);
}

const canWrite = (scopes: readonly Scope[]) => scopes.some((scope) => scope !== "read");

function curlSnippet({ origin, scopes }: SnippetTarget): string {
  const lines = ["export VDB_API_KEY='<the secret above>'", ""];
  if (canWrite(scopes)) {
    lines.push(
      "# store a record (embedded by the instance's model)",
      curlCommand(origin, "/embed", {
        ids: ["hello-1"],
        documents: ["Hello from VDB"],
        metadatas: [{ source: "snippet" }],
      }),
      "",
    );
  }
  lines.push("# search", curlCommand(origin, "/search", { query: "hello", nResults: 5 }));
  return lines.join("\n");
}

function typescriptSnippet({ origin, tenantId }: SnippetTarget): string {
  return [
    'import { createVdbClient } from "@vdb/client";',
    "",
    `const vdb = createVdbClient({ url: ${JSON.stringify(origin)}, apiKey: process.env.VDB_API_KEY! });`,
    `const tenantId = ${JSON.stringify(tenantId)};`,
    "",
    'const page = await vdb.dataPlane.records.query({ tenantId, request: { collection: "default", limit: 5 } });',
    "console.log(page.count, page.records);",
    "",
    "const { results } = await vdb.dataPlane.search.query({",
    "  tenantId,",
    '  request: { query: "hello", nResults: 5 },',
    "});",
    "for (const hit of results) console.log(hit.score.toFixed(3), hit.id, hit.document);",
  ].join("\n");
}

/** Python 3 with nothing installed: VDB's REST API through urllib, errors printed as VDB words them. */
function pythonSnippet({ origin, scopes }: SnippetTarget): string {
  const lines = [
    "# Python 3, standard library only: VDB's REST API",
    "import json",
    "import os",
    "import urllib.error",
    "import urllib.request",
    "",
    `BASE = ${JSON.stringify(`${origin}/api/v1`)}`,
    "",
    "",
    "def call(path, body):",
    "    request = urllib.request.Request(",
    "        BASE + path,",
    "        data=json.dumps(body).encode(),",
    '        headers={"authorization": "Bearer " + os.environ["VDB_API_KEY"], "content-type": "application/json"},',
    "    )",
    "    try:",
    "        with urllib.request.urlopen(request) as response:",
    "            return json.load(response)",
    "    except urllib.error.HTTPError as error:",
    `        raise SystemExit(f"{error.code}: {json.load(error)['error']['message']}")`,
    "",
    "",
  ];
  if (canWrite(scopes)) {
    lines.push(
      "# store a record (embedded by the instance's model)",
      'call("/embed", {"ids": ["hello-1"], "documents": ["Hello from VDB"], "metadatas": [{"source": "snippet"}]})',
      "",
    );
  }
  lines.push(
    'for hit in call("/search", {"query": "hello", "nResults": 5})["results"]:',
    '    print(f"{hit[\'score\']:.3f}", hit["id"], hit["document"])',
  );
  return lines.join("\n");
}

function chromadbSnippet({ origin, scopes }: SnippetTarget): string {
  const url = new URL(origin);
  const isTls = url.protocol === "https:";
  const port = url.port ? Number(url.port) : isTls ? 443 : 80;
  const lines = [
    "# pip install chromadb  — the stock client, through VDB's Chroma-compatible gateway",
    "import os",
    "import chromadb",
    "",
    "client = chromadb.HttpClient(",
    `    host=${JSON.stringify(url.hostname)},`,
    `    port=${port},`,
    `    ssl=${isTls ? "True" : "False"},`,
    '    headers={"x-chroma-token": os.environ["VDB_API_KEY"]},',
    ")",
    "print([c.name for c in client.list_collections()])",
    'docs = client.get_collection("default")',
    "print(docs.count(), docs.get(limit=5))",
  ];
  if (canWrite(scopes)) {
    lines.push(
      "",
      "# writing through the gateway: bring your own vectors of the collection's dimension",
      '# notes = client.get_or_create_collection("notes", embedding_function=None)',
      '# notes.add(ids=["1"], embeddings=[[0.1, 0.2, 0.3]], documents=["hello"])',
    );
  }
  return lines.join("\n");
}
