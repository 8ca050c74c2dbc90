import { useMutation } from "@tanstack/react-query";
import {
  DEFAULT_COLLECTION,
  type SearchHit,
  type SearchMode,
  SearchRequest,
  type SearchResponse,
} from "@vdb/schemas/instances";
import type { Tenant } from "@vdb/schemas/tenants";
import { type FormEvent, useState } from "react";
import { useOutletContext } from "react-router";
import { CollectionField } from "../components/collection-field";
import { CopyButton } from "../components/copy-button";
import { EmptyState, ErrorMessage } from "../components/feedback";
import { Field } from "../components/field";
import { MetadataFilter } from "../components/metadata-filter";
import { formatScore } from "../lib/format";
import { curlCommand } from "../lib/snippets";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";
import { buildWhere, type Combinator, type Condition } from "../lib/where-builder";

const SEARCH_MODES: { value: SearchMode; label: string }[] = [
  { value: "hybrid", label: "Hybrid (meaning + words)" },
  { value: "vector", label: "Vector (meaning)" },
  { value: "keyword", label: "Keyword (BM25)" },
];

export function SearchPage() {
  const tenant = useOutletContext<Tenant>();
  const [query, setQuery] = useState("");
  const [collection, setCollection] = useState(DEFAULT_COLLECTION);
  const [nResults, setNResults] = useState("5");
  const [mode, setMode] = useState<SearchMode>("hybrid");
  const [conditions, setConditions] = useState<Condition[]>([]);
  const [combinator, setCombinator] = useState<Combinator>("$and");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [conditionErrors, setConditionErrors] = useState<Record<number, string>>({});

  const search = useMutation({
    mutationFn: (request: SearchRequest) => trpc.dataPlane.search.query({ tenantId: tenant.id, request }),
  });

  const built = buildWhere(conditions, combinator);
  const body = {
    query: query.trim() === "" ? undefined : query,
    collection: collection.trim(),
    nResults: Number(nResults),
    mode,
    ...(built.ok && built.where ? { where: built.where } : {}),
  };
  // The same search over REST with an API key (which implies the tenant), as typed so far.
  const curl =
    built.ok && SearchRequest.safeParse(body).success
      ? curlCommand(window.location.origin, "/search", body)
      : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!built.ok) {
      setConditionErrors(built.errors);
      return;
    }
    setConditionErrors({});
    const result = validate(SearchRequest, body);
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    search.mutate(result.data);
  };

  return (
    <div className="stack">
      <section className="panel" aria-labelledby="search-title">
        <h2 id="search-title">Search playground</h2>
        <form onSubmit={submit} noValidate className="stack">
          <Field label="Query" error={errors.query}>
            {(props) => (
              <input
                {...props}
                type="search"
                name="query"
                value={query}
                placeholder="What are you looking for?"
                onChange={(e) => setQuery(e.target.value)}
              />
            )}
          </Field>
          <div className="form-row">
            <CollectionField
              tenantId={tenant.id}
              value={collection}
              onChange={setCollection}
              error={errors.collection}
            />
            <Field label="Results" error={errors.nResults}>
              {(props) => (
                <input
                  {...props}
                  type="number"
                  min={1}
                  max={100}
                  name="nResults"
                  value={nResults}
                  onChange={(e) => setNResults(e.target.value)}
                />
              )}
            </Field>
            <Field label="Mode" error={errors.mode}>
              {(props) => (
                <select
                  {...props}
                  name="mode"
                  value={mode}
                  onChange={(e) => setMode(e.target.value as SearchMode)}
                >
                  {SEARCH_MODES.map(({ value, label }) => (
                    <option key={value} value={value}>
                      {label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <MetadataFilter
            conditions={conditions}
            onConditionsChange={setConditions}
            combinator={combinator}
            onCombinatorChange={setCombinator}
            conditionErrors={conditionErrors}
            error={errors.where}
          />
          <div className="form-actions">
            <button type="submit" disabled={search.isPending}>
              {search.isPending ? "Searching…" : "Search"}
            </button>
            {curl ? <CopyButton text={curl} label="Copy as curl" /> : null}
          </div>
        </form>
      </section>
      {search.error ? <ErrorMessage title="Search failed" error={search.error} /> : null}
      {search.data ? <SearchResults response={search.data} /> : null}
    </div>
  );
}

function SearchResults({ response }: { response: SearchResponse }) {
  return (
    <section className="panel" aria-labelledby="results-title">
      <h2 id="results-title">
        {response.results.length} result{response.results.length === 1 ? "" : "s"} in{" "}
        <code>{response.collection}</code> <span className="muted small">({response.mode} search)</span>
      </h2>
      {response.results.length === 0 ? (
        <EmptyState>Nothing matched. Try another query or loosen the filter.</EmptyState>
      ) : (
        <ol className="results" aria-label="Search results">
          {response.results.map((hit) => (
            <li key={hit.id} className="result">
              <div className="result-head">
                <code className="result-id">{hit.id}</code>
                <HitScores hit={hit} mode={response.mode} />
              </div>
              {hit.document ? <p className="result-text">{hit.document}</p> : null}
              {hit.metadata && Object.keys(hit.metadata).length > 0 ? (
                <dl className="metadata">
                  {Object.entries(hit.metadata).map(([key, value]) => (
                    <div key={key}>
                      <dt>{key}</dt>
                      <dd>{String(value)}</dd>
                    </div>
                  ))}
                </dl>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/**
 * Why a hit is where it is: its vector similarity (1 − distance), its BM25 score, and in hybrid
 * mode its rank in each ranking beside the fused score it is ordered by.
 */
function HitScores({ hit, mode }: { hit: SearchHit; mode: SearchMode }) {
  const similarity = (
    <span className="score" title={`1 − distance (distance ${hit.distance ?? "—"})`}>
      {mode === "vector" ? "score" : "similarity"} <strong>{formatScore(hit.vectorScore)}</strong>
    </span>
  );
  const bm25 = (
    <span className="score" title="BM25 score of the query's words (0: none of them)">
      {mode === "keyword" ? "score (BM25)" : "BM25"} <strong>{formatScore(hit.keywordScore, 2)}</strong>
    </span>
  );
  if (mode === "vector") return similarity;
  if (mode === "keyword") return bm25;
  const rank = (value: number | null | undefined) => (typeof value === "number" ? `#${value}` : "beyond 100");
  return (
    <span className="hit-scores">
      <span className="score" title="Reciprocal rank fusion: the sum of 1 / (60 + rank) over both rankings">
        score <strong>{formatScore(hit.score, 4)}</strong>
      </span>
      <span className="score">
        vector {rank(hit.ranks?.vector)} · {similarity}
      </span>
      <span className="score">
        keyword {rank(hit.ranks?.keyword)} · {bm25}
      </span>
    </span>
  );
}
